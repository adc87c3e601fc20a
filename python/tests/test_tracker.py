"""CarbonTracker over the C library, with a fake RAPL tree whose counter the
test advances by known amounts: every energy below is known exactly."""

import builtins
import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import warnings
from unittest import mock

import _support
from _support import FakeRapl

LIB = _support.use_library()

from carbontracker import _capi, parser  # noqa: E402
from carbontracker import tracker as tracker_mod  # noqa: E402
from carbontracker.exceptions import (  # noqa: E402
    BudgetExceededError,
    BudgetExceededWarning,
    CarbonTrackerError,
    CarbonTrackerWarning,
    FetcherNameError,
    InvalidArgumentError,
    LibraryError,
    NoComponentsAvailableError,
    StateError,
    TrainingDeclined,
)
from carbontracker.tracker import CarbonTracker  # noqa: E402

HEADER = os.path.join(_support.REPO, "include", "carbontracker.h")
J_PER_KWH = 3.6e6


def rapl_tracker(**kw):
    """A tracker on the fake RAPL zone only: fixed intensity, no output, no thread wake-ups."""
    args = dict(epochs=4, components="cpu", verbose=0, update_interval=3600, carbon_intensity=200.0,
                pue=1.5, offline=True)
    args.update(kw)
    return CarbonTracker(**args)


class RaplCase(unittest.TestCase):
    def setUp(self):
        self.rapl = FakeRapl()
        self.addCleanup(self.rapl.close)


class Layout(unittest.TestCase):
    def test_sizes_match_c(self):
        lib = _capi.lib()
        for name, cls in _capi.STRUCTS.items():
            self.assertEqual(lib.ct_sizeof(name.encode()), ctypes.sizeof(cls), name)
        self.assertEqual(lib.ct_sizeof(b"no_such_struct"), 0)

    def test_fields_match_header(self):
        """Field names and order of each mirrored struct, read from the header itself."""
        with open(HEADER) as f:
            text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
        for name, cls in _capi.STRUCTS.items():
            m = re.search(r"typedef struct %s \{(.*?)\} %s;" % (name, name), text, re.S)
            self.assertIsNotNone(m, name)
            fields = []
            for decl in m.group(1).split(";"):
                decl = " ".join(decl.split())
                if not decl:
                    continue
                for part in decl.split(","):
                    ident = re.findall(r"\**\s*(\w+)\s*(?:\[[^\]]*\])?\s*$", part.strip())
                    fields.append(ident[-1])
            self.assertEqual(fields, [f[0] for f in cls._fields_], name)

    def test_prototypes_match_header(self):
        """Every bound function is declared in the header with as many parameters."""
        with open(HEADER) as f:
            text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
        decls = {m.group(1): m.group(2) for m in re.finditer(r"CT_API[^;(]*?\b(ct_\w+)\s*\(([^)]*)\)\s*;", text)}
        for name, (_, argtypes) in _capi._PROTOTYPES.items():
            self.assertIn(name, decls)
            params = decls[name].strip()
            n = 0 if params in ("", "void") else params.count(",") + 1
            self.assertEqual(n, len(argtypes), name)

    def test_error_codes_match_header(self):
        with open(HEADER) as f:
            text = f.read()
        codes = {n: int(v) for n, v in re.findall(r"X\((\w+), (-?\d+), \"", text)}
        self.assertEqual(codes, _capi.ERRORS)
        for name, value in codes.items():
            self.assertTrue(_capi.strerror(value))

    def test_mismatch_refuses_to_load(self):
        class Fake:
            def ct_sizeof(self, name):
                return 8 if name == b"ct_result" else ctypes.sizeof(_capi.STRUCTS[name.decode()])

            def ct_config_init(self, p):
                _capi.lib().ct_config_init(p)

        with self.assertRaises(LibraryError) as cm:
            _capi.check_layouts(Fake(), "/x/libcarbontracker.so")
        msg = str(cm.exception)
        self.assertIn("sizeof(ct_result) is 8 bytes in C but %d in Python" % ctypes.sizeof(_capi.ct_result), msg)
        self.assertIn("/x/libcarbontracker.so", msg)

    def test_reordered_config_refuses_to_load(self):
        class Fake:
            def ct_sizeof(self, name):
                return ctypes.sizeof(_capi.STRUCTS[name.decode()])

            def ct_config_init(self, p):
                _capi.lib().ct_config_init(p)
                p._obj.decimal_precision, p._obj.verbose = p._obj.verbose, p._obj.decimal_precision

        with self.assertRaises(LibraryError) as cm:
            _capi.check_layouts(Fake())
        self.assertIn("ct_config.verbose reads 12", str(cm.exception))

    def test_bad_ct_library(self):
        code = "from carbontracker.tracker import CarbonTracker as C; C(epochs=1)"
        env = dict(os.environ, CT_LIBRARY="/nonexistent/libcarbontracker.so", PYTHONPATH=_support.PYDIR)
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("LibraryError", p.stderr)
        self.assertIn("/nonexistent/libcarbontracker.so", p.stderr)

    def test_version(self):
        import carbontracker

        # The package's version carries the library's after "+c." (test_original_api.Version).
        self.assertTrue(carbontracker.__version__.endswith("+c." + carbontracker.library_version()))


