"""carbontracker.parser on fixture logs in the original's exact formats.

python/tests/fixtures/logs_mixed holds one directory of runs (see each
expectation below); logs_nopred a run with epochs_before_pred=0.
"""

import io
import os
import shutil
import tempfile
import unittest
import warnings
from contextlib import redirect_stdout

import _support  # noqa: F401  (puts the package on sys.path)
from carbontracker import parser
from carbontracker.exceptions import MismatchedEpochsError

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
MIXED = os.path.join(FIX, "logs_mixed")
NOPRED = os.path.join(FIX, "logs_nopred")

A = "1001.123456_2026-11-26T143241Z"
B = "exp_2002.654321_2026-11-26T150000Z"
C = "3003.111111_2026-11-26T160000Z"
D = "4004.222222_2026-11-26T170000Z"
E = "5005.333333_2026-11-26T180000Z"


def std(d, key):
    return os.path.join(d, key + "_carbontracker.log")


def out(d, key):
    return os.path.join(d, key + "_carbontracker_output.log")


def quiet(fn, *a):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        return fn(*a), w


class ParseAllLogs(unittest.TestCase):
    def setUp(self):
        self.logs, self.warned = quiet(parser.parse_all_logs, MIXED)
        self.by_key = {os.path.basename(e["output_filename"])[: -len("_carbontracker_output.log")]: e
                       for e in self.logs}

    def test_pairs_and_skips(self):
        # F (no output log) and G (empty output log) are skipped with one warning each.
        self.assertEqual(sorted(self.by_key), sorted([A, B, C, D, E]))
        msgs = [str(w.message) for w in self.warned]
        self.assertEqual(len(msgs), 2, msgs)
        self.assertTrue(any("6006.444444" in m and "no matching output log" in m for m in msgs), msgs)
        self.assertTrue(any("7007.555555" in m and "empty" in m for m in msgs), msgs)
        # Sorted by output file name, as the original.
        names = [e["output_filename"] for e in self.logs]
        self.assertEqual(names, sorted(names))

    def test_entry_shape(self):
        e = self.by_key[A]
        self.assertEqual(set(e), {"output_filename", "standard_filename", "components", "early_stop", "actual", "pred"})
        self.assertEqual(e["standard_filename"], std(MIXED, A))
        self.assertEqual(e["output_filename"], out(MIXED, A))
        self.assertFalse(e["early_stop"])
        # The actual block's epoch count is read (the original always reported 1).
        self.assertEqual(e["actual"], {"epochs": 3, "duration (s)": 10.0, "energy (kWh)": 0.28, "co2eq (g)": 27.0,
                                       "equivalents": {"km travelled by car": 0.22}})
        self.assertEqual(e["pred"], {"epochs": 3, "duration (s)": 9.0, "energy (kWh)": 0.3, "co2eq (g)": 30.0,
                                     "equivalents": {"km travelled by car": 0.25}})

    def test_early_stop(self):
        e = self.by_key[B]
        self.assertTrue(e["early_stop"])
        self.assertEqual(e["actual"]["epochs"], 2)
        self.assertEqual(e["actual"]["duration (s)"], 150.0)
        self.assertEqual(e["pred"]["epochs"], 10)

    def test_no_actual(self):
        e = self.by_key[C]
        self.assertIsNone(e["actual"])
        self.assertEqual(e["pred"]["energy (kWh)"], 0.5)

    def test_no_equivalents_does_not_borrow_next_block(self):
        e = self.by_key[E]
        self.assertEqual(e["pred"], {"epochs": 2, "duration (s)": 20.0, "energy (kWh)": 0.1, "co2eq (g)": 8.0,
                                     "equivalents": None})
        self.assertEqual(e["actual"]["co2eq (g)"], 7.0)
        self.assertIsNone(e["actual"]["equivalents"])

    def test_components(self):
        comps = self.by_key[A]["components"]
        self.assertEqual(set(comps), {"gpu", "cpu"})
        self.assertEqual(comps["gpu"]["devices"], ["Tesla T4"])
        self.assertEqual(comps["cpu"]["devices"], ["cpu:0", "dram:0"])
        self.assertEqual(comps["gpu"]["avg_power_usages (W)"], [[61.2], [60.0], [62.0]])
        self.assertEqual(comps["cpu"]["epoch_durations (s)"], [3.3, 3.0, 3.7])
        self.assertEqual(comps["cpu"]["avg_energy_usages (J)"], [[46.2 * 3.3], [45.0 * 3.0], [47.5 * 3.7]])


