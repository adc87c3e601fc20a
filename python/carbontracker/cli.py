"""The ``carbontracker`` command: the C tool shipped inside this package.

``pip install ./python`` builds the C command-line tool together with the
library and puts it in the package (``carbontracker/_bin/carbontracker``);
the ``carbontracker`` console script installed by pip is :func:`main`, which
runs that tool with the same arguments, stdin, stdout and stderr, and exits
with its exit status::

    carbontracker python train.py
    carbontracker --log_dir ./logs --api_keys '{"electricitymaps": "KEY"}' python train.py
    carbontracker --parse ./logs
    carbontracker --report ./logs/RUN_carbontracker.log --output report.pdf

``python -m carbontracker`` and ``python -m carbontracker.cli`` do the same.
The original's module functions are here too: :func:`main`,
:func:`parse_logs` and :func:`generate_report`.

Which tool runs, in order: the path in the environment variable
``CT_CLI`` (tests, build trees), else the copy inside this package. The
``carbontracker`` found on PATH is never used: it is normally this script.
"""

import os
import signal
import subprocess
import sys

__all__ = ["main", "parse_logs", "generate_report", "cli_path"]

_PKG_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bin", "carbontracker")


def cli_path():
    """Path of the C ``carbontracker`` tool this module runs; raises
    FileNotFoundError (with what to do) when there is none."""
    env = os.environ.get("CT_CLI")
    path = env or _PKG_BIN
    if not os.path.isfile(path):
        where = f"CT_CLI={env}" if env else path
        raise FileNotFoundError(
            f"carbontracker: the command-line tool is missing ({where}): it is built into the package by "
            "`pip install ./python`, or set CT_CLI to a built one (e.g. build/cli/carbontracker)"
        )
    if not os.access(path, os.X_OK):
        raise PermissionError(f"carbontracker: {path} is not executable (reinstall the package)")
    return path


def _run(args):
    """Runs the tool with args in the foreground; returns its exit status
    (128 + N when a signal N ended it, as a shell reports it)."""
    cmd = [cli_path()] + list(args)
    main_thread = hasattr(signal, "pthread_sigmask") and _is_main_thread()
    saved = {}
    try:
        proc = subprocess.Popen(cmd)
    except OSError as e:
        print(f"carbontracker: cannot run {cmd[0]}: {e}", file=sys.stderr)
        return 126
    if main_thread:
        # The terminal sends Ctrl-C / Ctrl-\ to the whole foreground group: the
        # tool handles them (it forwards them to the wrapped command and reports
        # what was measured); this process only waits for it.
        for sig in (signal.SIGINT, signal.SIGQUIT):
            saved[sig] = signal.signal(sig, signal.SIG_IGN)
        # A plain kill of this process (e.g. a batch system's SIGTERM) goes to the tool.
        saved[signal.SIGTERM] = signal.signal(signal.SIGTERM, lambda s, f: proc.send_signal(s))
    try:
        while True:
            try:
                rc = proc.wait()
                break
            except KeyboardInterrupt:  # pragma: no cover - SIGINT is ignored above
                continue
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    return 128 - rc if rc < 0 else rc


def _is_main_thread():
    import threading

    return threading.current_thread() is threading.main_thread()


def main(argv=None):
    """The ``carbontracker`` command (the original's entry point,
    ``carbontracker.cli:main``). argv: the arguments without the program name
    (default ``sys.argv[1:]``). Returns the tool's exit status, which the
    console script passes to ``sys.exit``."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        return _run(args)
    except (FileNotFoundError, PermissionError) as e:
        print(e, file=sys.stderr)
        return 127


def parse_logs(log_dir):
    """The original's ``cli.parse_logs``: prints the aggregate sentence of
    the logs in log_dir (``carbontracker --parse DIR``)."""
    from . import parser

    parser.print_aggregate(log_dir=log_dir)


def generate_report(log_file, output_pdf):
    """The original's ``cli.generate_report``: a PDF report of one log file
    (``carbontracker --report LOG --output PDF``)."""
    if not os.path.exists(log_file):
        print(f"Error: Log file {log_file} does not exist")
        return
    from .report import generate_report_from_log

    generate_report_from_log(log_file, output_pdf)
    print(f"Report generated: {output_pdf}")


if __name__ == "__main__":
    sys.exit(main())
