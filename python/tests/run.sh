#!/usr/bin/env bash
# The Python package's tests (called by scripts/test.sh; runs on its own too):
#  1. the unit tests of python/ against the C library and the carbontracker
#     tool built from this tree (CT_LIBRARY / CT_CLI if set, else
#     build-ci/plain, else a build in build-ci/python);
#  2. `pip install ./python` from a fresh clone into a fresh venv (the package
#     builds its own copy of the library with CMake), then the same tests
#     against the installed package. Skip step 2 with CT_SKIP_PIP_INSTALL=1.
# Standard library unittest only; step 2 fetches setuptools from PyPI (pip's
# isolated build), as any `pip install ./python` does.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
py=${PYTHON:-python3}

lib=${CT_LIBRARY:-}
if [ -z "$lib" ]; then
  if [ -f build-ci/plain/src/libcarbontracker.so ] && [ -x build-ci/plain/cli/carbontracker ]; then
    lib=$repo/build-ci/plain/src/libcarbontracker.so
  else
    echo "=== python: building the library in build-ci/python"
    mkdir -p build-ci
    cmake -S . -B build-ci/python -DCT_BUILD_TESTS=OFF -DCT_BUILD_BENCH=OFF >build-ci/python.configure.log 2>&1 \
      || { cat build-ci/python.configure.log; exit 1; }
    cmake --build build-ci/python --target carbontracker --target carbontracker_cli -j"$(nproc)" \
      >build-ci/python.build.log 2>&1 \
      || { cat build-ci/python.build.log; exit 1; }
    lib=$repo/build-ci/python/src/libcarbontracker.so
  fi
fi

# The C tests' fake NVML (GPU test), when that build made it.
nvml=$(dirname "$(dirname "$(realpath "$lib")")")/tests/fake_nvml/libnvidia-ml.so.1
if [ -z "${CT_TEST_FAKE_NVML:-}" ] && [ -f "$nvml" ]; then export CT_TEST_FAKE_NVML=$nvml; fi

cli=${CT_CLI:-$(dirname "$(dirname "$(realpath "$lib")")")/cli/carbontracker}

echo "=== python: unit tests of python/ against $lib and $cli"
CT_LIBRARY=$lib CT_CLI=$cli "$py" -m unittest discover -s python/tests

if [ "${CT_SKIP_PIP_INSTALL:-0}" = 1 ]; then
  echo "=== python: pip install from a fresh clone skipped (CT_SKIP_PIP_INSTALL=1)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "=== python: pip install ./python from a fresh clone (HEAD) into a fresh venv"
git clone -q "$repo" "$tmp/src"
"$py" -m venv "$tmp/venv"
if ! "$tmp/venv/bin/pip" install -q "$tmp/src/python" >"$tmp/pip.log" 2>&1; then
  tail -n 60 "$tmp/pip.log"
  echo "python: pip install ./python failed" >&2
  exit 1
fi
(cd "$tmp" && env -u CT_LIBRARY -u CT_CLI "$tmp/venv/bin/carbontracker" --version)
(cd "$tmp" && env -u CT_LIBRARY -u CT_CLI "$tmp/venv/bin/python" -c 'from carbontracker.tracker import CarbonTracker; import carbontracker; print("installed:", carbontracker.library_path(), carbontracker.library_version(), carbontracker.library_features())')
echo "=== python: unit tests against the installed package"
(cd "$tmp/src" && env -u CT_LIBRARY -u CT_CLI CT_TEST_INSTALLED=1 "$tmp/venv/bin/python" -m unittest discover -s python/tests)