class ParseLogs(unittest.TestCase):
    def test_numpy_style_values_and_none(self):
        comps = parser.parse_logs(MIXED, std(MIXED, B), out(MIXED, B))
        g = comps["gpu"]
        self.assertEqual(g["devices"], ["NVIDIA A100-SXM4-40GB", "NVIDIA A100-SXM4-40GB"])
        self.assertEqual(g["avg_power_usages (W)"], [[250.5, 249.5], [251.0, 250.0]])
        self.assertEqual(g["epoch_durations (s)"], [60.0, 90.0])
        self.assertEqual(g["avg_energy_usages (J)"], [[250.5 * 60, 249.5 * 60], [251.0 * 90, 250.0 * 90]])
        # "None" (no sample in that epoch) counts as 0 W, as in the original.
        self.assertEqual(comps["cpu"]["avg_power_usages (W)"], [[80.0], [0.0]])

    def test_most_recent_by_default(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        for key, t in ((A, 1000), (D, 2000)):
            for p in (std(MIXED, key), out(MIXED, key)):
                dst = os.path.join(tmp, os.path.basename(p))
                shutil.copy(p, dst)
                os.utime(dst, (t, t))
        comps = parser.parse_logs(tmp)
        self.assertEqual(list(comps), ["cpu"])
        self.assertEqual(comps["cpu"]["avg_power_usages (W)"], [[50.0], [52.0]])

    def test_empty_directory(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        with self.assertRaises(FileNotFoundError):
            parser.parse_logs(tmp)
        self.assertEqual(parser.parse_all_logs(tmp), [])
        self.assertEqual(parser.aggregate_consumption(tmp), (0.0, 0.0, {}))

    def test_truncated_log(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        shutil.copy(out(MIXED, A), tmp)
        with open(std(MIXED, A)) as f:
            text = f.read()
        # Cut right after epoch 3's Duration line: 3 durations, 2 power lines.
        cut = text.index("Duration: 0:00:03.70") + len("Duration: 0:00:03.70\n")
        with open(os.path.join(tmp, os.path.basename(std(MIXED, A))), "w") as f:
            f.write(text[:cut])
        with self.assertRaises(MismatchedEpochsError):
            parser.parse_logs(tmp)
        logs, w = quiet(parser.parse_all_logs, tmp)
        self.assertEqual(len(logs), 1)
        self.assertEqual(logs[0]["components"], {})
        self.assertEqual(logs[0]["actual"]["energy (kWh)"], 0.28)
        self.assertTrue(any("power measurements" in str(x.message) for x in w))

    def test_garbage_does_not_crash(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        with open(os.path.join(tmp, "x_carbontracker.log"), "wb") as f:
            f.write(b"\xff\xfe garbage\nAverage power usage (W) for cpu: [abc]\nDuration: 0:00:01.00\n")
        with open(os.path.join(tmp, "x_carbontracker_output.log"), "wb") as f:
            f.write(b"Actual consumption for 2 epoch(s):\n\tTime:\tnonsense\n\tEnergy:\tnan kWh\n\tCO2eq:\t1.5 g\n")
        logs = parser.parse_all_logs(tmp)
        self.assertEqual(logs[0]["components"], {})
        self.assertEqual(logs[0]["actual"]["epochs"], 2)
        self.assertIsNone(logs[0]["actual"]["duration (s)"])
        (energy, co2, eq), w = quiet(parser.aggregate_consumption, tmp)
        # A run whose energy is not a number is skipped with a warning, as `carbontracker parse` does.
        self.assertEqual((energy, co2, eq), (0.0, 0.0, {}))
        self.assertTrue(any("energy is not a number" in str(x.message) for x in w), [str(x.message) for x in w])


class Aggregate(unittest.TestCase):
    def test_totals(self):
        (energy, co2eq, eq), _ = quiet(parser.aggregate_consumption, MIXED)
        # A actual (finished), B actual (stopped early), C prediction (no actual),
        # D prediction (only 2 of 4 epochs monitored), E actual (finished).
        self.assertAlmostEqual(energy, 0.28 + 0.2 + 0.5 + 0.4 + 0.09, places=12)
        self.assertAlmostEqual(co2eq, 27.0 + 20.0 + 40.0 + 35.0 + 7.0, places=9)
        self.assertEqual(list(eq), ["km travelled by car"])
        self.assertAlmostEqual(eq["km travelled by car"], 0.22 + 0.15 + 0.3 + 0.28, places=12)

    def test_print_aggregate_sentence(self):
        buf = io.StringIO()
        with redirect_stdout(buf), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parser.print_aggregate(MIXED)
            (energy, co2eq, eq), _ = quiet(parser.aggregate_consumption, MIXED)
        # the original's print_aggregate: 16 decimals
        km = eq["km travelled by car"]
        self.assertEqual(
            buf.getvalue(),
            f"The training of models in this work is estimated to use {energy:.16f} kWh of electricity contributing "
            f"to {co2eq / 1000:.16f} kg of CO2eq. This is equivalent to {km:.16f} km travelled by car. Measured by "
            "carbontracker (https://github.com/lfwa/carbontracker).\n",
        )
        self.assertIn("use 1.47000000000000", buf.getvalue())
        # format_aggregate keeps the rounded sentence
        self.assertEqual(
            parser.format_aggregate(energy, co2eq, eq),
            "The training of models in this work is estimated to use 1.470 kWh of electricity contributing "
            "to 0.129 kg of CO2eq. This is equivalent to 0.950 km travelled by car. Measured by carbontracker "
            "(https://github.com/lfwa/carbontracker).",
        )

    def test_actual_without_epoch_count(self):
        logs = parser.parse_all_logs(NOPRED)
        self.assertEqual(len(logs), 1)
        self.assertIsNone(logs[0]["pred"])
        self.assertEqual(logs[0]["actual"]["epochs"], 3)  # from the standard log's "Epoch N:" lines
        self.assertEqual(logs[0]["components"]["cpu"]["devices"], ["cpu:0", "cpu:1", "dram:0", "dram:1"])
        self.assertEqual(parser.aggregate_consumption(NOPRED), (0.002, 0.5, {"km travelled by car": 0.004}))

    def test_no_equivalents_sentence(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        shutil.copy(std(MIXED, E), tmp)
        shutil.copy(out(MIXED, E), tmp)
        buf = io.StringIO()
        with redirect_stdout(buf):
            parser.print_aggregate(tmp)
        self.assertEqual(
            buf.getvalue(),
            "The training of models in this work is estimated to use 0.0900000000000000 kWh of electricity "
            "contributing to 0.0070000000000000 kg of CO2eq. Measured by carbontracker "
            "(https://github.com/lfwa/carbontracker).\n",
        )


REPO_FIX = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "tests", "fixtures", "parse")


class SameAsLibrary(unittest.TestCase):
    """The package's parser reads through the library: its totals are ct_parse_dirs' totals,
    also where ranks of one job must be combined (which the old pure-Python parser never did)."""

    def c_totals(self, d):
        import ctypes
        from carbontracker import _capi

        class Total(ctypes.Structure):
            _fields_ = [("runs", ctypes.c_int), ("energy_kwh", ctypes.c_double), ("co2eq_g", ctypes.c_double),
                        ("duration_s", ctypes.c_double), ("car_km", ctypes.c_double),
                        ("ct_reserved", ctypes.c_double * 8)]

        L = _capi.lib()
        self.assertEqual(L.ct_sizeof(b"ct_runs_total"), ctypes.sizeof(Total))
        arr = (ctypes.c_char_p * 1)(os.fsencode(d))
        runs = ctypes.c_void_p()
        self.assertEqual(L.ct_parse_dirs(arr, 1, ctypes.byref(runs)), 0)
        t = Total()
        L.ct_runs_totals.argtypes = [ctypes.c_void_p, ctypes.POINTER(Total)]
        self.assertEqual(L.ct_runs_totals(runs, ctypes.byref(t)), 0)
        L.ct_runs_free(runs)
        return t

    def test_multi_rank_directory(self):
        d = os.path.join(REPO_FIX, "ranks")
        (energy, co2eq, eq), w = quiet(parser.aggregate_consumption, d)
        t = self.c_totals(d)
        self.assertEqual((energy, co2eq), (t.energy_kwh, t.co2eq_g))
        # job 777: 4 ranks on 2 nodes are one run; job 888: two ranks on one node count once
        self.assertAlmostEqual(energy, 3.1, places=12)
        self.assertAlmostEqual(co2eq, 245.0, places=9)
        self.assertTrue(any("counted once" in str(x.message) for x in w))

    def test_other_directories(self):
        for d in (os.path.join(REPO_FIX, "python"), os.path.join(REPO_FIX, "mixed"), MIXED, NOPRED):
            (energy, co2eq, _), _w = quiet(parser.aggregate_consumption, d)
            t = self.c_totals(d)
            self.assertEqual((energy, co2eq), (t.energy_kwh, t.co2eq_g), d)


class Bindings(unittest.TestCase):
    """The results block of _capi: parse with -r, every format, the report."""

    def test_parse_recursive_and_formats(self):
        from carbontracker import _capi

        doc, warns = _capi.parse_runs([REPO_FIX], recursive=True)
        self.assertGreaterEqual(doc["total"]["runs"], 8)
        self.assertTrue(all(r["measurement"] in ("measured", "partly estimated", "estimated", "not stated")
                            for r in doc["runs"]))
        text, _ = _capi.parse_runs([os.path.join(REPO_FIX, "python")], fmt=_capi.CT_RUNS_TEXT)
        self.assertIn("3.560 kWh", text)
        with self.assertRaises(OSError):
            _capi.parse_runs(["/nonexistent/ct-dir"])

    def test_report(self):
        from carbontracker import _capi

        if "cairo" not in _capi._decode(_capi.lib().ct_features()):
            self.skipTest("built without cairo")
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        out = os.path.join(tmp, "r.pdf")
        _capi.report_render(std(os.path.join(REPO_FIX, "python"), "4011.abcdef12_2026-11-20T101500Z"), out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(4), b"%PDF")
        with self.assertRaises(OSError):
            _capi.report_render(out, os.path.join(tmp, "r.docx"))


class Helpers(unittest.TestCase):
    def test_get_time(self):
        self.assertEqual(parser.get_time("1:02:03"), 3723.0)
        self.assertEqual(parser.get_time("0:00:03.30"), 3.3)
        self.assertIsNone(parser.get_time("soon"))

    def test_power_line_forms(self):
        text = "".join(f"2026-11-26 10:00:00 - Average power usage (W) for cpu: {v}\n" for v in
                       ("46.2", "[61.2 55.3]", "None", "[12.5000 3.2500] (estimated)", "7.5 (estimated)", "[nan]"))
        got = parser.get_avg_power_usages(text)["cpu"]
        self.assertEqual(got[:5], [[46.2], [61.2, 55.3], [0.0], [12.5, 3.25], [7.5]])
        self.assertEqual(len(got[5]), 1)
        self.assertNotEqual(got[5][0], got[5][0])  # NaN kept, so epochs stay aligned

    def test_devices_with_dots(self):
        line = ("2026-11-26 10:00:00 - The following components were found: GPU with device(s) Tesla V100-SXM2-16GB. "
                "CPU with device(s) Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz.\n")
        self.assertEqual(parser.get_devices(line), {"gpu": ["Tesla V100-SXM2-16GB"],
                                                     "cpu": ["Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz"]})

    def test_console_text(self):
        # What a user copied from the console (no timestamps) parses too.
        text = ("CarbonTracker: \nPredicted consumption for 5 epoch(s):\n\tTime:\t0:01:00\n\tEnergy:\t0.5 kWh\n"
                "\tCO2eq:\t50.0 g\nCarbonTracker: \nActual consumption for 5 epoch(s):\n\tTime:\t0:01:01\n"
                "\tEnergy:\t0.49 kWh\n\tCO2eq:\t49.0 g\n\tThis is equivalent to:\n\t0.4 km travelled by car\n"
                "CarbonTracker: Finished monitoring.\n")
        actual, pred = parser.get_consumption(text)
        self.assertEqual(pred["co2eq (g)"], 50.0)
        self.assertIsNone(pred["equivalents"])
        self.assertEqual(actual["epochs"], 5)
        self.assertEqual(actual["equivalents"], {"km travelled by car": 0.4})


if __name__ == "__main__":
    unittest.main()