class ExactEnergy(RaplCase):
    def test_per_epoch_energy_is_the_counter_delta(self):
        deltas_uj = [5_000_000, 1_234_567, 7_654_321, 250_000]
        t = rapl_tracker(epochs=4)
        self.assertEqual([(d.name, d.method, d.source, d.estimated) for d in t.devices],
                         [("cpu:0", "counter", "rapl", False)])
        for d in deltas_uj:
            self.rapl.add_uj(999_999)  # between epochs: must not count
            t.epoch_start()
            self.rapl.add_uj(d)
            t.epoch_end()
        epochs = t.epoch_results
        self.assertEqual([e.epoch for e in epochs], [1, 2, 3, 4])
        for e, d in zip(epochs, deltas_uj):
            self.assertAlmostEqual(e.energy_j["cpu"], d / 1e6, delta=1e-9)
            self.assertEqual(set(e.energy_j), {"cpu"})

        # Identical to what the C API itself returns on the same tracker.
        lib = _capi.lib()
        info = _capi.ct_epoch_info()
        for i, e in enumerate(epochs):
            self.assertEqual(lib.ct_get_epoch(t._h, i, ctypes.byref(info)), 0)
            self.assertEqual(e.energy_j["cpu"], info.energy_j[0])
            self.assertEqual(e.duration_s, info.duration_s)
            self.assertEqual(e.co2eq_g, info.co2eq_g)

        a = t.actual
        total_j = sum(deltas_uj) / 1e6
        self.assertEqual(a.kind, "actual")
        self.assertEqual(a.epochs, 4)
        self.assertAlmostEqual(a.components["cpu"].energy_j, total_j, delta=1e-9)
        self.assertFalse(a.estimated)
        self.assertAlmostEqual(a.energy_kwh, total_j * 1.5 / J_PER_KWH, delta=1e-15)
        self.assertAlmostEqual(a.co2eq_g, a.energy_kwh * 200.0, delta=1e-12)
        self.assertEqual(a.intensity_kind, "fixed")
        p = t.predicted
        self.assertEqual(p.epochs, 4)
        # refined at every epoch (issue 12): with all 4 epochs measured, the prediction is what was measured
        self.assertAlmostEqual(p.components["cpu"].energy_j, total_j, delta=1e-9)
        # the interval is the value for an actual result, and holds the prediction
        self.assertEqual((a.energy_kwh_low, a.energy_kwh_high), (a.energy_kwh, a.energy_kwh))
        self.assertEqual((a.co2eq_g_low, a.co2eq_g_high), (a.co2eq_g, a.co2eq_g))
        self.assertLessEqual(p.energy_kwh_low, p.energy_kwh)
        self.assertGreaterEqual(p.energy_kwh_high, p.energy_kwh)
        self.assertLessEqual(p.duration_s_low, p.duration_s_high)
        t.close()

    def test_logs_read_back_by_the_parser(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        t = rapl_tracker(epochs=2, log_dir=os.path.join(d, "new"), log_file_prefix="exp")
        for uj in (3_600_000_000, 1_800_000_000):  # 3600 J and 1800 J
            t.epoch_start()
            self.rapl.add_uj(uj)
            t.epoch_end()
        t.stop()
        self.assertTrue(os.path.isfile(t.log_path), t.log_path)
        self.assertTrue(os.path.basename(t.log_path).startswith("exp_"))
        logs = parser.parse_all_logs(os.path.join(d, "new"))
        self.assertEqual(len(logs), 1)
        actual = logs[0]["actual"]
        self.assertEqual(actual["epochs"], 2)
        self.assertAlmostEqual(actual["energy (kWh)"], 5400 * 1.5 / J_PER_KWH, places=11)
        self.assertAlmostEqual(actual["energy (kWh)"], t.actual.energy_kwh, places=11)
        # The equivalents the library printed (12 decimals) are the result object's.
        self.assertAlmostEqual(actual["equivalents"]["km travelled by car"],
                               t.actual.equivalents["km travelled by car"], places=11)
        self.assertAlmostEqual(t.actual.equivalents["km travelled by car"], t.actual.co2eq_g / 107.5, places=12)
        self.assertFalse(logs[0]["early_stop"])
        self.assertEqual(logs[0]["pred"]["epochs"], 2)
        cpu = logs[0]["components"]["cpu"]
        self.assertEqual(cpu["devices"], ["cpu:0"])
        # One value per device and epoch; the epochs last microseconds, so only their ratio is exact.
        power = cpu["avg_power_usages (W)"]
        self.assertEqual([len(p) for p in power], [1, 1])
        durations = [e.duration_s for e in t.epoch_results]
        self.assertAlmostEqual(power[0][0] * durations[0] / (power[1][0] * durations[1]), 2.0, delta=0.01)
        energy, _, _ = parser.aggregate_consumption(os.path.join(d, "new"))
        self.assertAlmostEqual(energy, t.actual.energy_kwh, places=11)


class Lifecycle(RaplCase):
    def test_context_manager_stops_on_exception(self):
        with self.assertRaises(RuntimeError):
            with rapl_tracker(epochs=5) as t:
                t.epoch_start()
                self.rapl.add_uj(2_000_000)
                t.epoch_end()
                t.epoch_start()
                self.rapl.add_uj(1_000_000)
                raise RuntimeError("training failed")
        self.assertTrue(t.deleted)
        a = t.actual
        # The epoch in progress is closed by stop(): 2 J + 1 J.
        self.assertEqual(a.epochs, 2)
        self.assertAlmostEqual(a.components["cpu"].energy_j, 3.0, delta=1e-9)
        t.epoch_start()  # after stop: no-ops, as in the original
        t.epoch_end()
        self.assertEqual(t.actual.epochs, 2)

    def test_epoch_context_manager(self):
        t = rapl_tracker(epochs=3)
        for uj in (1_000_000, 2_000_000):
            with t.epoch() as same:
                self.assertIs(same, t)
                self.rapl.add_uj(uj)
        self.assertEqual([round(e.energy_j["cpu"], 9) for e in t.epoch_results], [1.0, 2.0])
        with self.assertRaises(KeyboardInterrupt):
            with t.epoch():
                self.rapl.add_uj(4_000_000)
                raise KeyboardInterrupt
        self.assertTrue(t.deleted)
        self.assertEqual(t.actual.epochs, 3)
        self.assertAlmostEqual(t.actual.components["cpu"].energy_j, 7.0, delta=1e-9)
        t.close()

    def test_monitor_epochs_then_no_ops(self):
        t = rapl_tracker(epochs=4, monitor_epochs=2)
        for _ in range(4):
            t.epoch_start()
            self.rapl.add_uj(1_000_000)
            t.epoch_end()
        self.assertEqual(t.epoch_counter, 2)
        self.assertEqual(t.actual.epochs, 2)
        self.assertAlmostEqual(t.actual.components["cpu"].energy_j, 2.0, delta=1e-9)
        t.stop()
        t.stop()  # idempotent

    def test_close_keeps_results(self):
        t = rapl_tracker(epochs=1)
        t.epoch_start()
        self.rapl.add_uj(4_000_000)
        t.epoch_end()
        t.close()
        self.assertIsNone(t._h)
        self.assertAlmostEqual(t.actual.components["cpu"].energy_j, 4.0, delta=1e-9)
        self.assertEqual(len(t.epoch_results), 1)
        self.assertIsNone(t.status())
        t.close()

    def test_status(self):
        t = rapl_tracker(epochs=3)
        t.epoch_start()
        st = t.status()
        self.assertTrue(st.in_epoch)
        self.assertEqual((st.epoch, st.epochs), (1, 3))
        self.rapl.add_uj(1_000_000)
        t.epoch_end()
        st = t.status()
        self.assertFalse(st.in_epoch)
        self.assertTrue(st.has_prediction)
        self.assertAlmostEqual(st.energy_j["cpu"], 1.0, delta=1e-9)
        t.close()

    def test_forked_child_exits_without_touching_the_tracker(self):
        code = (
            "import os, sys, _support; _support.use_library()\n"
            "r = _support.FakeRapl()\n"
            "from carbontracker.tracker import CarbonTracker\n"
            "t = CarbonTracker(epochs=2, components='cpu', verbose=0, update_interval=0.05, offline=True)\n"
            "t.epoch_start(); r.add_uj(1000000)\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    sys.exit(7)  # runs atexit finalizers in the child\n"
            "_, status = os.waitpid(pid, 0)\n"
            "t.epoch_end(); t.stop()\n"
            "print(os.WEXITSTATUS(status), round(t.actual.components['cpu'].energy_j, 6))\n"
        )
        # Without the finalizer's pid check the child hangs in ct_tracker_free
        # (it joins a measurement thread that exists only in the parent).
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=os.path.dirname(os.path.abspath(__file__)), start_new_session=True)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)  # the parent and its forked child
            proc.communicate()
            self.fail("a forked child hung at exit")
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out.split(), ["7", "1.0"])

    def test_no_result_before_first_epoch(self):
        t = rapl_tracker(epochs=2)
        self.assertIsNone(t.actual)
        self.assertIsNone(t.predicted)
        self.assertEqual(t.epoch_results, [])
        t.close()


