"""Reports of one run (the original's ``carbontracker.report`` module).

:func:`generate_report_from_log` renders a report of one log file with the C
library (``ct_report_render``): the input is a standard text log
(``..._carbontracker.log``) or a JSON Lines log (``..._carbontracker.jsonl``);
the output is a PDF (summary and plots), or the plots alone as PNG or SVG,
chosen by the file extension. It needs a library built with cairo
(``carbontracker.library_features()`` lists "cairo"); without it
:class:`carbontracker.exceptions.NotSupportedError` is raised.
"""

import os

__all__ = ["generate_report_from_log", "format_duration"]


def format_duration(seconds):
    """A duration as the original's report writes it: "1h 2min 3s", "45s"."""
    seconds = max(0.0, float(seconds))
    hours = int(seconds // 3600)
    minutes = int((seconds % 3600) // 60)
    secs = int(seconds % 60)
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}min")
    if secs or not parts:
        parts.append(f"{secs}s")
    return " ".join(parts)


def generate_report_from_log(log_file_path, output_path):
    """Writes the report of the run in log_file_path to output_path (.pdf,
    .png or .svg). Raises FileNotFoundError for a missing log and a
    :class:`carbontracker.exceptions.CarbonTrackerError` subclass when the
    library cannot make the report (NotSupportedError: built without cairo)."""
    from . import _capi
    from .exceptions import error_class

    if not os.path.exists(log_file_path):
        raise FileNotFoundError(f"Log file {log_file_path} does not exist")
    rc, msg = _capi.report_render_code(os.fsencode(log_file_path), os.fsencode(output_path))
    if rc:
        names = {v: k for k, v in _capi.ERRORS.items()}
        name = names.get(rc, str(rc))
        raise error_class(name)(msg or _capi.strerror(rc), rc, name)
