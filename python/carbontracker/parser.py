"""Reads carbontracker log files: the original's parser API, in pure Python.

A run writes a standard log (``..._carbontracker.log``) and an output log
(``..._carbontracker_output.log``, what was printed); both are paired by the
file name part before ``_carbontracker``. The C library writes the same two
files in the original's wording, so logs of both implementations are read.

Differences from the original (carbontracker 2.x), on purpose:

* numbers are returned as Python lists (nested lists where the original
  returns 2-D numpy arrays): this package uses the standard library only.
  ``numpy.array(x)`` gives the original's arrays back;
* the epoch count of an ``Actual consumption for N epoch(s):`` block is read
  (the original's pattern never captures it and always reports 1, so a
  finished run was counted with its prediction instead of its actual);
* a block without ``This is equivalent to:`` lines no longer borrows the
  CO2eq of the next block, device names may contain dots, and device names
  are stripped of the space after each comma;
* unpaired or empty files are skipped with a warning instead of raising.
"""

import math
import os
import re
import warnings

from .exceptions import MismatchedEpochsError, MismatchedLogFilesError  # noqa: F401

__all__ = [
    "parse_all_logs",
    "parse_logs",
    "aggregate_consumption",
    "print_aggregate",
    "get_consumption",
    "get_early_stop",
    "get_devices",
    "get_epoch_durations",
    "get_avg_power_usages",
    "get_all_logs",
    "get_most_recent_logs",
    "get_time",
]

_STD_SUFFIX = "_carbontracker.log"
_OUT_SUFFIX = "_carbontracker_output.log"

# The original's patterns (see docs/python.md), with the fixes listed above.
_COMPONENTS_RE = re.compile(r"(?m)The following components were found:(.*)$")
_DEVICE_RE = re.compile(r" (\w+) with device\(s\) (.*?)\.(?= \w+ with device\(s\) |\s*$)")
_DURATION_RE = re.compile(r"Duration: (\d+):(\d{2}):(\d\d?(?:.\d{2})?)")
_TIME_RE = re.compile(r"(\d+):(\d{2}):(\d\d?(?:.\d{2})?)")
_POWER_RE = re.compile(r"Average power usage \(W\) for (.+): (.*)")
_EARLY_STOP_RE = re.compile(r"(?i)Training was interrupted")
_EPOCH_RE = re.compile(r"(?m)- Epoch (\d+):\s*$")
_BLOCK_RE = re.compile(r"(?im)(Actual|Predicted) consumption(?: for (\d+) epoch\(s\))?:[ \t]*\r?\n")
# A block ends at the next log line (timestamp) or the next "CarbonTracker:" message.
_BLOCK_END_RE = re.compile(r"(?m)^(?:\d{4}-\d{2}-\d{2}|CarbonTracker:)")
_FIELD_RES = {
    "time": re.compile(r"(?im)^\s*Time:\s*(.*?)\s*$"),
    "energy": re.compile(r"(?im)^\s*Energy:\s*(\S+)\s+kWh\s*$"),
    "co2eq": re.compile(r"(?im)^\s*CO2eq:\s*(\S+)\s+g\s*$"),
}
_EQUIV_RE = re.compile(r"(?is)This is equivalent to:\s*\n(.*)")


def _read(path):
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        return f.read()


def get_time(time_str):
    """Seconds in "H:MM:SS" or "H:MM:SS.ss", or None."""
    m = _TIME_RE.search(time_str or "")
    if not m:
        return None
    return float(m.group(1)) * 3600 + float(m.group(2)) * 60 + float(m.group(3))


