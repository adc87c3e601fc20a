#!/usr/bin/env bash
# test_exporter_prometheus.sh - `carbontracker exporter` scraped by a real
# Prometheus on 127.0.0.1 (issue 13). Checks, against the fake powercap truth:
#  - the node counter read back through Prometheus' HTTP API equals the energy
#    added to the fake counter after the exporter started;
#  - a run's energy (a real JSON Lines log written by the wrapper, job id with
#    a quote and a backslash) is scraped with its escaped job_id label intact;
#  - `promtool check metrics` passes; names are in base units; no `job` or
#    `instance` label of ours; the textfile is written atomically;
#  - a port in use is a clear error; a run being written or removed is handled.
#  - a GPU (fake NVML: 40 W for 0.4 s after the exporter loaded it, 16 J) read
#    back through Prometheus as 16 J; a second GPU of the same model is a
#    separate series (index label);
# Usage: test_exporter_prometheus.sh CLI HAVE_MICROHTTPD [FAKE_NVML.so]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
CLI=$1
[ "${2:-0}" = 1 ] || skip "carbontracker was built without libmicrohttpd (CT_WITH_MICROHTTPD): no --listen"
need_cmd prometheus prometheus
need_cmd promtool prometheus
need_cmd python3 python3
need_cmd curl curl

