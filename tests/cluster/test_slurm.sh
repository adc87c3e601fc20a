#!/usr/bin/env bash
# test_slurm.sh - the SPANK plugin in a real one-host, two-node SLURM cluster
# (issue 13): munged, slurmctld and two slurmd node names (n1, n2) on
# 127.0.0.1, started here with a generated slurm.conf in a temporary
# directory. Each node name gets its own fake powercap tree (CT_POWERCAP_ROOT
# in that slurmd's environment), so the per-node truth is exact: a task adds
# a known energy to its node's counter while the step is measured.
# Checks: srun over both nodes and sbatch (batch step + srun step) give one
# JSONL per node and step; `parse --job` equals the truth per node and in
# total, counting the batch step's node once; a job without --carbontracker
# writes nothing; a DIR that cannot be created leaves the job's exit code;
# everything stops cleanly.
# GPUs: n1's slurmd loads the fake NVML with two GPUs (A: 100 W; B: 40 W for
# 0.4 s, 16 J); a job given GPU 1 (CUDA_VISIBLE_DEVICES=1 in its environment,
# as SLURM sets it for a GPU allocation) is charged B's 16 J on n1 only; a job
# given no GPU is charged none.
# Usage: test_slurm.sh CLI PLUGIN.so FAKE_NVML.so [SANITIZERS]   (as root; skipped otherwise)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
CLI=$1
PLUGIN=${2:-}
FAKE_NVML=${3:-}
[ -z "${4:-}" ] || skip "sanitizer build (${4}): the plugin runs inside slurmstepd, which is not built with sanitizers"
[ -n "$PLUGIN" ] && [ -f "$PLUGIN" ] || skip "the SPANK plugin was not built (slurm/spank.h missing: apt install libslurm-dev)"
[ "$(id -u)" = 0 ] || skip "starting munged/slurmctld/slurmd needs root"
for c in munged slurmctld slurmd srun sbatch sinfo scontrol python3; do
  need_cmd "$c" "slurmd slurmctld slurm-client munge"
done
H=$(hostname)
getent hosts "$H" >/dev/null || skip "host name $H does not resolve (needed by slurmd)"

