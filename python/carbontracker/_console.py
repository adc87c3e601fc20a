"""What a CarbonTracker prints, written through Python's sys.stdout.

The C library prints with C stdio (file descriptor 1), which
``contextlib.redirect_stdout``, pytest's capsys and Jupyter do not see. So the
package hands the library an output function (``ct_config.output_fn``): the
library decides what to print, at the verbosity asked for, in the original's
words (the components found, warnings, the predicted and the actual
consumption blocks, "Finished monitoring.", at verbose 2 the carbon
intensity), and this module writes each message, with the original's
``CarbonTracker: `` prefix, to whatever ``sys.stdout`` is at that moment.

The library may call it from its measurement thread (a warning), never while
it holds the tracker's lock; ctypes takes the GIL for the call.
"""

import re
import sys

from . import _capi

PREFIX = "CarbonTracker: "


def timestring(seconds):
    """The original's console duration: h:mm:ss, seconds rounded half to even
    as Python's round() does (7.907 s -> 0:00:08; 0.5 s -> 0:00:00). The
    library rounds the same way; kept for users of this helper."""
    negative = seconds < 0
    seconds = abs(seconds)
    m, s = divmod(seconds, 60)
    s = int(round(s))
    if s == 60:
        m += 1
        s = 0
    h, m = divmod(m, 60)
    text = f"{int(h):d}:{int(m):02d}:{s:02d}"
    return "-" + text if negative else text


def emit(text):
    """One message, as the original's logger prints it, to the current sys.stdout."""
    out = sys.stdout
    if out is None:  # pythonw, a closed stream
        return
    try:
        out.write(PREFIX + text + "\n")
        out.flush()
    except (OSError, ValueError):  # a closed pipe or file: never fail the training over output
        pass


# The library's budget warning: the package reports a budget as a Python
# warning (BudgetExceededWarning) or error instead, with the same text, so it
# is said once.
_BUDGET_WARNING = re.compile(r"WARNING - (actual|predicted) (energy|CO2eq) \S+ \S+ (\(\S+\) )?exceeds the \2 budget of ")


def _on_output(_user, _level, text):
    # Called by the library (ct_output_fn); an exception must not escape into C.
    try:
        msg = text.decode("utf-8", "replace") if text else ""
        if _BUDGET_WARNING.match(msg):
            return
        emit(msg)
    except Exception:  # pragma: no cover - never fail the training over output
        pass


class Output:
    """The library's output function for one tracker. It must stay alive as
    long as the C tracker (the library keeps only the pointer): the
    finalizer that frees the tracker holds it, so the messages printed while
    the tracker is freed still arrive."""

    def __init__(self):
        self.fn = _capi.OUTPUT_FN(_on_output)


def free_tracker(output, free, handle, pid):
    """Finalizer of a CarbonTracker: frees the C tracker (which stops it and
    reports what was measured, through `output`); only in the process that
    created it (a forked child has a copy of the pointer but not the
    measurement thread)."""
    import os

    if os.getpid() != pid:
        return
    free(handle)
    output.fn = None  # only now: the library is done with it
