"""The original carbontracker 2.x's public names and signatures (no library needed)."""

import inspect
import unittest

import _support  # noqa: F401
from carbontracker import exceptions, parser
from carbontracker.tracker import CarbonTracker

# The original's constructor, in order, with its defaults.
ORIGINAL = [
    ("epochs", inspect.Parameter.empty), ("epochs_before_pred", 1), ("monitor_epochs", -1),
    ("update_interval", 1), ("interpretable", True), ("stop_and_confirm", False), ("ignore_errors", False),
    ("components", "all"), ("devices_by_pid", False), ("log_dir", None), ("log_file_prefix", ""),
    ("verbose", 1), ("decimal_precision", 12), ("api_keys", None), ("sim_cpu", None), ("sim_cpu_tdp", None),
    ("sim_cpu_util", None), ("sim_gpu", None), ("sim_gpu_watts", None), ("sim_gpu_util", None),
]


class Compat(unittest.TestCase):
    def test_constructor_signature(self):
        params = list(inspect.signature(CarbonTracker.__init__).parameters.values())[1:]
        positional = [(p.name, p.default) for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
        self.assertEqual(positional, ORIGINAL)
        kwonly = {p.name: p.default for p in params if p.kind == p.KEYWORD_ONLY}
        for name in ("pue", "country", "carbon_intensity", "max_energy_kwh", "max_co2_g", "offline"):
            self.assertIsNone(kwonly[name])
        self.assertEqual(kwonly["on_budget"], "warn")

    def test_methods(self):
        for name in ("epoch_start", "epoch_end", "stop", "set_api_keys", "__enter__", "__exit__"):
            self.assertTrue(callable(getattr(CarbonTracker, name)), name)
        self.assertEqual(list(inspect.signature(CarbonTracker.set_api_keys).parameters), ["self", "api_dict"])

    def test_parser_functions(self):
        self.assertEqual(list(inspect.signature(parser.parse_logs).parameters),
                         ["log_dir", "std_log_file", "output_log_file"])
        for name in ("parse_all_logs", "aggregate_consumption", "print_aggregate"):
            self.assertEqual(list(inspect.signature(getattr(parser, name)).parameters), ["log_dir"])

    def test_exception_names(self):
        for name in ("NoComponentsAvailableError", "UnitError", "IntelRaplPermissionError",
                     "GPUPowerUsageRetrievalError", "CarbonIntensityFetcherError", "IPLocationError", "GPUError",
                     "CPUError", "ComponentNameError", "FetcherNameError", "MismatchedLogFilesError",
                     "MismatchedEpochsError"):
            self.assertTrue(issubclass(getattr(exceptions, name), Exception), name)
        self.assertTrue(issubclass(exceptions.TrainingDeclined, SystemExit))
        self.assertTrue(issubclass(exceptions.InvalidArgumentError, ValueError))


if __name__ == "__main__":
    unittest.main()
