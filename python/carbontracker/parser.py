"""Reads carbontracker log files: the original's parser API, read through the C library.

A run writes a standard log (``..._carbontracker.log``) and an output log
(``..._carbontracker_output.log``, what was printed); both are paired by the
file name part before ``_carbontracker``. Every log is read by the library's
one reader of each format (``ct_text_log_json`` for one text log pair,
``ct_parse_dirs`` for the totals), so this module, ``carbontracker parse``
and the report always agree: ranks of one distributed job are combined, a
run written as JSON Lines and as text logs counts once.

Differences from the original (carbontracker 2.x), on purpose:

* numbers are returned as Python lists (nested lists where the original
  returns 2-D numpy arrays): ``numpy.array(x)`` gives the original's arrays;
* the epoch count of an ``Actual consumption for N epoch(s):`` block is read
  (the original's pattern never captures it and always reports 1, so a
  finished run was counted with its prediction instead of its actual);
* a block without ``This is equivalent to:`` lines no longer borrows the
  CO2eq of the next block, device names may contain dots, and device names
  are stripped of the space after each comma;
* unpaired or empty files are skipped with a warning instead of raising;
* :func:`aggregate_consumption` totals what ``carbontracker parse`` totals:
  also our JSON Lines logs, ranks combined; a run whose energy is not a
  number is skipped with a warning (the original added its CO2eq alone).
"""

import math
import os
import warnings

from . import _capi
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
_CAR = "km travelled by car"


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _num(v):
    return float("nan") if v is None else float(v)


def get_time(time_str):
    """Seconds in "H:MM:SS" or "H:MM:SS.ss", or None."""
    parts = (time_str or "").strip().split(":")
    if len(parts) != 3 or not parts[0].isdigit() or len(parts[1]) != 2 or not parts[1].isdigit():
        return None
    try:
        sec = float(parts[2])
    except ValueError:
        return None
    return float(parts[0]) * 3600 + float(parts[1]) * 60 + sec


def _block(b):
    """The library's block -> the original's shape."""
    if b is None:
        return None
    return {
        "epochs": b["epochs"],
        "duration (s)": b["duration_s"],
        "energy (kWh)": _num(b["energy_kwh"]),
        "co2eq (g)": _num(b["co2eq_g"]),
        "equivalents": b["equivalents"] or None,
    }


def get_consumption(output_log_data):
    """(actual, pred) from an output log's text; each is None or
    {"epochs", "duration (s)", "energy (kWh)", "co2eq (g)", "equivalents"}.

    ``epochs`` of an actual block printed without a count ("Actual
    consumption:", when epochs_before_pred is 0) is None here;
    :func:`parse_all_logs` fills it from the standard log.
    """
    t = _capi.text_log(None, output_log_data)
    return _block(t["actual"]), _block(t["predicted"])


def get_early_stop(std_log_data):
    """True when the run stopped before all monitored epochs."""
    return bool(_capi.text_log(std_log_data, None)["early_stop"])


def get_devices(std_log_data):
    """{component: [device, ...]} from "The following components were found:" (first one)."""
    return _capi.text_log(std_log_data, None)["devices"]


def get_epoch_durations(std_log_data):
    """Epoch durations in s, in order."""
    return [float(d) for d in _capi.text_log(std_log_data, None)["durations"]]


def _powers(t):
    return {comp: [[_num(v) for v in row] for row in rows] for comp, rows in t["power"].items()}


def get_avg_power_usages(std_log_data):
    """{component: [[W per value of that epoch], ...]} (one inner list per epoch).

    The line's value is a number, a bracketed list (one value per device, as
    numpy printed it) or ``None`` (no sample in that epoch: [0.0], as the
    original); NaN is kept so that epochs stay aligned."""
    return _powers(_capi.text_log(std_log_data, None))


def _log_pairs(log_dir):
    """{key: path} of standard and output logs (regular files only)."""
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


def _components(t, std_log_file):
    durations = [float(d) for d in t["durations"]]
    powers = _powers(t)
    components = {}
    for comp, devices in t["devices"].items():
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
    return _components(_capi.text_log(_read(std_log_file), None), std_log_file)


