#!/usr/bin/env bash
# bench/device_check.sh - carbontracker on a real NVIDIA GPU, in under 5 minutes.
#
# For a machine with an NVIDIA GPU and no package registry: it needs only gcc,
# cmake, the NVIDIA driver (nvidia-smi, libnvidia-ml) and python3 with PyTorch
# (CUDA). It
#   1. builds the library and the CLI with every optional feature off;
#   2. runs one known GPU load (a PyTorch training, N epochs of fixed work)
#      three times: untracked (the baseline), through our Python package
#      (python/ with CT_LIBRARY pointing at the built libcarbontracker.so), and
#      under the CLI wrapper (epochs found in the program's output);
#   3. samples beside every run, at 100 ms: nvidia-smi (power.draw and, where
#      the driver has it, total_energy_consumption) and NVML's power reading
#      polled by this script through ctypes (nvmlDeviceGetPowerUsage, the call
#      and the rate of the library's power-polling mode);
#   4. writes ONE results file (markdown): per epoch the energy from our
#      tracker (NVML energy counter where the GPU has one), from the polled
#      NVML power, from nvidia-smi's power readings and from its energy
#      counter; our overhead on the epoch times against the baseline; the
#      prediction after epoch 1 against the actual.
#
# Usage: bench/device_check.sh [results-file]
#   default results file: $OUT/device_check_results.md when $OUT is set, else
#   build-device/device_check_results.md. Env: CT_CHECK_EPOCHS (default 5),
#   CT_CHECK_EPOCH_S (target seconds per epoch, default 6), CT_CHECK_GPU
#   (NVML/nvidia-smi index of the GPU to load, default 0).
# Exit: 0 done; 2 no usable NVIDIA GPU or PyTorch without CUDA (nothing run);
#   1 a step failed (its log is printed).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
epochs=${CT_CHECK_EPOCHS:-5}
epoch_s=${CT_CHECK_EPOCH_S:-6}
gpu=${CT_CHECK_GPU:-0}
work=$repo/build-device
mkdir -p "$work"
if [ $# -ge 1 ]; then
  results=$1
elif [ -n "${OUT:-}" ]; then
  results=$OUT/device_check_results.md
else
  results=$work/device_check_results.md
fi
py=${PYTHON:-python3}
t_start=$(date +%s)

die_nogpu() {
  echo "device_check: $*" >&2
  echo "device_check: this check needs a machine with an NVIDIA GPU, its driver (nvidia-smi, libnvidia-ml.so.1)" \
    "and python3 with a CUDA build of PyTorch; nothing was run." >&2
  exit 2
}
step() { echo "=== device_check [$(($(date +%s) - t_start)) s] $*"; }

# ---------------------------------------------------------------- preconditions
command -v nvidia-smi >/dev/null 2>&1 || die_nogpu "nvidia-smi not found (no NVIDIA driver)"
if ! gpus=$(nvidia-smi --query-gpu=index,name,driver_version --format=csv,noheader 2>&1) || [ -z "$gpus" ]; then
  die_nogpu "nvidia-smi lists no GPU: ${gpus:-no output}"
fi
gpu_line=$(printf '%s\n' "$gpus" | awk -F', ' -v g="$gpu" '$1 == g')
[ -n "$gpu_line" ] || die_nogpu "no GPU with index $gpu (nvidia-smi lists: $gpus)"
command -v "$py" >/dev/null 2>&1 || die_nogpu "$py not found"
if ! torch_info=$("$py" -c 'import torch, sys
if not torch.cuda.is_available(): sys.exit("torch " + torch.__version__ + ": CUDA not available")
print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))' 2>&1); then
  die_nogpu "PyTorch with CUDA is not usable: $torch_info"
fi
for tool in cmake gcc; do command -v "$tool" >/dev/null 2>&1 || { echo "device_check: $tool not found" >&2; exit 1; }; done
step "GPU $gpu_line; torch $torch_info"

# ---------------------------------------------------------------- build (features off)
step "build (curl, jansson, cairo off; Release)"
if ! { cmake -S . -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCT_WITH_CURL=OFF -DCT_WITH_JANSSON=OFF \
  -DCT_WITH_CAIRO=OFF -DCT_BUILD_TESTS=OFF -DCT_BUILD_BENCH=OFF &&
  cmake --build "$work/build" -j"$(nproc)" --target carbontracker carbontracker_cli; } >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log"
  echo "device_check: build failed (log: $work/build.log)" >&2
  exit 1
