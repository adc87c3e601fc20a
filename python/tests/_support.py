"""Shared helpers of the Python tests.

Importing this module puts python/ first on sys.path, so the tests exercise
the source tree (set CT_TEST_INSTALLED=1 to test an installed package
instead).

The C library: env CT_LIBRARY (path of libcarbontracker.so); without it,
the library inside an installed package, else the newest
<repo>/build*/src/libcarbontracker.so ("build" first). Tests that need the
library fail (not skip) when none is found: build the C library first.
"""

import glob
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)
REPO = os.path.dirname(PYDIR)

if os.environ.get("CT_TEST_INSTALLED") != "1" and PYDIR not in sys.path:
    sys.path.insert(0, PYDIR)

# Never touch the network or the real hardware from tests.
os.environ["CT_OFFLINE"] = "1"


def find_library():
    env = os.environ.get("CT_LIBRARY")
    if env:
        return env
    if os.environ.get("CT_TEST_INSTALLED") == "1":
        return None  # the installed package's own copy
    cands = glob.glob(os.path.join(REPO, "build", "src", "libcarbontracker.so"))
    others = glob.glob(os.path.join(REPO, "build*", "src", "libcarbontracker.so"))
    others.sort(key=os.path.getmtime, reverse=True)
    for c in cands + others:
        if os.path.exists(c):
            return c
    raise RuntimeError(
        "no libcarbontracker.so to test: build the C library (cmake -S . -B build && cmake --build build) "
        "or set CT_LIBRARY to its path"
    )


def use_library():
    """Points CT_LIBRARY at the library under test; returns its path (or None = installed)."""
    path = find_library()
    if path:
        os.environ["CT_LIBRARY"] = path
    return path


class FakeRapl:
    """A fake powercap tree with one package zone whose energy_uj the test scripts.

    Values keep a fixed number of digits and are written in place (pwrite, no
    truncation), so a background read never sees an empty or torn file.
    """

    START_UJ = 1_000_000_000_000  # 13 digits; a test adds far less than 9e12
    RANGE_UJ = 9_999_999_999_999

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="ct-rapl-")
        self.zone = os.path.join(self.root, "intel-rapl:0")
        os.mkdir(self.zone)
        self._write(os.path.join(self.zone, "name"), "package-0\n")
        self._write(os.path.join(self.zone, "max_energy_range_uj"), f"{self.RANGE_UJ}\n")
        self._write(os.path.join(self.zone, "enabled"), "1\n")
        self.uj = self.START_UJ
        self.counter_path = os.path.join(self.zone, "energy_uj")
        self._write(self.counter_path, f"{self.uj}\n")
        self._fd = os.open(self.counter_path, os.O_WRONLY)
        self._old = os.environ.get("CT_POWERCAP_ROOT")
        os.environ["CT_POWERCAP_ROOT"] = self.root

    @staticmethod
    def _write(path, text):
        with open(path, "w") as f:
            f.write(text)

    def add_uj(self, uj):
        """Advances the counter by uj microjoules."""
        self.uj += int(uj)
        data = f"{self.uj}\n".encode()
        assert len(data) == 14
        os.pwrite(self._fd, data, 0)

    def close(self):
        os.close(self._fd)
        if self._old is None:
            os.environ.pop("CT_POWERCAP_ROOT", None)
        else:
            os.environ["CT_POWERCAP_ROOT"] = self._old
        shutil.rmtree(self.root, ignore_errors=True)


def find_fake_nvml():
    """The tests' fake libnvidia-ml.so.1 (built with the C tests): env CT_TEST_FAKE_NVML,
    else next to the library under test (<build>/tests/fake_nvml/), else None."""
    env = os.environ.get("CT_TEST_FAKE_NVML")
    if env:
        return env
    lib = os.environ.get("CT_LIBRARY")
    cands = []
    if lib:
        build = os.path.dirname(os.path.dirname(os.path.realpath(lib)))
        cands.append(os.path.join(build, "tests", "fake_nvml", "libnvidia-ml.so.1"))
    cands += sorted(glob.glob(os.path.join(REPO, "build*", "tests", "fake_nvml", "libnvidia-ml.so.1")),
                    key=os.path.getmtime, reverse=True)
    for c in cands:
        if os.path.exists(c):
            return c
    return None


def find_cli():
    """The C command-line tool to test: env CT_CLI; for an installed package
    its own copy (carbontracker/_bin/carbontracker); else <build>/cli/carbontracker
    next to the library under test, else the newest <repo>/build*/cli/carbontracker."""
    env = os.environ.get("CT_CLI")
    if env:
        return env
    if os.environ.get("CT_TEST_INSTALLED") == "1":
        return None  # the installed package's own copy
    cands = []
    lib = os.environ.get("CT_LIBRARY")
    if lib:
        cands.append(os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(lib))), "cli", "carbontracker"))
    cands += sorted(glob.glob(os.path.join(REPO, "build*", "cli", "carbontracker")), key=os.path.getmtime,
                    reverse=True)
    for c in cands:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise RuntimeError(
        "no carbontracker tool to test: build it (cmake --build build --target carbontracker_cli) "
        "or set CT_CLI to its path"
    )


def use_cli():
    """Points CT_CLI at the tool under test; returns its path (or None = installed)."""
    path = find_cli()
    if path:
        os.environ["CT_CLI"] = path
    return path


def child_env():
    """Environment for a child Python that imports the package under test and _support."""
    env = dict(os.environ)
    paths = [HERE] if os.environ.get("CT_TEST_INSTALLED") == "1" else [PYDIR, HERE]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env