def _float(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return float("nan")


def _parse_equivalents(text):
    out = {}
    for line in text.splitlines():
        parts = line.strip().split(" ", 1)
        if len(parts) != 2 or not parts[0] or not parts[1].strip():
            continue
        try:
            out[parts[1].strip()] = float(parts[0])
        except ValueError:
            continue
    return out


def _parse_block(kind_epochs, body):
    epochs_s = kind_epochs
    fields = {}
    for key, rx in _FIELD_RES.items():
        m = rx.search(body)
        fields[key] = m.group(1) if m else None
    if fields["energy"] is None or fields["co2eq"] is None:
        return None
    eq = _EQUIV_RE.search(body)
    return {
        "epochs": int(epochs_s) if epochs_s else None,
        "duration (s)": get_time(fields["time"]),
        "energy (kWh)": _float(fields["energy"]),
        "co2eq (g)": _float(fields["co2eq"]),
        "equivalents": _parse_equivalents(eq.group(1)) if eq else None,
    }


def get_consumption(output_log_data):
    """(actual, pred) from an output log's text; each is None or
    {"epochs", "duration (s)", "energy (kWh)", "co2eq (g)", "equivalents"}.

    ``epochs`` of an actual block printed without a count ("Actual
    consumption:", when epochs_before_pred is 0) is None here;
    :func:`parse_all_logs` fills it from the standard log.
    """
    found = {"actual": None, "predicted": None}
    for m in _BLOCK_RE.finditer(output_log_data):
        kind = m.group(1).lower()
        if found[kind] is not None:
            continue  # the first block of each kind, as the original
        rest = output_log_data[m.end():]
        end = _BLOCK_END_RE.search(rest)
        body = rest[: end.start()] if end else rest
        found[kind] = _parse_block(m.group(2), body)
    return found["actual"], found["predicted"]


def get_early_stop(std_log_data):
    """True when the run stopped before all monitored epochs."""
    return bool(_EARLY_STOP_RE.search(std_log_data))


def get_devices(std_log_data):
    """{component: [device, ...]} from "The following components were found:" (first one)."""
    m = _COMPONENTS_RE.search(std_log_data)
    if not m:
        return {}
    devices = {}
    for comp, dev_str in _DEVICE_RE.findall(m.group(1).rstrip()):
        devices[comp.lower()] = [d.strip() for d in dev_str.split(",")]
    return devices


def get_epoch_durations(std_log_data):
    """Epoch durations in s, in order."""
    return [float(h) * 3600 + float(m) * 60 + float(s) for h, m, s in _DURATION_RE.findall(std_log_data)]


_BRACKETS_RE = re.compile(r"\[([^\]]*)\]")
_NUMBER_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf", re.I)


def _power_values(text):
    """W values of one line: "46.2", "[61.2 55.3]" (numpy), "None"; a trailing
    note such as " (estimated)" is ignored."""
    text = text.strip()
    if text.startswith("None") or text == "":
        return [0.0]
    m = _BRACKETS_RE.match(text)
    if m:
        vals = [_float(v) for v in m.group(1).replace(",", " ").split()]
    else:
        n = _NUMBER_RE.match(text)
        vals = [float(n.group(0))] if n else []
    return vals or [float("nan")]


def get_avg_power_usages(std_log_data):
    """{component: [[W per value of that epoch], ...]} (one inner list per epoch).

    The line's value is a number, a bracketed list (one value per device, as
    numpy printed it) or ``None`` (no sample in that epoch: [0.0], as the
    original)."""
    out = {}
    for comp, value in _POWER_RE.findall(std_log_data):
        out.setdefault(comp.strip().lower(), []).append(_power_values(value))
    return out


def _log_pairs(log_dir):
    """{key: (std, out)} for non-empty files, plus the unpaired names."""
    std, out = {}, {}
    for name in os.listdir(log_dir):
        path = os.path.join(log_dir, name)
        if not os.path.isfile(path):
            continue
        if name.endswith(_OUT_SUFFIX):
            out[name[: -len(_OUT_SUFFIX)]] = path
        elif name.endswith(_STD_SUFFIX):
            std[name[: -len(_STD_SUFFIX)]] = path
    return std, out


def get_all_logs(log_dir):
    """(output_logs, std_logs): paired, non-empty logs sorted by name.

    Unpaired or empty files are skipped with one warning each (the original
    raised MismatchedLogFilesError when it could not pair them)."""
    std, out = _log_pairs(log_dir)
    outs, stds = [], []
    for key in sorted(set(std) | set(out)):
        s, o = std.get(key), out.get(key)
        if s is None or o is None:
            warnings.warn(f"carbontracker: {s or o} has no matching "
                          f"{'output' if o is None else 'standard'} log; skipped", stacklevel=3)
            continue
        if os.path.getsize(s) == 0 or os.path.getsize(o) == 0:
            warnings.warn(f"carbontracker: {s if os.path.getsize(s) == 0 else o} is empty; run skipped",
                          stacklevel=3)
            continue
        outs.append(o)
        stds.append(s)
    return outs, stds


def get_most_recent_logs(log_dir):
    """(std_log, output_log) of the most recently modified pair."""
    std, out = _log_pairs(log_dir)
    keys = [k for k in std if k in out]
    if not keys:
        raise FileNotFoundError(f"no carbontracker log pair (*{_STD_SUFFIX} + *{_OUT_SUFFIX}) in {log_dir}")
    key = max(keys, key=lambda k: (os.path.getmtime(std[k]), k))
    return std[key], out[key]


def parse_logs(log_dir, std_log_file=None, output_log_file=None):
    """Per-component measurements of one run (the most recent in log_dir by default).

    Returns {component: {"avg_power_usages (W)": [[W, ...] per epoch] or None,
    "avg_energy_usages (J)": [[J, ...] per epoch] or None,
    "epoch_durations (s)": [s per epoch] or None, "devices": [str]}}.
    Energy is power times the epoch's duration, per value. Raises
    MismatchedEpochsError when a component's power lines and the durations
    differ in number (a truncated log)."""
    if std_log_file is None or output_log_file is None:
        std_log_file, output_log_file = get_most_recent_logs(log_dir)
    data = _read(std_log_file)
    durations = get_epoch_durations(data)
    powers = get_avg_power_usages(data)
    components = {}
    for comp, devices in get_devices(data).items():
        power = powers.get(comp) or None
        dur = list(durations) or None
        energy = None
        if power is not None and dur is not None:
            if len(power) != len(dur):
                raise MismatchedEpochsError(
                    f"{std_log_file}: found {len(power)} power measurements for {comp} and {len(dur)} "
                    "duration measurements. Expected equal number of measurements."
                )
            energy = [[p * d for p in row] for row, d in zip(power, dur)]
        components[comp] = {
            "avg_power_usages (W)": power,
            "avg_energy_usages (J)": energy,
            "epoch_durations (s)": dur,
            "devices": devices,
        }
    return components


def _entry(out_path, std_path):
    out_data = _read(out_path)
    std_data = _read(std_path)
    actual, pred = get_consumption(out_data)
    if actual is not None and actual["epochs"] is None:
        # "Actual consumption:" without a count: the epochs the standard log recorded.
        actual["epochs"] = len(_EPOCH_RE.findall(std_data)) or len(get_epoch_durations(std_data))
    if pred is not None and pred["epochs"] is None:
        pred["epochs"] = 0
    return actual, pred, get_early_stop(std_data)


def parse_all_logs(log_dir):
    """Every run in log_dir: a list of {"output_filename", "standard_filename",
    "components" (see parse_logs), "early_stop", "actual", "pred"}, where actual
    and pred are None or {"epochs", "duration (s)", "energy (kWh)",
    "co2eq (g)", "equivalents"}."""
    logs = []
    outs, stds = get_all_logs(log_dir)
    for out, std in zip(outs, stds):
        actual, pred, early_stop = _entry(out, std)
        try:
            components = parse_logs(log_dir, std, out)
        except MismatchedEpochsError as e:
            warnings.warn(f"carbontracker: {e}; its components are left out", stacklevel=2)
            components = {}
        logs.append(
            {
                "output_filename": out,
                "standard_filename": std,
                "components": components,
                "early_stop": early_stop,
                "actual": actual,
                "pred": pred,
            }
        )
    return logs


def _chosen(actual, pred, early_stop):
    """The original's stated rule: the actual consumption when the run finished
    (all predicted epochs measured) or stopped early, else the prediction."""
    if actual is None:
        return pred
    if pred is None:
        return actual
    if early_stop or actual["epochs"] >= pred["epochs"]:
        return actual
    return pred


def aggregate_consumption(log_dir):
    """(total_energy_kwh, total_co2eq_g, total_equivalents) over every run in log_dir."""
    total_energy = 0.0
    total_co2eq = 0.0
    total_equivalents = {}
    outs, stds = get_all_logs(log_dir)
    for out, std in zip(outs, stds):
        actual, pred, early_stop = _entry(out, std)
        chosen = _chosen(actual, pred, early_stop)
        if chosen is None:
            continue
        if not math.isnan(chosen["energy (kWh)"]):
            total_energy += chosen["energy (kWh)"]
        if not math.isnan(chosen["co2eq (g)"]):
            total_co2eq += chosen["co2eq (g)"]
        for key, value in (chosen["equivalents"] or {}).items():
            total_equivalents[key] = total_equivalents.get(key, 0) + value
    return total_energy, total_co2eq, total_equivalents


def format_aggregate(energy, co2eq, equivalents):
    """The aggregate sentence for given totals (kWh, g, {unit: value})."""
    text = (
        f"The training of models in this work is estimated to use {energy:.3f} kWh of electricity "
        f"contributing to {co2eq / 1000:.3f} kg of CO2eq. "
    )
    eq = " or ".join(f"{v:.3f} {k}" for k, v in equivalents.items())
    if eq:
        text += f"This is equivalent to {eq}. "
    return text + "Measured by carbontracker (https://github.com/lfwa/carbontracker)."


def print_aggregate(log_dir):
    """Prints the aggregate sentence for every run in log_dir."""
    print(format_aggregate(*aggregate_consumption(log_dir)))


if __name__ == "__main__":  # python -m carbontracker.parser LOG_DIR
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python -m carbontracker.parser LOG_DIR")
    print_aggregate(sys.argv[1])
