"""A GPU through the package: the C library's NVML source on the C tests' fake
libnvidia-ml (virtual clock, constant 200 W), so each epoch's energy is exact.

Needs the fake NVML library that the C test build makes (<build>/tests/fake_nvml/);
without it these tests are reported as skipped, with the reason."""

import ctypes
import os
import shutil
import tempfile
import unittest
from unittest import mock

import _support

_support.use_library()
FAKE_NVML = _support.find_fake_nvml()

from carbontracker.tracker import CarbonTracker  # noqa: E402

UUID = "GPU-00000000-1111-2222-3333-444444444444"


@unittest.skipIf(FAKE_NVML is None, "no fake libnvidia-ml.so.1: build the C tests (cmake ... -DCT_BUILD_TESTS=ON) "
                                    "or set CT_TEST_FAKE_NVML")
class FakeGpu(unittest.TestCase):
    def setUp(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        scenario = os.path.join(d, "scenario")
        with open(scenario, "w") as f:
            f.write(f"clock virtual\norigin 0\ndevice {UUID} NVIDIA Fake H200\nstep 0 200\n")
        env = {"FAKE_NVML_SCENARIO": scenario, "CT_NVML_LIBRARY": FAKE_NVML}
        p = mock.patch.dict(os.environ, env)
        p.start()
        self.addCleanup(p.stop)
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        # The same library the tracker dlopens (same path: one instance), for its clock.
        self.fake = ctypes.CDLL(FAKE_NVML)
        self.fake.fake_nvml_set_time.argtypes = [ctypes.c_double]
        self.now = 1000.0
        self.fake.fake_nvml_set_time(self.now)

    def advance(self, s):
        self.now += s
        self.fake.fake_nvml_set_time(self.now)

    def test_exact_gpu_energy_per_epoch(self):
        t = CarbonTracker(epochs=3, components="gpu", verbose=0, update_interval=3600, carbon_intensity=100.0,
                          pue=1.0, offline=True)
        self.assertEqual([(d.component, d.name, d.uuid, d.method, d.source) for d in t.devices],
                         [("gpu", "NVIDIA Fake H200", UUID, "counter", "nvml")])
        for seconds in (2.0, 3.0, 0.5):
            t.epoch_start()
            self.advance(seconds)
            t.epoch_end()
            self.advance(10.0)  # between epochs: not counted
        self.assertEqual([e.energy_j for e in t.epoch_results], [{"gpu": 400.0}, {"gpu": 600.0}, {"gpu": 100.0}])
        t.stop()
        a = t.actual
        self.assertEqual(a.components["gpu"].energy_j, 1100.0)
        self.assertFalse(a.estimated)
        self.assertAlmostEqual(a.energy_kwh, 1100.0 / 3.6e6, delta=1e-15)
        # refined at every epoch (issue 12): with all 3 epochs measured, the prediction is what was measured
        self.assertAlmostEqual(t.predicted.components["gpu"].energy_j, 1100.0, delta=1e-9)
        t.close()


if __name__ == "__main__":
    unittest.main()