def _entry(out_path, std_path):
    """The library's reading of one pair, and (actual, pred, early_stop) in the original's shape."""
    t = _capi.text_log(_read(std_path), _read(out_path))
    actual, pred = _block(t["actual"]), _block(t["predicted"])
    if pred is not None and pred["epochs"] is None:
        pred["epochs"] = 0
    return t, actual, pred, bool(t["early_stop"])


def parse_all_logs(log_dir):
    """Every run in log_dir: a list of {"output_filename", "standard_filename",
    "components" (see parse_logs), "early_stop", "actual", "pred"}, where actual
    and pred are None or {"epochs", "duration (s)", "energy (kWh)",
    "co2eq (g)", "equivalents"}."""
    logs = []
    outs, stds = get_all_logs(log_dir)
    for out, std in zip(outs, stds):
        t, actual, pred, early_stop = _entry(out, std)
        try:
            components = _components(t, std)
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


def _run_equivalents(run):
    """The equivalents of the block a run counts with: from its output log
    when it has one (the original's lines), else its car km."""
    f = run["file"]
    if run["format"] == "text" or f.endswith(_STD_SUFFIX):
        base = f[: -len(_STD_SUFFIX)] if f.endswith(_STD_SUFFIX) else None
    else:
        base = f[: -len("_carbontracker.jsonl")] if f.endswith("_carbontracker.jsonl") else None
    text_copy = run["format"] == "text" or run["files"] == 3  # not ranks combined
    if base and text_copy and os.path.isfile(base + _OUT_SUFFIX):
        t = _capi.text_log(None, _read(base + _OUT_SUFFIX))
        block = t["predicted"] if run["consumption"] == "predicted" else t["actual"]
        return (block or {}).get("equivalents") or {}
    return {_CAR: _capi.lib().ct_car_km(run["co2eq_g"] or 0.0)}


def _aggregate(log_dir):
    doc, warns = _capi.parse_runs([log_dir])
    for w in warns:
        warnings.warn(f"carbontracker: {w}", stacklevel=3)
    equivalents = {}
    for run in doc["runs"]:
        for key, value in _run_equivalents(run).items():
            equivalents[key] = equivalents.get(key, 0) + value
    t = doc["total"]
    return t["energy_kwh"] or 0.0, t["co2eq_g"] or 0.0, equivalents, t.get("measurement", "measured")


def aggregate_consumption(log_dir):
    """(total_energy_kwh, total_co2eq_g, total_equivalents) over every run in
    log_dir, as ``carbontracker parse`` totals them (ct_parse_dirs)."""
    energy, co2eq, equivalents, _ = _aggregate(log_dir)
    return energy, co2eq, equivalents


def format_aggregate(energy, co2eq, equivalents, measurement="measured", decimals=3):
    """The aggregate sentence for given totals (kWh, g, {unit: value}) with
    `decimals` digits after the point (3: the sentence for a paper).
    measurement: "measured", "partly estimated" or "estimated" (says so)."""
    text = (
        f"The training of models in this work is estimated to use {energy:.{decimals}f} kWh of electricity "
        f"contributing to {co2eq / 1000:.{decimals}f} kg of CO2eq. "
    )
    eq = " or ".join(f"{v:.{decimals}f} {k}" for k, v in equivalents.items() if not math.isnan(v))
    if eq:
        text += f"This is equivalent to {eq}. "
    by = {"estimated": "Estimated (not measured) by carbontracker",
          "partly estimated": "Partly measured and partly estimated by carbontracker"}.get(
        measurement, "Measured by carbontracker")
    return text + by + " (https://github.com/lfwa/carbontracker)."


def print_aggregate(log_dir):
    """Prints the aggregate sentence for every run in log_dir with the
    original's 16 decimals (energy in kWh, CO2eq in kg, the equivalents);
    format_aggregate() gives the rounded sentence."""
    energy, co2eq, equivalents, measurement = _aggregate(log_dir)
    print(format_aggregate(energy, co2eq, equivalents, measurement, decimals=16))


if __name__ == "__main__":  # python -m carbontracker.parser LOG_DIR
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python -m carbontracker.parser LOG_DIR")
    print_aggregate(sys.argv[1])