class Errors(RaplCase):
    def test_invalid_arguments_are_value_errors(self):
        for kw in (dict(epochs=0), dict(epochs=3, epochs_before_pred=3, monitor_epochs=2),
                   dict(epochs=3, components="tpu"), dict(epochs=3, sim_cpu="x"), dict(epochs=3, pue=0.5),
                   dict(epochs=3, on_budget="explode"), dict(epochs="three"), dict(epochs=2, update_interval="often"),
                   dict(epochs=2, country="Denmrak"), dict(epochs=2, verbose="loud"), dict(epochs=2, verbose=3)):
            with self.subTest(kw=kw):
                with self.assertRaises(ValueError) as cm:
                    rapl_tracker(**kw)
                self.assertIsInstance(cm.exception, InvalidArgumentError)
                self.assertTrue(str(cm.exception))
        # Even with ignore_errors (as the original's ValueError for monitor_epochs).
        with self.assertRaises(ValueError):
            rapl_tracker(epochs=3, monitor_epochs=0, ignore_errors=True)

    def test_message_names_the_option(self):
        with self.assertRaises(InvalidArgumentError) as cm:
            rapl_tracker(epochs=3, components="tpu")
        self.assertIn("tpu", str(cm.exception))
        self.assertEqual(cm.exception.code, -1)
        self.assertEqual(cm.exception.name, "EINVAL")

    def _no_gpu_env(self):
        empty = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, empty)
        p = mock.patch.dict(os.environ, {"CT_NVML_LIBRARY": "/nonexistent/libnvidia-ml.so.1", "CT_DRM_ROOT": empty})
        p.start()
        self.addCleanup(p.stop)

    def test_no_source(self):
        self._no_gpu_env()
        with self.assertRaises(NoComponentsAvailableError) as cm:
            rapl_tracker(epochs=2, components="gpu")
        self.assertIn("gpu", str(cm.exception).lower())

    def test_no_source_ignored(self):
        self._no_gpu_env()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t = rapl_tracker(epochs=2, components="gpu", ignore_errors=True)
            t.epoch_start()
            t.epoch_end()
            t.stop()
        self.assertTrue(t.deleted)
        self.assertIsNone(t.actual)
        self.assertEqual([x.category for x in w], [CarbonTrackerWarning])
        self.assertIn("Continued training without monitoring", str(w[0].message))

    def test_device_lost_mid_run(self):
        # The zone disappears mid-epoch: the library keeps what it measured, says
        # the device is lost, and training goes on (no exception).
        t = rapl_tracker(epochs=3)
        t.epoch_start()
        self.rapl.add_uj(2_000_000)
        t.epoch_end()
        t.epoch_start()
        os.unlink(self.rapl.counter_path)
        t.epoch_end()
        self.assertEqual([(d.name, d.lost) for d in t.devices], [("cpu:0", True)])
        self.assertEqual([round(e.energy_j["cpu"], 9) for e in t.epoch_results], [2.0, 0.0])
        t.stop()
        self.assertAlmostEqual(t.actual.components["cpu"].energy_j, 2.0, delta=1e-9)
        t.close()

    def test_out_of_order_strict(self):
        t = rapl_tracker(epochs=2, strict=True)
        with self.assertRaises(StateError) as cm:
            t.epoch_end()
        self.assertIsInstance(cm.exception, CarbonTrackerError)
        t.close()

    def test_out_of_order_ignored(self):
        # As without ignore_errors (the original carries on): one warning, monitoring goes on.
        t = rapl_tracker(epochs=2, ignore_errors=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t.epoch_end()
        self.assertEqual(len(w), 1)
        self.assertFalse(t.deleted)
        t.epoch_start()
        self.rapl.add_uj(1_000_000)
        t.epoch_end()
        self.assertEqual(t.epoch_counter, 1)
        t.close()

    def test_api_keys(self):
        with self.assertRaises(FetcherNameError):
            rapl_tracker(epochs=1, api_keys={"nonsense": "k"})
        t = rapl_tracker(epochs=1, api_keys={"electricitymaps": "KEY"})
        self.addCleanup(tracker_mod._API_KEYS.clear)
        with self.assertWarns(CarbonTrackerWarning):
            t.set_api_keys({"ElectricityMaps": "KEY2"})
        self.assertEqual(tracker_mod._API_KEYS, {"electricitymaps": "KEY2"})
        with self.assertRaises(FetcherNameError):
            t.set_api_keys({"co2signal": "x"})
        t.close()


class Budgets(RaplCase):
    # 360 J per epoch = 0.0001 kWh with pue 1; 4 epochs predicted = 0.0004 kWh.
    def run_epochs(self, t, n=1):
        for _ in range(n):
            t.epoch_start()
            self.rapl.add_uj(360_000_000)
            t.epoch_end()

    def test_warn(self):
        import contextlib
        import io

        buf = io.StringIO()
        with warnings.catch_warnings(record=True) as w, contextlib.redirect_stdout(buf):
            warnings.simplefilter("always")
            t = rapl_tracker(epochs=4, pue=1.0, max_energy_kwh=0.0003, verbose=1)
            self.run_epochs(t)
        self.assertNotIn("budget", buf.getvalue())  # one warning (the Python one), not two
        self.assertIn("CarbonTracker: \nPredicted consumption for 4 epoch(s):", buf.getvalue())
        self.assertTrue(t.budget_exceeded)
        self.assertEqual([x.category for x in w], [BudgetExceededWarning])
        self.assertEqual(str(w[0].message),
                         "CarbonTracker: predicted energy 0.0004 kWh (0.000387-0.000413) exceeds the energy budget of "
                         "0.0003 kWh by 33.3 %")  # with its 90 % interval (issue 12)
        self.assertEqual(t.epoch_results[0].epoch, 1)  # the epoch was recorded
        st = t.status()
        self.assertEqual((st.energy_budget_exceeded, st.co2_budget_exceeded), (True, False))
        t.close()

    def test_budget_bits_are_the_headers(self):
        # ct_status.budget_exceeded is tested against the header's named bits
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(os.path.join(root, "include", "carbontracker.h")) as f:
            header = f.read()
        for name in ("CT_BUDGET_ENERGY", "CT_BUDGET_CO2"):
            m = re.search(r"#define " + name + r" (\d+)", header)
            self.assertIsNotNone(m, name)
            self.assertEqual(getattr(_capi, name), int(m.group(1)), name)
        with open(tracker_mod.__file__) as f:
            src = f.read()
        self.assertNotRegex(src, r"budget_exceeded & [0-9]")

    def test_within_budget(self):
        t = rapl_tracker(epochs=4, pue=1.0, max_energy_kwh=0.0005)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            self.run_epochs(t, 4)
        self.assertEqual(w, [])
        self.assertFalse(t.budget_exceeded)
        t.close()

    def test_raise_co2(self):
        # 0.0004 kWh x 200 g/kWh = 0.08 g predicted.
        t = rapl_tracker(epochs=4, pue=1.0, max_co2_g=0.05, on_budget="raise")
        with self.assertRaises(BudgetExceededError) as cm:
            self.run_epochs(t)
        self.assertEqual(str(cm.exception), "predicted CO2eq 0.08 g (0.0773-0.0827) exceeds the CO2eq budget of 0.05 g by 60.0 %")
        self.assertEqual(cm.exception.name, "EBUDGET")
        self.assertEqual(len(t.epoch_results), 1)
        st = t.status()
        self.assertEqual((st.energy_budget_exceeded, st.co2_budget_exceeded), (False, True))
        t.close()


class StopAndConfirm(RaplCase):
    def make(self):
        return rapl_tracker(epochs=3, stop_and_confirm=True)

    def test_yes_after_retry(self):
        t = self.make()
        with mock.patch.object(builtins, "input", side_effect=["maybe", " Yes "]) as inp, \
                mock.patch("sys.stdout"):
            t.epoch_start()
            self.rapl.add_uj(1_000_000)
            t.epoch_end()
        self.assertEqual(inp.call_count, 2)
        self.assertIn("Continue training (y/n)?", inp.call_args_list[0].args[0])
        self.assertEqual(inp.call_args_list[1].args[0], "CarbonTracker: Please answer y or n: ")
        self.assertFalse(t.deleted)
        with mock.patch.object(builtins, "input") as inp2:
            t.epoch_start()
            t.epoch_end()  # asked once only
        inp2.assert_not_called()
        t.close()

    def test_no(self):
        t = self.make()
        with mock.patch.object(builtins, "input", return_value="n"), mock.patch("sys.stdout"):
            t.epoch_start()
            self.rapl.add_uj(1_000_000)
            with self.assertRaises(TrainingDeclined) as cm:
                t.epoch_end()
        self.assertIsInstance(cm.exception, SystemExit)
        self.assertEqual(cm.exception.code, 0)
        self.assertTrue(t.deleted)
        self.assertEqual(t.actual.epochs, 1)
        t.close()

    def test_end_of_input(self):
        # No answer (stdin closed, a batch job): training continues, as with the library's prompt.
        t = self.make()
        with mock.patch.object(builtins, "input", side_effect=EOFError), mock.patch("sys.stdout"):
            t.epoch_start()
            t.epoch_end()
        self.assertFalse(t.deleted)
        t.close()

    def test_piped_stdin_in_a_real_process(self):
        """In a process whose stdin is a pipe (as in Jupyter, not a terminal)."""
        code = (
            "import _support; _support.use_library()\n"
            "from _support import FakeRapl\n"
            "r = FakeRapl()\n"
            "from carbontracker.tracker import CarbonTracker\n"
            "t = CarbonTracker(epochs=3, components='cpu', stop_and_confirm=True, update_interval=3600,"
            " carbon_intensity=100, offline=True)\n"
            "for i in range(3):\n"
            "    t.epoch_start(); r.add_uj(1000000); t.epoch_end()\n"
            "print('NOT REACHED')\n"
        )
        p = subprocess.run([sys.executable, "-c", code], input="n\n", capture_output=True, text=True,
                           timeout=60, cwd=os.path.dirname(os.path.abspath(__file__)))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Predicted consumption for 3 epoch(s):", p.stdout)
        self.assertIn("Continue training (y/n)?", p.stdout)
        self.assertIn("Quitting...", p.stdout)
        self.assertLess(p.stdout.index("Predicted consumption"), p.stdout.index("Continue training"))
        self.assertNotIn("NOT REACHED", p.stdout)

    def test_terminal(self):
        """Under a pseudo-terminal, as a user at a shell: the prompt shows, "y" continues."""
        import pty  # noqa: F401  (POSIX only)
        import select

        code = (
            "import _support; _support.use_library()\n"
            "r = _support.FakeRapl()\n"
            "import sys\n"
            "from carbontracker.tracker import CarbonTracker\n"
            "t = CarbonTracker(epochs=2, components='cpu', stop_and_confirm=True, update_interval=3600,"
            " carbon_intensity=100, offline=True, status_line=False)\n"
            "print('TTY', sys.stdin.isatty(), flush=True)\n"
            "for i in range(2):\n"
            "    t.epoch_start(); r.add_uj(1000000); t.epoch_end()\n"
            "print('DONE', t.epoch_counter, flush=True)\n"
        )
        master, slave = os.openpty()
        proc = subprocess.Popen([sys.executable, "-c", code], stdin=slave, stdout=slave, stderr=slave,
                                cwd=os.path.dirname(os.path.abspath(__file__)), start_new_session=True)
        os.close(slave)
        out = b""
        answered = False
        try:
            while True:
                r, _, _ = select.select([master], [], [], 30)
                if not r:
                    self.fail("no output from the child: " + out.decode(errors="replace"))
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
                if not answered and b"Continue training (y/n)? " in out:
                    os.write(master, b"y\n")
                    answered = True
        finally:
            os.close(master)
            proc.wait(timeout=30)
        text = out.decode(errors="replace")
        self.assertEqual(proc.returncode, 0, text)
        self.assertIn("TTY True", text)
        self.assertIn("Continuing...", text)
        self.assertIn("DONE 2", text)
        self.assertLess(text.index("Predicted consumption"), text.index("Continue training"))


if __name__ == "__main__":
    unittest.main()