fi
lib=$work/build/src/libcarbontracker.so
cli=$work/build/cli/carbontracker
if [ ! -f "$lib" ] || [ ! -x "$cli" ]; then
  echo "device_check: build made no $lib or $cli" >&2
  exit 1
fi

# ---------------------------------------------------------------- the load and the samplers
cat >"$work/train.py" <<'PY'
"""A known GPU load: N epochs of the same fixed work (an MLP trained on
random data that stays on the GPU). --mode plain prints epoch markers for the
CLI wrapper; --mode python tracks itself through the carbontracker package."""
import argparse, json, sys, time
import torch

ap = argparse.ArgumentParser()
ap.add_argument("--mode", choices=["baseline", "plain", "python"], required=True)
ap.add_argument("--epochs", type=int, required=True)
ap.add_argument("--steps", type=int, default=0, help="steps per epoch; 0 = calibrate to --epoch-s")
ap.add_argument("--epoch-s", type=float, default=6.0)
ap.add_argument("--times", required=True, help="JSON file for the epoch times")
ap.add_argument("--log-dir")
a = ap.parse_args()

torch.manual_seed(0)
dev = torch.device("cuda")
model = torch.nn.Sequential(torch.nn.Linear(4096, 8192), torch.nn.ReLU(), torch.nn.Linear(8192, 8192),
                            torch.nn.ReLU(), torch.nn.Linear(8192, 1000)).to(dev)
opt = torch.optim.SGD(model.parameters(), lr=1e-3)
x = torch.randn(2048, 4096, device=dev)
y = torch.randint(0, 1000, (2048,), device=dev)
loss_fn = torch.nn.CrossEntropyLoss()

def step():
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()

for _ in range(5):  # warm-up: kernels chosen, memory allocated
    step()
torch.cuda.synchronize()
steps = a.steps
if steps <= 0:
    t0 = time.perf_counter()
    for _ in range(20):
        step()
    torch.cuda.synchronize()
    steps = max(1, int(a.epoch_s / ((time.perf_counter() - t0) / 20)))

tracker = None
if a.mode == "python":
    from carbontracker.tracker import CarbonTracker
    tracker = CarbonTracker(epochs=a.epochs, components="gpu", log_dir=a.log_dir, log_file_prefix="python",
                            update_interval=1, verbose=1, offline=True, country="DK")
times = []
for e in range(a.epochs):
    if tracker:
        tracker.epoch_start()
    if a.mode == "plain":
        print(f"Epoch {e + 1} start", flush=True)
    t0 = time.time()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    t1 = time.time()
    if a.mode == "plain":
        print(f"Epoch {e + 1} end", flush=True)
    if tracker:
        tracker.epoch_end()
    times.append({"epoch": e + 1, "start": t0, "end": t1})
if tracker:
    tracker.stop()
with open(a.times, "w") as f:
    json.dump({"steps": steps, "epochs": times}, f)
PY

cat >"$work/nvml_poll.py" <<'PY'
"""Polls NVML's power reading (nvmlDeviceGetPowerUsage, mW) and, where the GPU
has it, its energy counter (nvmlDeviceGetTotalEnergyConsumption, mJ) every
100 ms through ctypes, until stdin closes; one CSV line per sample."""
import ctypes, sys, threading, time
gpu, out = int(sys.argv[1]), open(sys.argv[2], "w", buffering=1)
nv = ctypes.CDLL("libnvidia-ml.so.1")
assert nv.nvmlInit_v2() == 0, "nvmlInit_v2 failed"
h = ctypes.c_void_p()
assert nv.nvmlDeviceGetHandleByIndex_v2(gpu, ctypes.byref(h)) == 0, "no such GPU"
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
out.write("unix_s,power_mw,energy_mj\n")
mw, mj = ctypes.c_uint(), ctypes.c_ulonglong()
while not stop.is_set():
    t = time.time()
    p = mw.value if nv.nvmlDeviceGetPowerUsage(h, ctypes.byref(mw)) == 0 else ""
    e = mj.value if nv.nvmlDeviceGetTotalEnergyConsumption(h, ctypes.byref(mj)) == 0 else ""
    out.write(f"{t:.3f},{p},{e}\n")
    stop.wait(max(0.0, 0.1 - (time.time() - t)))
nv.nvmlShutdown()
PY

