#!/usr/bin/env bash
# Installs what building, running and testing carbontracker needs on Debian/Ubuntu
# (as root, or with sudo). Only missing packages are installed.
#   core build:      build-essential cmake pkg-config
#   optional:        libcurl4-openssl-dev (live intensity), libjansson-dev (JSON), libcairo2-dev (reports)
#   tests:           libcmocka-dev python3 python3-venv python3-pip poppler-utils (pdfinfo/pdftotext) git
#   CI stages:       clang + libclang-rt-14-dev (clang Release, clang ASan/UBSan, libFuzzer), clang-format
#                    (the format check), shellcheck (scripts)
#   clusters:        the SPANK plugin (libslurm-dev), the exporter's HTTP (libmicrohttpd-dev), and the engines
#                    the cluster tests start: slurmd slurmctld slurm-client munge prometheus (promtool) curl.
#                    --no-cluster leaves them out (those tests are then reported skipped).
set -euo pipefail
pkgs=(build-essential cmake pkg-config libcmocka-dev libcurl4-openssl-dev libjansson-dev libcairo2-dev
      python3 python3-venv python3-pip poppler-utils git ca-certificates
      clang libclang-rt-14-dev clang-format shellcheck)
if [ "${1:-}" != "--no-cluster" ]; then
  pkgs+=(libslurm-dev libmicrohttpd-dev slurmd slurmctld slurm-client munge prometheus curl)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
