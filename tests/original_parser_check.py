#!/usr/bin/env python3
"""Reads a log directory the way the original carbontracker's parser does
(its regular expressions, as documented in shared/spec/carbontracker-reference.md
and used by carbontracker 2.x) and checks the numbers against our JSON Lines
file of the same run. Exit 0 when every check holds; prints what failed.

usage: original_parser_check.py LOG_DIR
       original_parser_check.py --totals LOG_DIR CLI
The second form totals every run in LOG_DIR as the original's
aggregate_consumption() does (its rule, re-implemented from its documented
behaviour: pairs of sorted output/standard logs; the actual block when the
standard log says "Training was interrupted" or the actual and predicted
epoch counts are equal, else the prediction; only one of them: that one)
and compares the totals with `CLI parse LOG_DIR --format json`.
"""
import json
import math
import os
import re
import sys

# The original's expressions.
COMP_RE = re.compile(r"The following components were found:(.*)\n")
DEVICE_RE = re.compile(r" (.*?) with device\(s\) (.*?)\.")
DURATION_RE = re.compile(r"Duration: (\d+):(\d{2}):(\d\d?(?:.\d{2})?)")
POWER_RE = re.compile(r"Average power usage \(W\) for (.+): (\[.+\]|None)")
POWER_RE_DOC = re.compile(r"Average power usage \(W\) for (.+): (.*)")
EARLY_RE = re.compile(r"(?i)Training was interrupted")


def block_re(kind):
    return re.compile(
        r"(?i)" + kind + r" consumption for (\d*) epoch\(s\):\n\s*Time:\s*(.*)\n\s*Energy:\s*(.*)\s+kWh\n\s*"
        r"CO2eq:\s*(.*)\s+g\n\s*(This is equivalent to:\n([\S\s]*?)\n(^\w|\d|\Z))?")


