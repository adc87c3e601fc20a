#!/usr/bin/env bash
# Builds and runs every test: the normal build, then AddressSanitizer+UBSan,
# then ThreadSanitizer (the library's measurement thread and everything that
# drives it), a build with all optional features off, and the Python package.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
run_ctest() { # build-dir cmake-args...
  local dir=$1; shift
  echo "=== configure $dir: $*"
  cmake -S . -B "$dir" -DCT_BUILD_BENCH=ON "$@" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
  grep -E "carbontracker: " "$dir.configure.log" || true
  cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1 || { cat "$dir.build.log"; exit 1; }
  echo "=== ctest $dir"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 300
}
mkdir -p build-ci
run_ctest build-ci/plain -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest build-ci/asan -DCMAKE_BUILD_TYPE=Debug -DCT_SANITIZE=address,undefined
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  run_ctest build-ci/tsan -DCMAKE_BUILD_TYPE=Debug -DCT_SANITIZE=thread
run_ctest build-ci/bare -DCT_WITH_CURL=OFF -DCT_WITH_JANSSON=OFF -DCT_WITH_CAIRO=OFF
if [ -f python/tests/run.sh ]; then
  echo "=== python package"
  bash python/tests/run.sh
fi
echo "=== all test stages passed"