work=$(mktemp -d "${TMPDIR:-/tmp}/ct-prom-XXXXXX")
pids=()
cleanup() {
  [ -z "${watchdog:-}" ] || kill $(pgrep -P "$watchdog") "$watchdog" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
# End before ctest's timeout (150 s; its SIGKILL runs no trap) so that cleanup stops Prometheus and the exporter.
( sleep "${CT_TEST_WATCHDOG:-130}"; kill -TERM $$ ) 2>/dev/null &
watchdog=$!
curl() { command curl --max-time 10 "$@"; }
export CT_OFFLINE=1 CT_NVML_LIBRARY=/nonexistent/libnvidia-ml.so.1 CT_DRM_ROOT=/nonexistent
FAKE_NVML=${3:-}
export CT_POWERCAP_ROOT=$work/powercap
fake_zone "$CT_POWERCAP_ROOT" intel-rapl:0 package-0 1000000
mkdir -p "$work/runs/1234"

# A real run log: the wrapper measures a command of two Keras-style epochs that adds 3 J to package 0
# (two epochs, so that a prediction is made and recorded).
SLURM_JOB_ID='7"odd\id' "$CLI" --log_dir "$work/runs/1234" --components cpu --verbose 0 --epochs 2 \
  --epoch-preset keras -- \
  bash -c "source '$here/lib.sh'; echo 'Epoch 1/2'; fake_add '$CT_POWERCAP_ROOT' intel-rapl:0 1000000;
           echo 'Epoch 2/2'; fake_add '$CT_POWERCAP_ROOT' intel-rapl:0 2000000"

port=$(free_port)
components=cpu
if [ -n "$FAKE_NVML" ] && [ -f "$FAKE_NVML" ]; then
  printf 'device GPU-11111111-2222-3333-4444-555555555555 Fake GPU\nstep 0 0 0.5 40 0.9 0\n' >"$work/nvml.scenario"
  printf 'device GPU-66666666-2222-3333-4444-555555555555 Fake GPU\nstep 0 0\n' >>"$work/nvml.scenario"
  components=all
fi
CT_NVML_LIBRARY=${FAKE_NVML:-$CT_NVML_LIBRARY} FAKE_NVML_SCENARIO=$work/nvml.scenario \
  "$CLI" exporter --listen "127.0.0.1:$port" --runs "$work/runs" --components $components --interval 1 \
  --textfile "$work/node.prom" 2>"$work/exporter.err" &
pids+=($!)
wait_for 20 curl -sf "http://127.0.0.1:$port/metrics" || { cat "$work/exporter.err"; fail "exporter did not come up"; }

# Port in use: a second exporter on the same port fails at once, with the reason.
set +e
"$CLI" exporter --listen "127.0.0.1:$port" --components none 2>"$work/second.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "second exporter on a used port exited $rc, expected 1"
grep -q "cannot listen on 127.0.0.1:$port: Address already in use" "$work/second.err" ||
  fail "no clear port-in-use message: $(cat "$work/second.err")"

# The truth: 5 J added to the counter after the exporter started.
fake_add "$CT_POWERCAP_ROOT" intel-rapl:0 5000000

# A JSONL being written (a line without its newline yet) must not break anything.
printf '{"event": "header", "schema": 1, "host": "h2", "job_id": "99", "rank": 0' >"$work/runs/9_carbontracker.jsonl"

curl -sf "http://127.0.0.1:$port/metrics" >"$work/scrape.txt"
promtool check metrics <"$work/scrape.txt" || fail "promtool check metrics failed"
# Base units only, never a label named job or instance.
python3 - "$work/scrape.txt" <<'PY'
import re, sys
ok = ("_joules_total", "_grams_total", "_watts", "_joules", "_grams_per_kwh", "_runs", "_finished")
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
    assert name.endswith(ok), "metric name without a base unit suffix: " + name
    labels = re.findall(r'[{,]([a-zA-Z_][a-zA-Z0-9_]*)="', line)
    assert "job" not in labels and "instance" not in labels, "reserved label in: " + line
PY
grep -q 'job_id="7\\"odd\\\\id"' "$work/scrape.txt" || fail "job_id not escaped: $(grep run_energy "$work/scrape.txt")"

# Textfile: present and complete (promtool); rewritten every second while this runs.
wait_for 20 test -s "$work/node.prom" || fail "no textfile"
promtool check metrics <"$work/node.prom" || fail "textfile fails promtool"

# A real Prometheus scraping the exporter every second.
pport=$(free_port)
cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: carbontracker
    static_configs:
      - targets: ['127.0.0.1:$port']
YML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$pport" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=($!)

query() { # promql -> first value, or empty
  curl -sf --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}
has_value() { # promql expected
  [ "$(query "$1")" = "$2" ]
}
wait_for 60 has_value 'carbontracker_energy_joules_total{source="rapl",device="cpu:0"}' 5 || {
  tail -5 "$work/prometheus.log"
  fail "Prometheus has $(query 'carbontracker_energy_joules_total{source="rapl",device="cpu:0"}') J for package 0, truth 5 J"
}
if [ "$components" = all ]; then
  wait_for 30 has_value 'carbontracker_energy_joules_total{component="gpu",index="1"}' 16 ||
    fail "GPU counter through Prometheus: $(query 'carbontracker_energy_joules_total{component="gpu",index="1"}') J, truth 16 J"
  has_value 'carbontracker_energy_joules_total{component="gpu",index="2"}' 0 || fail "second GPU series"
  has_value 'count(carbontracker_energy_joules_total{component="gpu",device="Fake GPU"})' 2 || fail "two GPU series"
fi
wait_for 30 has_value 'carbontracker_run_energy_joules_total{component="cpu"}' 3 ||
  fail "run energy through Prometheus: $(query 'carbontracker_run_energy_joules_total{component="cpu"}'), truth 3 J"
label=$(curl -sf --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode 'query=carbontracker_run_energy_joules_total' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["metric"]["job_id"])')
[ "$label" = '7"odd\id' ] || fail "job_id label read back as [$label]"
has_value 'count(carbontracker_energy_joules_total{exported_job!=""})' "" || fail "an exported_job label appeared"

# The Grafana dashboard: every panel's query is valid PromQL and finds data in this Prometheus.
python3 - "$here/../../dashboards/carbontracker.json" "$pport" <<'PY' || fail "dashboard queries"
import json, sys, time, urllib.parse, urllib.request
dash = json.load(open(sys.argv[1]))
for p in dash["panels"]:
    for t in p["targets"]:
        q = t["expr"].replace("$host", ".*").replace("$job_id", ".*").replace("$__range", "1m")
        url = "http://127.0.0.1:%s/api/v1/query?" % sys.argv[2] + urllib.parse.urlencode({"query": q})
        for attempt in range(100):  # rate()/increase() need two scrapes in the window: poll, 0.2 s apart
            r = json.load(urllib.request.urlopen(url, timeout=10))
            assert r["status"] == "success", (p["title"], r)
            if r["data"]["result"]:
                break
            time.sleep(0.2)
        assert r["data"]["result"], "panel %r: no data for %s" % (p["title"], q)
PY

# The run disappears: its series goes, the exporter keeps serving.
rm -rf "$work/runs/1234"
curl -sf "http://127.0.0.1:$port/metrics" >"$work/scrape2.txt"
grep -q '^carbontracker_run_energy_joules_total{' "$work/scrape2.txt" &&
  { cat "$work/scrape2.txt"; fail "a removed run is still exported"; }
grep -q 'carbontracker_runs{host=".*"} 1' "$work/scrape2.txt" || fail "the partial JSONL run is not counted"

# Stopped cleanly by SIGTERM.
kill -TERM "${pids[0]}"
wait "${pids[0]}" || fail "exporter exited non-zero on SIGTERM"
pids=("${pids[@]:1}")
ls "$work" | grep -q 'node.prom.tmp' && fail "temporary textfile left behind"
promtool check metrics <"$work/node.prom" || fail "last textfile fails promtool"
echo "PASS: exporter scraped by Prometheus: 5 J node counter, 3 J run ($components) read back exactly"