# The older aggregate_consumption() demands the equivalents block and a timestamp after it.
def block_re_old(kind):
    return re.compile(
        r"(?i)" + kind + r" consumption for (\d*) epoch\(s\):\n\s*Time:\s*(.*)\n\s*Energy:\s*(.*)\s+kWh\n\s*"
        r"CO2eq:\s*(.*)\s+g\n\s*This is equivalent to:\n([\S\s]*?)\n\d{4}-\d{2}-\d{2}")


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def near(a, b, rel=1e-6, abs_=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def main():
    d = sys.argv[1]
    files = sorted(os.listdir(d))
    stds = [f for f in files if re.match(r".*carbontracker.log", f) and not f.endswith("_output.log")]
    outs = [f for f in files if re.match(r".*carbontracker_output.log", f)]
    check(len(stds) == 1 and len(outs) == 1, f"expected one std and one output log, got {stds} {outs}")
    jl = [f for f in files if f.endswith("_carbontracker.jsonl")]
    check(len(jl) == 1, f"expected one jsonl, got {jl}")
    if failures:
        return
    std = open(os.path.join(d, stds[0])).read()
    out = open(os.path.join(d, outs[0])).read()
    records = [json.loads(line) for line in open(os.path.join(d, jl[0]))]
    check(stds[0].split("_carbontracker")[0] == outs[0].split("_carbontracker")[0], "std/output logs do not pair")
    for line in out.splitlines():
        if re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - ", line) and " - CarbonTracker: " not in line:
            failures.append(f"output log record without the original's 'CarbonTracker: ' prefix: {line!r}")
    for line in std.splitlines() + out.splitlines():
        if re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - ", line) is None and not line.startswith(("\t", "Actual", "Predicted")):
            failures.append(f"line without the log prefix: {line!r}")
    header = records[0]
    epochs = [r for r in records if r["event"] == "epoch"]
    final = records[-1]
    check(header["event"] == "header" and final["event"] == "final", "jsonl must start with header and end with final")

    comp = COMP_RE.findall(std)
    check(len(comp) == 1, "components line not found")
    devices = {c.lower(): [x.strip() for x in dev.split(",")] for c, dev in DEVICE_RE.findall(comp[0])} if comp else {}
    for dev in header["devices"]:
        check(dev["name"] in devices.get(dev["component"], []), f"device {dev['name']} not found by the parser: {devices}")

    durations = [float(h) * 3600 + float(m) * 60 + float(s) for h, m, s in DURATION_RE.findall(std)]
    check(len(durations) == len(epochs), f"{len(durations)} durations for {len(epochs)} epochs")
    for dur, ep in zip(durations, epochs):
        check(abs(dur - ep["duration_s"]) <= 0.006, f"duration {dur} vs {ep['duration_s']}")

    powers = POWER_RE.findall(std)
    check(len(powers) == len(POWER_RE_DOC.findall(std)), "power lines differ between the two expressions")
    by_comp = {}
    for c, p in powers:
        vals = [float(x) for x in p.strip("[]").split(" ") if x]
        by_comp.setdefault(c, []).append(vals)
    for c in ("cpu", "gpu"):
        if c not in epochs[0]["energy_j"]:
            continue
        check(len(by_comp.get(c, [])) == len(epochs), f"{c}: power lines per epoch")
        for vals, ep in zip(by_comp.get(c, []), epochs):
            # The original parser's energy: average power x duration, per device.
            parsed = sum(vals) * ep["duration_s"]
            check(near(parsed, ep["energy_j"][c], rel=1e-3, abs_=1e-3), f"{c} energy {parsed} vs {ep['energy_j'][c]}")

    check(bool(EARLY_RE.search(std)) == final["early_stop"], "early stop flag")

    for kind, key in (("Actual", "actual"), ("Predicted", "predicted")):
        m = block_re(kind).search(out)
        want = final[key]
        if want is None:
            check(m is None, f"{kind} block present without a {key} result")
            continue
        check(m is not None, f"{kind} block not found by the parser")
        if not m:
            continue
        check(int(m.group(1)) == want["epochs"], f"{kind} epochs {m.group(1)} vs {want['epochs']}")
        check(near(float(m.group(3)), want["energy_kwh"], rel=1e-6, abs_=1e-9), f"{kind} energy {m.group(3)}")
        check(near(float(m.group(4)), want["co2eq_g"], rel=1e-6, abs_=1e-9), f"{kind} co2 {m.group(4)}")
        if "This is equivalent to" in m.group(0):
            check(m.group(6) is not None and "km travelled by car" in m.group(6), "equivalents not parsed")
            old = block_re_old(kind).search(out)
            check(old is not None, f"{kind}: the older aggregate expression does not match")


def original_totals(d):
    """The original's aggregate_consumption() over d: (energy kWh, CO2eq g, runs counted)."""
    files = [os.path.join(d, f) for f in os.listdir(d)
             if os.path.isfile(os.path.join(d, f)) and os.path.getsize(os.path.join(d, f)) > 0]
    outs = sorted(filter(re.compile(r".*carbontracker_output.log").match, files))
    stds = sorted(filter(re.compile(r".*carbontracker.log").match, files))
    check(len(outs) == len(stds), f"{len(outs)} output logs, {len(stds)} standard logs")
    energy = co2 = 0.0
    runs = 0
    for out_path, std_path in zip(outs, stds):
        out = open(out_path).read()
        std = open(std_path).read()
        actual, pred = block_re("Actual").search(out), block_re("Predicted").search(out)
        early = bool(EARLY_RE.findall(std))
        if actual is None and pred is None:
            continue
        if actual is None:
            use = pred
        elif pred is None:
            use = actual
        else:
            use = actual if early or int(actual.group(1)) == int(pred.group(1)) else pred
        energy += float(use.group(3))
        co2 += float(use.group(4))
        runs += 1
    return energy, co2, runs


def totals_main(d, cli):
    import subprocess
    energy, co2, runs = original_totals(d)
    res = subprocess.run([cli, "parse", d, "--format", "json"], capture_output=True, text=True)
    check(res.returncode == 0, f"parse failed: {res.stderr}")
    if failures:
        return
    ours = json.loads(res.stdout)["total"]
    check(runs == ours["runs"], f"the original's parser counts {runs} runs, ours {ours['runs']}")
    check(near(energy, ours["energy_kwh"], rel=1e-6, abs_=1e-11),
          f"energy: the original's parser {energy!r} kWh, ours {ours['energy_kwh']!r} kWh")
    check(near(co2, ours["co2eq_g"], rel=1e-6, abs_=1e-9),
          f"CO2eq: the original's parser {co2!r} g, ours {ours['co2eq_g']!r} g")
    print(f"totals: original parser {energy!r} kWh {co2!r} g over {runs} runs; ours {ours['energy_kwh']!r} kWh")
    return True


if __name__ == "__main__":
    totals = len(sys.argv) == 4 and sys.argv[1] == "--totals"
    if totals:
        totals_main(sys.argv[2], sys.argv[3])
    else:
        main()
    if failures:
        print("\n".join("FAIL: " + f for f in failures))
        sys.exit(1)
    print("original parser totals: all checks passed" if totals else "original parser expressions: all checks passed")
