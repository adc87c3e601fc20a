"""The original carbontracker's public behaviour, as its users and its own test
suite rely on it (issue 11, item 2): exceptions constructible with the
original's arguments, arguments kept as attributes as given, float epochs,
out-of-order calls that warn and carry on, console text through sys.stdout
in the original's words, a version that meets `carbontracker>=2`."""

import contextlib
import shutil
import tempfile
import io
import os
import re
import subprocess
import sys
import textwrap
import unittest
import warnings

import _support
from _support import FakeRapl

LIB = _support.use_library()

import carbontracker  # noqa: E402
from carbontracker import exceptions  # noqa: E402
from carbontracker.exceptions import CarbonTrackerWarning, StateError  # noqa: E402
from carbontracker.tracker import CarbonTracker  # noqa: E402


def tracker(**kw):
    """A tracker on the fake RAPL zone: fixed intensity, no thread wake-ups."""
    args = dict(epochs=2, components="cpu", update_interval=3600, carbon_intensity=200.0, pue=1.5, offline=True)
    args.update(kw)
    return CarbonTracker(**args)


class RaplCase(unittest.TestCase):
    def setUp(self):
        self.rapl = FakeRapl()
        self.addCleanup(self.rapl.close)


class Exceptions(unittest.TestCase):
    """Each of the original's exception classes, raised as its users raise it."""

    def test_raised_without_arguments(self):
        for name in ("NoComponentsAvailableError", "GPUPowerUsageRetrievalError", "CarbonIntensityFetcherError",
                     "IPLocationError", "GPUError", "CPUError", "ComponentNameError", "FetcherNameError",
                     "MismatchedLogFilesError", "MismatchedEpochsError"):
            cls = getattr(exceptions, name)
            with self.subTest(name=name):
                with self.assertRaises(cls):
                    raise cls  # the class itself, as `raise exceptions.GPUError`
                with self.assertRaises(cls):
                    raise cls()

    def test_no_components_default_message(self):
        e = exceptions.NoComponentsAvailableError()
        self.assertIn("No components were available", str(e))
        self.assertEqual(str(exceptions.NoComponentsAvailableError("none here")), "none here")

    def test_unit_error(self):
        e = exceptions.UnitError("Expected", "Received", "Message")
        self.assertEqual((e.expected_unit, e.received_unit, e.message), ("Expected", "Received", "Message"))
        with self.assertRaises(exceptions.UnitError):
            raise e

    def test_intel_rapl_permission_error(self):
        e = exceptions.IntelRaplPermissionError(file_names=["file1", "file2"])
        self.assertEqual(e.file_names, ["file1", "file2"])
        with self.assertRaises(exceptions.IntelRaplPermissionError):
            raise e
        self.assertEqual(exceptions.IntelRaplPermissionError(["a"]).file_names, ["a"])

    def test_still_carbontracker_errors(self):
        # Code catching this package's base class catches the original's names too.
        self.assertIsInstance(exceptions.GPUError(), exceptions.CarbonTrackerError)
        self.assertIsInstance(exceptions.ComponentNameError(), ValueError)


class Attributes(RaplCase):
    def test_arguments_kept_as_given(self):
        given = dict(epochs=5, epochs_before_pred=2, monitor_epochs=-1, update_interval=3600, components="cpu",
                     devices_by_pid=False, log_dir=None, log_file_prefix="exp", api_keys=None, verbose=0,
                     decimal_precision=4, interpretable=False, stop_and_confirm=False, ignore_errors=False)
        t = CarbonTracker(**given, carbon_intensity=100.0, offline=True)
        self.addCleanup(t.close)
        for name, value in given.items():
            self.assertEqual(getattr(t, name), value, name)
        self.assertEqual(t.monitor_epochs, -1)  # not resolved to 5, as in the original

    def test_log_dir_and_api_keys_as_given(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d, True)
        keys = {"electricitymaps": "KEY"}
        t = tracker(log_dir=d, api_keys=keys, verbose=0)
        self.addCleanup(t.close)
        self.assertEqual(t.log_dir, d)
        self.assertIs(t.api_keys, keys)

    def test_simulated_components(self):
        # The original's test: sim_cpu with its TDP; the GPU's attributes stay None.
        t = CarbonTracker(epochs=1, sim_cpu="FakeCPU", sim_cpu_tdp=100, components="cpu", verbose=0,
                          carbon_intensity=100.0, offline=True, update_interval=3600)
        self.addCleanup(t.close)
        self.assertEqual((t.sim_cpu, t.sim_cpu_tdp), ("FakeCPU", 100))
        self.assertIsNone(t.sim_gpu)
        self.assertIsNone(t.sim_gpu_watts)
        self.assertIsNone(t.sim_cpu_util)

    def test_simulated_without_power_is_a_value_error_naming_both(self):
        for kw, names in ((dict(sim_cpu="FakeCPU"), ("sim_cpu", "sim_cpu_tdp")),
                          (dict(sim_gpu="FakeGPU"), ("sim_gpu", "sim_gpu_watts")),
                          (dict(sim_cpu="FakeCPU", sim_gpu="FakeGPU", sim_gpu_watts=200), ("sim_cpu", "sim_cpu_tdp"))):
            with self.subTest(kw=kw):
                with self.assertRaises(ValueError) as cm:
                    CarbonTracker(epochs=1, verbose=0, **kw)
                for n in names:
                    self.assertIn(n, str(cm.exception))