smi_fields=power.draw,total_energy_consumption
if ! nvidia-smi -i "$gpu" --query-gpu=timestamp,$smi_fields --format=csv,noheader,nounits >/dev/null 2>&1; then
  smi_fields=power.draw # older drivers: no energy counter field
fi

# run NAME CMD...: the load with both samplers beside it.
run() {
  local name=$1; shift
  local dir=$work/$name
  rm -rf "$dir"
  mkdir -p "$dir/logs"
  nvidia-smi -i "$gpu" --query-gpu=timestamp,$smi_fields --format=csv,noheader,nounits -lms 100 \
    >"$dir/smi.csv" 2>"$dir/smi.err" &
  local smi_pid=$!
  local fifo=$dir/poll.stop
  mkfifo "$fifo"
  "$py" "$work/nvml_poll.py" "$gpu" "$dir/nvml.csv" <"$fifo" 2>"$dir/nvml.err" &
  local poll_pid=$!
  exec 9>"$fifo"
  step "run $name"
  local rc=0
  "$@" >"$dir/run.log" 2>&1 || rc=$?
  exec 9>&-
  kill "$smi_pid" 2>/dev/null || true
  wait "$smi_pid" 2>/dev/null || true
  wait "$poll_pid" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$dir/run.log"
    echo "device_check: run $name failed (exit $rc; log: $dir/run.log)" >&2
    exit 1
  fi
}

export CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=$gpu # CUDA's device 0 is NVML's index $gpu
run baseline "$py" "$work/train.py" --mode baseline --epochs "$epochs" --epoch-s "$epoch_s" \
  --times "$work/baseline/times.json"
steps=$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["steps"])' "$work/baseline/times.json")
run python env CT_LIBRARY="$lib" PYTHONPATH="$repo/python${PYTHONPATH:+:$PYTHONPATH}" \
  "$py" "$work/train.py" --mode python --epochs "$epochs" --steps "$steps" --times "$work/python/times.json" \
  --log-dir "$work/python/logs"
run cli "$cli" --epochs "$epochs" --components gpu --offline --country DK --log_dir "$work/cli/logs" \
  --log_file_prefix cli --epoch-pattern '^Epoch [0-9]+ start' --epoch-end-pattern '^Epoch [0-9]+ end' -- \
  "$py" "$work/train.py" --mode plain --epochs "$epochs" --steps "$steps" --times "$work/cli/times.json"

# ---------------------------------------------------------------- the results file
step "results"
cat >"$work/analyse.py" <<'PY'
"""One markdown results file from the three runs."""
import csv, datetime, glob, json, os, statistics, sys
work, results, gpu_line, torch_info, steps, elapsed = sys.argv[1:7]

def load_jsonl(run):
    files = glob.glob(os.path.join(work, run, "logs", "*_carbontracker.jsonl"))
    if len(files) != 1:
        raise SystemExit(f"{run}: expected one JSON Lines log, found {files}")
    return [json.loads(l) for l in open(files[0]) if l.strip().startswith("{")]

def smi_samples(run):
    out = []
    for row in csv.reader(open(os.path.join(work, run, "smi.csv"))):
        if len(row) < 2:
            continue
        try:  # "2026/11/29 08:52:23.123" in local time
            t = datetime.datetime.strptime(row[0].strip(), "%Y/%m/%d %H:%M:%S.%f").timestamp()
            p = float(row[1])
        except ValueError:
            continue
        e = None
        if len(row) > 2:
            try:
                e = float(row[2]) / 1000.0  # mJ -> J
            except ValueError:
                pass
        out.append((t, p, e))
    return out

def nvml_samples(run):
    out = []
    for r in csv.DictReader(open(os.path.join(work, run, "nvml.csv"))):
        out.append((float(r["unix_s"]), float(r["power_mw"]) / 1000 if r["power_mw"] else None,
                    float(r["energy_mj"]) / 1000 if r["energy_mj"] else None))
    return out

def integrate(samples, t0, t1):
    """Trapezoid of power over [t0, t1] (linear between samples); None if not covered."""
    pts = [(t, p) for t, p, _ in samples if p is not None]
    if len(pts) < 2 or pts[0][0] > t0 or pts[-1][0] < t1:
        return None
    def at(t):
        for (ta, pa), (tb, pb) in zip(pts, pts[1:]):
            if ta <= t <= tb:
                return pa + (pb - pa) * (t - ta) / (tb - ta) if tb > ta else pa
        return None
    xs = [t0] + [t for t, _ in pts if t0 < t < t1] + [t1]
    return sum((b - a) * (at(a) + at(b)) / 2 for a, b in zip(xs, xs[1:]))

