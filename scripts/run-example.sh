#!/usr/bin/env bash
# Builds carbontracker and runs the bundled example training (a small MLP in C)
# under the tracker: components found, the prediction after epoch 1, the actual
# consumption at the end, and where the logs are.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "== carbontracker $(./build/cli/carbontracker --version | tr '\n' ' ')"
echo "== example training: 5 epochs, logs in ./carbontracker_logs"
./build/examples/ct_example_train --epochs 5 --log-dir carbontracker_logs "$@"
echo "== aggregate over ./carbontracker_logs"
./build/cli/carbontracker parse carbontracker_logs || true