class Epochs(RaplCase):
    def test_float_epochs(self):
        t = tracker(epochs=3.0, verbose=0)
        self.addCleanup(t.close)
        self.assertEqual(t.epochs, 3.0)
        for _ in range(3):
            t.epoch_start()
            self.rapl.add_uj(1_000_000)
            t.epoch_end()
        self.assertEqual(t.actual.epochs, 3)
        self.assertTrue(t.deleted)  # all monitored: the tracker stopped itself

    def test_fractional_epochs_measure_the_epoch_loops(self):
        # transformers' num_train_epochs=2.5 runs 3 epoch loops (the last one partial).
        t = tracker(epochs=2.5, verbose=0)
        self.addCleanup(t.close)
        self.assertEqual(t.epochs, 2.5)
        t.epoch_start()
        self.rapl.add_uj(3_000_000)
        t.epoch_end()
        self.assertEqual(t.predicted.epochs, 3)

    def test_epochs_must_be_numbers(self):
        for bad in ("3", float("nan"), float("inf"), None):
            with self.subTest(epochs=bad):
                with self.assertRaises(ValueError):
                    tracker(epochs=bad, verbose=0)
        with self.assertRaises(ValueError):
            tracker(epochs=3, epochs_before_pred=1.5, verbose=0)  # only epochs may be fractional

    def test_epoch_start_twice_warns_and_carries_on(self):
        t = tracker(verbose=0)
        self.addCleanup(t.close)
        t.epoch_start()
        self.rapl.add_uj(1_000_000)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t.epoch_start()
        self.assertEqual([x.category for x in w], [CarbonTrackerWarning])
        self.assertIn("epoch_start", str(w[0].message))
        self.assertEqual(w[0].filename, __file__)  # points at the caller
        self.rapl.add_uj(1_000_000)
        t.epoch_end()
        self.assertEqual(len(t.epoch_results), 1)
        self.assertAlmostEqual(t.epoch_results[0].energy_j["cpu"], 2.0, delta=1e-9)

    def test_epoch_end_without_start_warns_and_carries_on(self):
        t = tracker(verbose=0)
        self.addCleanup(t.close)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t.epoch_end()
        self.assertEqual([x.category for x in w], [CarbonTrackerWarning])
        self.assertEqual(t.epoch_results, [])
        self.assertFalse(t.deleted)
        t.epoch_start()
        self.rapl.add_uj(1_000_000)
        t.epoch_end()
        self.assertEqual(len(t.epoch_results), 1)

    def test_strict_raises(self):
        t = tracker(verbose=0, strict=True)
        self.addCleanup(t.close)
        with self.assertRaises(StateError):
            t.epoch_end()
        t.epoch_start()
        with self.assertRaises(StateError):
            t.epoch_start()


def run_python(code, **kw):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_support.PYDIR if os.environ.get("CT_TEST_INSTALLED") != "1"
                                                    else "", os.path.dirname(__file__)) if p)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=120, **kw)