def counter_delta(samples, t0, t1):
    """Energy counter at the samples nearest t0 and t1 (J); None if absent."""
    pts = [(t, e) for t, _, e in samples if e is not None]
    if len(pts) < 2:
        return None
    a = min(pts, key=lambda s: abs(s[0] - t0))
    b = min(pts, key=lambda s: abs(s[0] - t1))
    return b[1] - a[1] if b[0] > a[0] else None

def fmt(v, spec=".1f"):
    return "n/a" if v is None else format(v, spec)

def pct(a, b):
    return "n/a" if a is None or b in (None, 0) else f"{100.0 * (a - b) / b:+.1f} %"

base = json.load(open(os.path.join(work, "baseline", "times.json")))["epochs"]
base_mean = statistics.mean(e["end"] - e["start"] for e in base)
lines = [f"# carbontracker device check ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC)", "",
         f"- GPU: {gpu_line}", f"- PyTorch: {torch_info}", f"- load: MLP 4096-8192-8192-1000, batch 2048, "
         f"{steps} steps per epoch; whole check took {elapsed} s",
         f"- baseline (untracked) epoch time: mean {base_mean:.3f} s over {len(base)} epochs", ""]
for run, title in (("python", "Python package (CarbonTracker)"), ("cli", "CLI wrapper (carbontracker -- python3 ...)")):
    recs = load_jsonl(run)
    eps = [r for r in recs if r.get("event") == "epoch"]
    pred = next((r for r in recs if r.get("event") == "prediction"), None)
    final = next((r for r in recs if r.get("event") == "final"), None)
    actual = (final or {}).get("actual") or {}
    smi, nvml = smi_samples(run), nvml_samples(run)
    methods = sorted({d.get("method", "?") for r in eps for d in r.get("devices", []) if d.get("component") == "gpu"})
    lines += [f"## {title}", "", f"Our GPU method: {', '.join(methods) or 'none'}.", "",
              "| epoch | s | ours (J) | NVML power polled, 100 ms (J) | nvidia-smi power.draw (J) | nvidia-smi energy counter (J) | NVML counter read by this script (J) | ours vs smi counter |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    tot = {"ours": 0.0}
    for r in eps:
        t0, t1 = r["start"], r["end"]
        ours = (r.get("energy_j") or {}).get("gpu")
        polled = integrate(nvml, t0, t1)
        smi_p = integrate(smi, t0, t1)
        smi_e = counter_delta(smi, t0, t1)
        nvml_e = counter_delta(nvml, t0, t1)
        ref = smi_e if smi_e is not None else nvml_e
        lines.append(f"| {r['epoch']} | {t1 - t0:.3f} | {fmt(ours)} | {fmt(polled)} | {fmt(smi_p)} | {fmt(smi_e)} | "
                     f"{fmt(nvml_e)} | {pct(ours, ref)} |")
        tot["ours"] += ours or 0.0
    times = json.load(open(os.path.join(work, run, "times.json")))["epochs"]
    mean = statistics.mean(e["end"] - e["start"] for e in times)
    lines += ["", f"- epoch time: mean {mean:.3f} s against {base_mean:.3f} s untracked: overhead {pct(mean, base_mean)}"]
    act_j = (actual.get("energy_j") or {}).get("gpu")
    lines.append(f"- actual (final record): GPU {fmt(act_j)} J, {fmt(actual.get('duration_s'), '.1f')} s, "
                 f"{actual.get('epochs', 'n/a')} epochs (sum of the epoch rows: {tot['ours']:.1f} J)")
    if pred:
        p = (pred.get("energy_j") or {}).get("gpu")
        pd, ad = pred.get("duration_s"), actual.get("duration_s")
        lines.append(f"- prediction after {pred.get('after_epochs')} epoch(s) for {pred.get('epochs')} epochs: GPU "
                     f"{fmt(p)} J ({pct(p, act_j)} against the actual), {fmt(pd, '.1f')} s ({pct(pd, ad)})")
    else:
        lines.append("- no prediction record in the log")
    lines.append("")
open(results, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
"$py" "$work/analyse.py" "$work" "$results" "$gpu_line" "$torch_info" "$steps" "$(($(date +%s) - t_start))"
step "done: $results"
