#!/usr/bin/env python3
"""Builds data/cpu-specs.csv from the CPU templates of the quattor project
(https://github.com/quattor/template-library-standard, hardware/cpu/*/*.pan,
Apache-2.0): one row per template with its model string (a /proc/cpuinfo
spelling), cores, hardware threads, TDP in W and codename.

    python3 data/make-cpu-specs.py <checkout>/hardware/cpu COMMIT > data/cpu-specs.csv

Templates without a TDP ("power") are kept when they give cores and threads.
"""
import csv
import os
import re
import sys

root, commit = sys.argv[1], sys.argv[2]
field = re.compile(r'^\s*"(\w+)"\s*=\s*(.*?)\s*;')
rows = []
for dirpath, _, files in os.walk(root):
    for name in sorted(files):
        if not name.endswith(".pan"):
            continue
        vals = {}
        with open(os.path.join(dirpath, name), encoding="utf-8") as f:
            for line in f:
                m = field.match(line)
                if m:
                    vals[m.group(1)] = m.group(2).strip('"')
        model = vals.get("model", "")
        try:
            cores = int(vals.get("cores", "0"))
            threads = int(vals.get("max_threads", "0"))
        except ValueError:
            continue
        power = vals.get("power", "")
        if not model or cores <= 0 or threads <= 0:
            continue
        try:
            tdp = float(power) if power else 0.0
        except ValueError:
            tdp = 0.0
        rel = os.path.relpath(os.path.join(dirpath, name), os.path.dirname(os.path.dirname(root)))
        rows.append((model, cores, threads, "%g" % tdp if tdp > 0 else "", vals.get("type", ""), rel))
rows.sort(key=lambda r: (r[0].lower(), r[5]))
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["name", "cores", "threads", "tdp_w", "codename", "template"])
for r in rows:
    w.writerow(r)
sys.stderr.write("%d rows from quattor/template-library-standard@%s\n" % (len(rows), commit))