class Console(RaplCase):
    def run_two_epochs(self, **kw):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            t = tracker(**kw)
            for _ in range(2):
                t.epoch_start()
                self.rapl.add_uj(3_600_000)  # 3.6 J = 1e-6 kWh
                t.epoch_end()
        self.addCleanup(t.close)
        return t, buf.getvalue()

    def test_redirect_stdout_captures_the_original_text(self):
        t, out = self.run_two_epochs(decimal_precision=6)
        pred, act = t.predicted, t.actual
        # Ours, not the original's: one entry after the prediction block with
        # its 90 % interval and the intensity it used (issue 12). Checked
        # present, then the rest must be the original's text exactly.
        extra = re.search(r"CarbonTracker: \t90 % interval:\t[^\n]* kWh, [^\n]* g CO2eq\n\tIntensity:\t[^\n]*\n", out)
        self.assertIsNotNone(extra, out)
        out = out[:extra.start()] + out[extra.end():]
        self.assertEqual(
            out,
            "CarbonTracker: The following components were found: CPU with device(s) cpu:0.\n"
            "CarbonTracker: \nPredicted consumption for 2 epoch(s):\n"
            f"\tTime:\t{self.timestring(pred.duration_s)}\n"
            "\tEnergy:\t0.000003 kWh\n"
            "\tCO2eq:\t0.000600 g\n"
            "\tThis is equivalent to:\n"
            f"\t{pred.equivalents['km travelled by car']:.6f} km travelled by car\n"
            "CarbonTracker: \nActual consumption for 2 epoch(s):\n"
            f"\tTime:\t{self.timestring(act.duration_s)}\n"
            "\tEnergy:\t0.000003 kWh\n"
            "\tCO2eq:\t0.000600 g\n"
            "\tThis is equivalent to:\n"
            f"\t{act.equivalents['km travelled by car']:.6f} km travelled by car\n"
            "CarbonTracker: Finished monitoring.\n",
        )

    @staticmethod
    def timestring(s):
        from carbontracker._console import timestring

        return timestring(s)

    def test_nothing_on_file_descriptor_1(self):
        # The library itself prints nothing: all the text went to the redirected sys.stdout.
        p = run_python("""
            import contextlib, io, sys
            from _support import FakeRapl
            r = FakeRapl()
            from carbontracker.tracker import CarbonTracker
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                t = CarbonTracker(epochs=1, components="cpu", update_interval=3600, carbon_intensity=100.0,
                                  offline=True)
                t.epoch_start(); r.add_uj(1000000); t.epoch_end()
            r.close()
            sys.stderr.write(buf.getvalue())
        """)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertIn("CarbonTracker: Finished monitoring.", p.stderr)

    def test_precision_and_interpretable(self):
        _, out = self.run_two_epochs(decimal_precision=3, interpretable=False)
        self.assertIn("\tEnergy:\t0.000 kWh\n\tCO2eq:\t0.001 g\nCarbonTracker: ", out)
        self.assertNotIn("equivalent", out)

    def test_verbose_0_prints_nothing(self):
        _, out = self.run_two_epochs(verbose=0)
        self.assertEqual(out, "")

    def test_verbose_2_adds_intensity(self):
        _, out = self.run_two_epochs(verbose=2)
        self.assertIn("CarbonTracker: Predicted average carbon intensity: 200.00 gCO2eq/kWh", out)
        self.assertIn("CarbonTracker: Average carbon intensity: 200.00 gCO2eq/kWh", out)

    def test_no_prediction_wording(self):
        # epochs_before_pred=0 (the original's CLI): no prediction, "Actual consumption:".
        _, out = self.run_two_epochs(epochs_before_pred=0)
        self.assertNotIn("Predicted", out)
        self.assertIn("CarbonTracker: \nActual consumption:\n\tTime:", out)

    def test_stop_reports_actual(self):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            t = tracker(epochs=5, epochs_before_pred=3)
            t.epoch_start()
            self.rapl.add_uj(1_000_000)
            t.epoch_end()
            t.stop()
        self.addCleanup(t.close)
        out = buf.getvalue()
        self.assertNotIn("Predicted", out)
        self.assertIn("Actual consumption for 1 epoch(s):", out)
        self.assertTrue(out.endswith("CarbonTracker: Finished monitoring.\n"), out)
        self.assertEqual(out.count("Finished monitoring."), 1)

    def test_lost_device_warns_on_stdout(self):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            t = tracker(epochs=3)
            t.epoch_start()
            os.unlink(self.rapl.counter_path)
            t.epoch_end()
            t.epoch_start()
            t.epoch_end()
            t.stop()
        self.addCleanup(t.close)
        # The library's own warnings (from its output function), each once.
        lines = [ln for ln in buf.getvalue().splitlines() if "WARNING" in ln]
        self.assertEqual(len(lines), 2, lines)
        self.assertTrue(lines[0].startswith("CarbonTracker: WARNING - RAPL zone intel-rapl:0 (package-0, device cpu:0) "
                                            "was removed: its energy so far ("), lines)
        self.assertEqual(lines[1], "CarbonTracker: WARNING - the rapl energy source failed; its devices keep the "
                                   "energy measured so far")

    def test_missing_gpu_said_at_verbose_2(self):
        empty = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, empty)
        from unittest import mock

        with mock.patch.dict(os.environ, {"CT_NVML_LIBRARY": "/nonexistent/libnvidia-ml.so.1", "CT_DRM_ROOT": empty}):
            for verbose, expect in ((1, False), (2, True)):
                buf = io.StringIO()
                with contextlib.redirect_stdout(buf):
                    t = tracker(components="all", verbose=verbose)
                    t.close()
                # the library's information (level 2), with the reason
                self.assertEqual("CarbonTracker: No GPU energy source available (NVIDIA GPU: " in buf.getvalue(), expect,
                                 buf.getvalue())

    def test_library_warnings_reach_sys_stdout(self):
        # A warning the library prints while it creates the tracker (an
        # unusable log_dir) arrives through sys.stdout, not file descriptor 1.
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        with open(os.path.join(d, "file"), "w") as f:
            f.write("x")
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            t = tracker(log_dir=os.path.join(d, "file", "logs"))
            t.close()
        self.assertIn("CarbonTracker: WARNING - cannot create log_dir", buf.getvalue())

    def test_verbose_2_intensity_at_start(self):
        _, out = self.run_two_epochs(verbose=2)
        self.assertIn("CarbonTracker: Carbon intensity at start: 200.00 gCO2eq/kWh", out)

    def test_output_function_outlives_the_object(self):
        # Collected without stop(): the library reports the actual consumption
        # while it frees the tracker, through the output function, which must
        # still be alive then.
        import gc

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            t = tracker(epochs=3)
            t.epoch_start()
            self.rapl.add_uj(1_000_000)
            t.epoch_end()
            del t
            gc.collect()
        out = buf.getvalue()
        self.assertIn("CarbonTracker: \nActual consumption for 1 epoch(s):\n", out)
        self.assertTrue(out.endswith("CarbonTracker: Finished monitoring.\n"), out)

    def test_time_rounded_as_the_original(self):
        from carbontracker._console import timestring

        for seconds, text in ((7.907, "0:00:08"), (7.4, "0:00:07"), (59.6, "0:01:00"), (3599.5, "1:00:00"),
                              (10342.2, "2:52:22"), (0, "0:00:00")):
            self.assertEqual(timestring(seconds), text, seconds)

    def test_status_line_off_in_process(self):
        # stderr a terminal, verbose 1: the library's default would draw its status line there.
        import pty  # noqa: F401  (POSIX only)

        master, slave = os.openpty()
        code = textwrap.dedent("""
            import time
            from _support import FakeRapl
            r = FakeRapl()
            from carbontracker.tracker import CarbonTracker
            t = CarbonTracker(epochs=2, components="cpu", update_interval=0.02, carbon_intensity=100.0, offline=True)
            t.epoch_start()
            time.sleep(0.5)
            t.epoch_end()
            t.stop()
            r.close()
        """)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_support.PYDIR if os.environ.get("CT_TEST_INSTALLED") != "1" else "",
                        os.path.dirname(__file__)) if p)
        p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=slave, env=env)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        self.assertEqual(p.wait(timeout=60), 0)
        err = b"".join(chunks).decode(errors="replace")
        self.assertNotIn("elapsed", err)
        self.assertNotIn("\x1b[K", err)