work=$(mktemp -d "${TMPDIR:-/tmp}/ct-slurm-XXXXXX")
chmod 755 "$work"
pids=()
stop_all() {
  # slurmd first, then slurmctld, then munged: each by the pid we started.
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  local rc=$?
  [ -z "${watchdog:-}" ] || kill $(pgrep -P "$watchdog") "$watchdog" 2>/dev/null || true
  stop_all
  if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
    for f in "$work"/log/*.log; do echo "== $f"; tail -20 "$f"; done
  fi
  [ -n "${CT_TEST_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
# Never outlive ctest's timeout (170 s) with daemons left behind: ctest kills this script with SIGKILL,
# which no trap sees. A watchdog ends it with SIGTERM first (the EXIT trap then stops the daemons), and
# every client command has its own limit, so a stuck job fails the test instead of hanging it.
( sleep "${CT_TEST_WATCHDOG:-150}"; kill -TERM $$ ) 2>/dev/null &
watchdog=$!
srun() { timeout -k 5 60 srun "$@"; }
sbatch() { timeout -k 5 60 sbatch "$@"; }
scontrol() { timeout -k 5 20 scontrol "$@"; }
sinfo() { timeout -k 5 20 sinfo "$@"; }

mkdir -p "$work/munge" "$work/log" "$work/state" "$work/spool/n1" "$work/spool/n2" "$work/site" "$work/out"
chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.sock" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/log/munged.log" --seed-file="$work/munge/seed" \
  --foreground 2>>"$work/log/munged.log" &
munge_pid=$!
wait_for 20 test -S "$work/munge/munge.sock" || fail "munged did not start"

cport=$(free_port)
p1=$(free_port)
p2=$(free_port)
# report=comment: the job's totals into its AdminComment at its end (scontrol through a wrapper that
# knows this cluster's slurm.conf).
printf '#!/bin/sh\nSLURM_CONF=%s/slurm.conf exec %s "$@"\n' "$work" "$(command -v scontrol)" >"$work/scontrol.sh"
chmod 755 "$work/scontrol.sh"
cat >"$work/plugstack.conf" <<CONF
optional $PLUGIN dir=$work/site pue=1 interval=0.2 report=comment,output cli=$CLI scontrol=$work/scontrol.sh
CONF
cat >"$work/slurm.conf" <<CONF
ClusterName=ci
SlurmctldHost=$H
SlurmctldPort=$cport
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool/%n
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd-%n.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd-%n.log
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
PlugStackConfig=$work/plugstack.conf
NodeName=n1 NodeHostname=$H NodeAddr=127.0.0.1 Port=$p1 CPUs=2 RealMemory=500
NodeName=n2 NodeHostname=$H NodeAddr=127.0.0.1 Port=$p2 CPUs=2 RealMemory=500
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
export CT_OFFLINE=1 CT_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1 CT_DRM_ROOT=/nonexistent
for n in n1 n2; do
  fake_zone "$work/pc-$n" intel-rapl:0 package-0 1000000
done
slurmctld -D -i -f "$work/slurm.conf" 2>>"$work/log/slurmctld.err" &
ctld_pid=$!
unset CUDA_VISIBLE_DEVICES
printf 'device GPU-00000000-1111-2222-3333-444444444444 Fake GPU A\nstep 0 100\n' >"$work/nvml.scenario"
# GPU B: 40 W from 0.5 s to 0.9 s after the step's tracker loaded NVML, 0 W otherwise: 16 J inside any
# step that lasts over 0.9 s (the task sleeps 1.5 s), whatever the load on this machine.
printf 'device GPU-55555555-1111-2222-3333-444444444444 Fake GPU B\nstep 0 0 0.5 40 0.9 0\n' >>"$work/nvml.scenario"
CT_POWERCAP_ROOT=$work/pc-n1 CT_NVML_LIBRARY=$FAKE_NVML FAKE_NVML_SCENARIO=$work/nvml.scenario \
  slurmd -D -f "$work/slurm.conf" -N n1 2>>"$work/log/slurmd-n1.err" &
pids+=($!)
CT_POWERCAP_ROOT=$work/pc-n2 slurmd -D -f "$work/slurm.conf" -N n2 2>>"$work/log/slurmd-n2.err" &
pids+=($!)
pids+=("$ctld_pid" "$munge_pid")
nodes_idle() { [ "$(sinfo -h -o '%T' | sort -u | tr -d '\n')" = "idle" ]; }
wait_for 60 nodes_idle || fail "nodes not idle: $(sinfo -h -o '%N %T' 2>&1)"

# The task on node NAME adds N uJ to that node's counter (one writer per tree).
cat >"$work/task.sh" <<TASK
source '$here/lib.sh'
case \$SLURMD_NODENAME in n1) d=\$1 ;; n2) d=\$2 ;; *) echo "unknown node \$SLURMD_NODENAME" >&2; exit 9 ;; esac
fake_add '$work/pc-'\$SLURMD_NODENAME intel-rapl:0 \$d
if [ "\$SLURM_PROCID" = 0 ]; then echo JOB=\$SLURM_JOB_ID; fi
sleep \${3:-0}
TASK

# 1. srun over both nodes: n1 5 J, n2 7 J; GPU 1 (B, 16 J) given to the job on n1.
CUDA_VISIBLE_DEVICES=1 srun -N2 -n2 --carbontracker="$work/out" bash "$work/task.sh" 5000000 7000000 1.5 \
  >"$work/srun1.out" 2>"$work/srun1.err" || fail "srun job failed: $(cat "$work/srun1.err")"
job1=$(sed -n 's/^JOB=//p' "$work/srun1.out")
[ -n "$job1" ] || fail "no job id for the srun job"
ls "$work/out/$job1" >"$work/ls1.txt" || fail "no $work/out/$job1"
[ "$(grep -c '^n1\.0_.*_carbontracker\.jsonl$' "$work/ls1.txt")" = 1 ] || fail "n1 step 0 log missing: $(cat "$work/ls1.txt")"
[ "$(grep -c '^n2\.0_.*_carbontracker\.jsonl$' "$work/ls1.txt")" = 1 ] || fail "n2 step 0 log missing: $(cat "$work/ls1.txt")"
"$CLI" parse --job "$job1" "$work/out" --format json >"$work/job1.json" || fail "parse --job failed: $(cat "$work/job1.json")"
python3 - "$work/job1.json" <<'PY' || fail "job 1 totals differ from the truth: $(cat "$work/job1.json")"
import json, sys
j = json.load(open(sys.argv[1]))
nodes = {n["node"]: n for n in j["nodes"]}
def near(a, b): return abs(a - b) <= 0.005 * b
assert set(nodes) == {"n1", "n2"}, nodes
assert near(nodes["n1"]["cpu_j"], 5.0), nodes["n1"]
assert near(nodes["n2"]["cpu_j"], 7.0), nodes["n2"]
assert near(j["total"]["cpu_j"], 12.0), j["total"]
assert nodes["n1"]["duration_s"] >= 1.5, nodes["n1"]
assert near(nodes["n1"]["gpu_j"], 16.0), nodes["n1"]   # GPU 1 (B) only, not A's 100 W
assert nodes["n2"]["gpu_j"] == 0, nodes["n2"]
assert near(j["total"]["energy_j"], 12.0 + nodes["n1"]["gpu_j"]), j["total"]
assert j["missing_nodes"] == [], j
for n in nodes.values():   # the attributed view: a CPU-time share of the node-level CPU energy, GPUs in full
    a = n["attributed"]
    assert a["method"] == "cpu-time-share" and 0 <= a["cpu_j"] <= n["cpu_j"] + 1e-9 and a["gpu_j"] == n["gpu_j"], n
PY

# 2. sbatch over both nodes, an srun step inside: the batch step on n1 covers the srun step's n1 part.
sbatch --wait -N2 --carbontracker="$work/out" -o "$work/batch.out" \
  --wrap "srun -N2 -n2 bash $work/task.sh 2000000 3000000" >"$work/sbatch.txt" ||
  fail "sbatch job failed: $(cat "$work/batch.out")"
job2=$(sed -n 's/Submitted batch job \([0-9]*\)/\1/p' "$work/sbatch.txt")
ls "$work/out/$job2" >"$work/ls2.txt"
for f in '^n1\.batch_' '^n1\.0_' '^n2\.0_'; do
  grep -q "$f.*_carbontracker\.jsonl$" "$work/ls2.txt" || fail "job $job2: no $f log: $(cat "$work/ls2.txt")"
done
"$CLI" parse --job "$job2" "$work/out" --format json >"$work/job2.json" || fail "parse --job $job2 failed"
python3 - "$work/job2.json" <<'PY' || fail "job 2 totals differ from the truth: $(cat "$work/job2.json")"
import json, sys
j = json.load(open(sys.argv[1]))
nodes = {n["node"]: n for n in j["nodes"]}
def near(a, b): return abs(a - b) <= 0.005 * b
assert near(nodes["n1"]["energy_j"], 2.0), nodes["n1"]   # the batch step covers step 0 on n1: once
assert near(nodes["n2"]["energy_j"], 3.0), nodes["n2"]
assert near(j["total"]["energy_j"], 5.0), j["total"]        # no GPU given: none charged
steps = {s["step"]: s for s in nodes["n1"]["steps"]}
assert steps["batch"]["counted"] and not steps["0"]["counted"], steps
PY
# The job's totals in its AdminComment (written at the batch step's end, report=comment).
has_comment() { scontrol show job "$job2" | grep -q 'AdminComment={"carbontracker":{"energy_j":5,"cpu_j":5,"gpu_j":0,'; }
wait_for 30 has_comment || fail "no AdminComment with the totals: $(scontrol show job "$job2" | grep -i comment)"
scontrol show job "$job2" | grep -q '"nodes":2,"missing_nodes":\[\],"measurement":"measured"' ||
  fail "AdminComment: $(scontrol show job "$job2" | grep -i comment)"
# ... and at the end of the job's output (report=output).
grep -q "^\[carbontracker\] Job $job2: .* 5.0 J measured on 2 node(s)" "$work/batch.out" ||
  fail "no totals at the end of the job's output: $(cat "$work/batch.out")"

# A node whose records are missing is named (the steps' node lists say where they ran).
mkdir -p "$work/partial/$job1"
cp "$work/out/$job1"/n1.* "$work/partial/$job1/"
"$CLI" parse --job "$job1" "$work/partial" --format json >"$work/partial.json" || true
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["missing_nodes"]==["n2"], j' "$work/partial.json" ||
  fail "missing node not named: $(cat "$work/partial.json")"
"$CLI" parse --job "$job1" "$work/partial" | grep -q "^n2 .*missing" || fail "text output does not flag n2 as missing"
# A job id with odd characters is refused before any path is built from it.
set +e
"$CLI" parse --job '../etc' "$work/out" 2>"$work/odd.err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "job id must be" "$work/odd.err" || fail "odd job id: rc $rc, $(cat "$work/odd.err")"
"$CLI" parse --job "$job2" "$work/out" >"$work/job2.txt"
grep -q "n1" "$work/job2.txt" && grep -q "n2" "$work/job2.txt" || fail "text output lacks node rows"

# 3. A job that does not ask is not measured: nothing written anywhere.
srun -N2 -n2 true
[ -z "$(ls -A "$work/site")" ] || fail "a job without --carbontracker wrote $(ls -A "$work/site")"

# 4. A DIR that cannot be created: the job runs and keeps its exit code; the reason is in the slurmd log.
set +e
srun -N2 -n2 --carbontracker=/proc/ct-cannot-write bash -c 'exit 3' 2>/dev/null
rc=$?
set -e
[ "$rc" = 3 ] || fail "a plugin error changed the job's exit code to $rc (expected 3)"
grep -q "carbontracker: job [0-9]*: cannot create /proc/ct-cannot-write" "$work/log/slurmd-n1.log" ||
  fail "no plugin error in the slurmd log"

# 5. A job of an ordinary user: its logs are created as that user and given to it; a DIR that user
#    cannot write is refused exactly as for the user (not measured, exit code kept, reason logged).
if nobody_gid=$(id -g nobody 2>/dev/null); then
  mkdir -p "$work/userout" "$work/rootonly"
  chown nobody:"$nobody_gid" "$work/userout"
  chmod 700 "$work/rootonly"
  sbatch --wait --uid=nobody --gid="$nobody_gid" --chdir=/tmp -o /dev/null -N1 --carbontracker="$work/userout" \
    --wrap 'exit 0' >"$work/sb5.txt" || fail "user job failed"
  job5=$(sed -n 's/Submitted batch job \([0-9]*\)/\1/p' "$work/sb5.txt")
  owner=$(stat -c %U "$work/userout/$job5" "$work/userout/$job5"/*_carbontracker.jsonl | sort -u | tr '\n' ' ')
  [ "$owner" = "nobody " ] || fail "user job's logs owned by [$owner], expected nobody"
  set +e
  sbatch --wait --uid=nobody --gid="$nobody_gid" --chdir=/tmp -o /dev/null -N1 --carbontracker="$work/rootonly" \
    --wrap 'exit 4' >"$work/sb6.txt"
  rc=$?
  set -e
  [ "$rc" = 4 ] || fail "a DIR the user cannot write changed the job's exit code to $rc (expected 4)"
  job6=$(sed -n 's/Submitted batch job \([0-9]*\)/\1/p' "$work/sb6.txt")
  grep -q "carbontracker: job $job6: cannot create $work/rootonly/$job6 as uid [0-9]*: Permission denied" \
    "$work/log/slurmd-n1.log" "$work/log/slurmd-n2.log" || fail "no 'Permission denied' for job $job6 in the slurmd log"
  [ -z "$(ls -A "$work/rootonly")" ] || fail "something was written into a DIR the user cannot write"
fi

# 6. Plugin overhead at a step's start and end, from its own log line (target: < 50 ms each).
grep -o 'start took [0-9.]* ms; stop took [0-9.]* ms' "$work/log/slurmd-n1.log" | tail -3

stop_all
echo "PASS: SPANK plugin on a 2-node SLURM: per-node energy equals the fake truth (jobs $job1, $job2)"
