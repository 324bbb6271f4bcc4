#!/usr/bin/env bash
# Builds the engine and runs the whole test suite (the README's test command).
#   tools/test.sh            Release build in build/
#   tools/test.sh asan       ASan + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-release}"
case "$mode" in
  release) dir=build; flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DGEMMA_SANITIZE=ON) ;;
  *) echo "usage: tools/test.sh [release|asan]" >&2; exit 2 ;;
esac
jobs="$(nproc)"
cmake -S . -B "$dir" -G Ninja "${flags[@]}"
cmake --build "$dir" -j "$jobs"
ctest --test-dir "$dir" --output-on-failure -j "$jobs"