class Version(unittest.TestCase):
    def test_meets_carbontracker_2(self):
        m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)\+c\.(\d+\.\d+\.\d+)", carbontracker.__version__)
        self.assertIsNotNone(m, carbontracker.__version__)
        self.assertGreaterEqual(int(m.group(1)), 2)
        # The local part is the C library's version.
        self.assertEqual(m.group(4), carbontracker.library_version())

    def test_pyproject_agrees(self):
        with open(os.path.join(_support.PYDIR, "pyproject.toml")) as f:
            text = f.read()
        self.assertIn(f'version = "{carbontracker.__version__}"', text)

    @unittest.skipUnless(os.environ.get("CT_TEST_INSTALLED") == "1", "needs the installed package")
    def test_installed_metadata(self):
        from importlib import metadata

        self.assertEqual(metadata.version("carbontracker"), carbontracker.__version__)


class Readme(RaplCase):
    def test_readme_python_snippet_uses_only_the_originals_api(self):
        """The README's diff, applied to a loop, runs here; it uses only names the original has."""
        with open(os.path.join(_support.REPO, "README.md")) as f:
            text = f.read()
        m = re.search(r"```diff\n(.*?)```", text, re.S)
        self.assertIsNotNone(m)
        lines = [ln[1:] for ln in m.group(1).splitlines()]
        code = "\n".join(lines).replace("train_one_epoch(model, loader)", "rapl.add_uj(1000000)")
        self.assertNotIn("tracker.epoch()", code)
        self.assertNotIn("with ", code)
        buf = io.StringIO()
        env = {"max_epochs": 2, "rapl": self.rapl}
        with contextlib.redirect_stdout(buf):
            exec(compile(code, "README.md", "exec"), env)
        self.assertEqual(env["tracker"].actual.epochs, 2)
        self.assertIn("Actual consumption for 2 epoch(s):", buf.getvalue())
        env["tracker"].close()


if __name__ == "__main__":
    unittest.main()
