"""`pip install` gives the whole tool (issue 11, item 1): the `carbontracker`
command runs the C tool shipped in the package; carbontracker.cli and
carbontracker.report have the original's entry points."""

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
import warnings

import _support

LIB = _support.use_library()
CLI = _support.use_cli()

import carbontracker  # noqa: E402
from carbontracker import cli, report  # noqa: E402
from carbontracker.exceptions import CarbonTrackerError, NotSupportedError  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
INSTALLED = os.environ.get("CT_TEST_INSTALLED") == "1"


def run(args, **kw):
    env = _support.child_env()
    env.update(kw.pop("env", {}))
    return subprocess.run([sys.executable] + args, env=env, capture_output=True, text=True, timeout=120, **kw)


class Command(unittest.TestCase):
    def test_module_runs_the_c_tool(self):
        for mod in ("carbontracker", "carbontracker.cli"):
            with self.subTest(mod=mod):
                p = run(["-m", mod, "--version"])
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stdout.split("\n")[0], "carbontracker " + carbontracker.library_version())

    def test_wraps_a_command_with_the_originals_flags(self):
        # The original's invocation: no "--", --sim-cpu/--sim-cpu-tdp, --log_dir; the command's exit code comes back.
        logs = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, logs, True)
        p = run(["-m", "carbontracker", "--log_dir", logs, "--sim-cpu", "FakeCPU", "--sim-cpu-tdp", "10",
                 sys.executable, "-c", "print('hello from the training'); raise SystemExit(3)"],
                env={"CT_OFFLINE": "1", "CT_COUNTRY": "DK"})
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("hello from the training\n", p.stdout)
        self.assertIn("CarbonTracker: The following components were found: CPU with device(s) FakeCPU.", p.stdout)
        self.assertIn("Finished monitoring.", p.stdout)
        self.assertTrue([f for f in os.listdir(logs) if f.endswith("_carbontracker.log")], os.listdir(logs))

    def test_parse_flag(self):
        p = run(["-m", "carbontracker", "--parse", os.path.join(FIXTURES, "logs_mixed")])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("The training of models in this work is estimated to use", p.stdout)

    def test_signal_status(self):
        # A tool killed by a signal gives 128 + N, as a shell reports it.
        p = run(["-c", "import os, signal, sys\n"
                       "from carbontracker import cli\n"
                       "os.environ['CT_CLI'] = sys.argv[1]\n"
                       "sys.exit(cli.main([]))", "/bin/sh"],
                input="kill -TERM $$\n")
        self.assertEqual(p.returncode, 128 + signal.SIGTERM, p.stderr)

    def test_missing_tool(self):
        p = run(["-m", "carbontracker", "--version"], env={"CT_CLI": "/nonexistent/carbontracker"})
        self.assertEqual(p.returncode, 127)
        self.assertIn("/nonexistent/carbontracker", p.stderr)
        self.assertIn("pip install ./python", p.stderr)

    @unittest.skipUnless(INSTALLED, "needs the installed package")
    def test_console_script_installed(self):
        exe = os.path.join(os.path.dirname(sys.executable), "carbontracker")
        self.assertTrue(os.access(exe, os.X_OK), exe)
        env = dict(os.environ)
        env.pop("CT_CLI", None)
        p = subprocess.run([exe, "--version"], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("carbontracker "))
        shipped = os.path.join(os.path.dirname(carbontracker.__file__), "_bin", "carbontracker")
        self.assertEqual(cli.cli_path(), shipped)
        self.assertTrue(os.access(shipped, os.X_OK))


class OriginalFunctions(unittest.TestCase):
    def test_main_takes_argv(self):
        import inspect

        self.assertEqual(list(inspect.signature(cli.main).parameters), ["argv"])
        self.assertIsNone(inspect.signature(cli.main).parameters["argv"].default)

    def test_parse_logs(self):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fixture's unpaired logs
            cli.parse_logs(os.path.join(FIXTURES, "logs_mixed"))
        self.assertIn("The training of models in this work is estimated to use", buf.getvalue())

    def test_generate_report_missing_log(self):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            cli.generate_report("/nonexistent/x_carbontracker.log", "out.pdf")
        self.assertEqual(buf.getvalue(), "Error: Log file /nonexistent/x_carbontracker.log does not exist\n")
        self.assertFalse(os.path.exists("out.pdf"))


class Report(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.log = os.path.join(FIXTURES, "logs_mixed", "1001.123456_2026-11-26T143241Z_carbontracker.log")

    def test_pdf_from_a_text_log(self):
        if "cairo" not in carbontracker.library_features():
            with self.assertRaises(NotSupportedError):
                report.generate_report_from_log(self.log, os.path.join(self.dir, "r.pdf"))
            self.skipTest("library built without cairo")
        out = os.path.join(self.dir, "r.pdf")
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            cli.generate_report(self.log, out)
        self.assertEqual(buf.getvalue(), f"Report generated: {out}\n")
        with open(out, "rb") as f:
            self.assertEqual(f.read(5), b"%PDF-")

    def test_errors(self):
        with self.assertRaises(FileNotFoundError):
            report.generate_report_from_log(os.path.join(self.dir, "none.log"), os.path.join(self.dir, "r.pdf"))
        empty = os.path.join(self.dir, "empty_carbontracker.log")
        open(empty, "w").close()
        with self.assertRaises(CarbonTrackerError):
            report.generate_report_from_log(empty, os.path.join(self.dir, "r.pdf"))

    def test_format_duration(self):
        self.assertEqual(report.format_duration(3723), "1h 2min 3s")
        self.assertEqual(report.format_duration(45.9), "45s")
        self.assertEqual(report.format_duration(0), "0s")
        self.assertEqual(report.format_duration(120), "2min")


if __name__ == "__main__":
    unittest.main()
