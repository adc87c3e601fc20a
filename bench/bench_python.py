#!/usr/bin/env python3
"""Cost of CarbonTracker.epoch_start() / epoch_end() from Python (target: < 50 us each).

Usage: CT_LIBRARY=build/src/libcarbontracker.so python3 bench/bench_python.py [epochs [trackers]]
(without CT_LIBRARY: the installed package's library, else build*/src/).
Defaults: 1000 epochs per tracker (a long training), 20 trackers per set-up.

Each call is timed on its own with time.perf_counter_ns(), over every epoch
of every tracker, in three set-ups:
  rapl         a fake powercap tree (one package zone: the C library preads
               energy_uj at each call), no log files;
  rapl+logs    the same with log_dir set (epoch_end writes the standard log
               and the JSON Lines record of the epoch);
  sim          a simulated CPU (no file I/O at all);
and, for comparison, the bare ctypes call on the same tracker (rapl set-up):
the wrapper's own share is the difference.
"""

import ctypes
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, os.path.join(REPO, "python", "tests"))

import _support  # noqa: E402

_support.use_library()
from carbontracker import _capi  # noqa: E402
from carbontracker.tracker import CarbonTracker  # noqa: E402

COMMON = dict(verbose=0, update_interval=3600, carbon_intensity=100.0, offline=True, epochs_before_pred=1)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def summary(ns):
    us = [x / 1000.0 for x in ns]
    return f"median {statistics.median(us):6.2f} us  p99 {pct(us, 99):6.2f} us  mean {statistics.mean(us):6.2f} us"


def run(name, n, reps, make, rapl=None):
    starts, ends = [], []
    for _ in range(reps):
        _one(n, make, rapl, starts, ends)
    print(f"{name:10s} epoch_start: {summary(starts)}")
    print(f"{name:10s} epoch_end:   {summary(ends)}")
    return starts, ends


def _one(n, make, rapl, starts, ends):
    t = make(n)
    pc = time.perf_counter_ns
    for _ in range(n):
        a = pc()
        t.epoch_start()
        b = pc()
        if rapl is not None:
            rapl.add_uj(1000)
        c = pc()
        t.epoch_end()
        d = pc()
        starts.append(b - a)
        ends.append(d - c)
    assert t.epoch_counter == n, (t.epoch_counter, n)
    t.close()


def run_raw(n, reps, make, rapl):
    starts, ends = [], []
    for _ in range(reps):
        _one_raw(n, make, rapl, starts, ends)
    print(f"{'ctypes':10s} ct_epoch_start: {summary(starts)}")
    print(f"{'ctypes':10s} ct_epoch_end:   {summary(ends)}")


def _one_raw(n, make, rapl, starts, ends):
    t = make(n)
    lib = _capi.lib()
    start, end, h = lib.ct_epoch_start, lib.ct_epoch_end, t._h
    pc = time.perf_counter_ns
    for _ in range(n):
        a = pc()
        rc1 = start(h)
        b = pc()
        rapl.add_uj(1000)
        c = pc()
        rc2 = end(h)
        d = pc()
        assert rc1 == 0 and rc2 == 0
        starts.append(b - a)
        ends.append(d - c)
    t.close()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"library {_capi.library_path()}; {reps} trackers x {n} epochs per set-up")
    rapl = _support.FakeRapl()
    logdir = tempfile.mkdtemp(prefix="ct-bench-")
    try:
        run("rapl", n, reps, lambda k: CarbonTracker(epochs=k, components="cpu", **COMMON), rapl)
        run("rapl+logs", n, reps, lambda k: CarbonTracker(epochs=k, components="cpu", log_dir=logdir, **COMMON), rapl)
        run("sim", n, reps, lambda k: CarbonTracker(epochs=k, components="cpu", sim_cpu="bench", sim_cpu_tdp=100.0,
                                              **COMMON))
        run_raw(n, reps, lambda k: CarbonTracker(epochs=k, components="cpu", **COMMON), rapl)
    finally:
        rapl.close()
        shutil.rmtree(logdir, ignore_errors=True)


if __name__ == "__main__":
    main()
