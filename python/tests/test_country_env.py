"""CT_COUNTRY through the package (issue 10 item 1): CT_COUNTRY=DNK aborted the
interpreter at CarbonTracker() (free(): invalid pointer in the C library) even
with ignore_errors=True. Each case runs in a child interpreter, so an abort is
seen as the child's exit status instead of ending this test run."""

import os
import subprocess
import sys
import unittest

import _support

LIB = _support.use_library()

CHILD = r"""
import sys
if sys.argv[1]:  # the source tree; empty when the installed package is under test
    sys.path.insert(0, sys.argv[1])
from carbontracker.tracker import CarbonTracker
from carbontracker.exceptions import InvalidArgumentError
try:
    t = CarbonTracker(epochs=1, components="cpu", sim_cpu="cpu", sim_cpu_tdp=10, verbose=0, ignore_errors=True)
except InvalidArgumentError as e:
    print("refused:", e)
    sys.exit(3)
t.epoch_start()
t.epoch_end()
t.stop()
print("tracked")
"""


def run_child(country):
    env = dict(os.environ, CT_COUNTRY=country, CT_OFFLINE="1")
    src = "" if os.environ.get("CT_TEST_INSTALLED") == "1" else _support.PYDIR
    return subprocess.run([sys.executable, "-c", CHILD, src], env=env, capture_output=True, text=True, timeout=120)


class CountryEnvTest(unittest.TestCase):
    def test_alpha3_and_names_are_accepted(self):
        for c in ("DNK", "Denmark", "dk"):
            r = run_child(c)
            self.assertEqual(r.returncode, 0, f"CT_COUNTRY={c}: {r.returncode} {r.stdout} {r.stderr}")
            self.assertIn("tracked", r.stdout)

    def test_bad_country_is_refused_not_fatal(self):
        r = run_child("Untied Kingdom")
        self.assertEqual(r.returncode, 3, f"{r.returncode} {r.stdout} {r.stderr}")
        self.assertIn('did you mean "United Kingdom" (GB)', r.stdout)


if __name__ == "__main__":
    unittest.main()
