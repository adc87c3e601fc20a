#!/usr/bin/env bash
# Builds and runs every test, warnings as errors (CT_WERROR=ON; users build
# without it): the normal build; Release with gcc and with clang (what users
# build); AddressSanitizer+UBSan with gcc and with clang (clang's UBSan also
# checks float-to-integer overflow; its stage builds the libFuzzer targets and
# replays their corpora); ThreadSanitizer (the library's measurement thread
# and everything that drives it); a build with all optional features off; the
# source format check; and the Python package.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
run_ctest() { # build-dir cmake-args...
  local dir=$1; shift
  echo "=== configure $dir: $*"
  cmake -S . -B "$dir" -DCT_BUILD_BENCH=ON -DCT_WERROR=ON "$@" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
  grep -E "carbontracker: " "$dir.configure.log" || true
  cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1 || { cat "$dir.build.log"; exit 1; }
  echo "=== ctest $dir"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 300
}
have() { command -v "$1" >/dev/null 2>&1; }

mkdir -p build-ci
run_ctest build-ci/plain -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_ctest build-ci/release-gcc -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc
run_ctest build-ci/release-clang -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest build-ci/asan -DCMAKE_BUILD_TYPE=Debug -DCT_SANITIZE=address,undefined
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest build-ci/asan-clang -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCT_SANITIZE=address,undefined \
  -DCT_BUILD_FUZZ=ON
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  run_ctest build-ci/tsan -DCMAKE_BUILD_TYPE=Debug -DCT_SANITIZE=thread
run_ctest build-ci/bare -DCT_WITH_CURL=OFF -DCT_WITH_JANSSON=OFF -DCT_WITH_CAIRO=OFF
if [ -f python/tests/run.sh ]; then
  echo "=== python package"
  bash python/tests/run.sh
fi
# Format: the whole C tree follows .clang-format (clang-format 14).
c_files() {
  git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'cli/*.c' 'cli/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' \
    'bench/*.h' 'fuzz/*.c' 'fuzz/*.h' 'examples/*.c' 'examples/*.h' 'slurm/*.c' 'slurm/*.h' 'python/*.c'
}
if have clang-format; then
  echo "=== clang-format --dry-run --Werror ($(clang-format --version | grep -o 'version [0-9.]*'))"
  c_files | xargs clang-format --dry-run --Werror
else
  echo "=== clang-format not installed: format check NOT run" >&2
  exit 1
fi
# Scripts that run where nobody watches them (CI, a lent GPU machine): shellcheck-clean.
if have shellcheck; then
  echo "=== shellcheck"
  shellcheck scripts/test.sh scripts/install-deps.sh bench/device_check.sh
fi
echo "=== all test stages passed"
