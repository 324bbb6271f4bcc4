#!/usr/bin/env bash
# Cross-compiles the kernel tests for AArch64 and runs them under qemu-user, so the NEON table is
# checked against the scalar oracle on an x86 machine (Debian: g++-aarch64-linux-gnu,
# qemu-user-static, libgtest-dev for the GoogleTest sources). Only the kernels, core and quant
# code are built: they have no third-party dependencies.
#   tools/neon-test.sh [gtest args...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${NEON_BUILD:-$ROOT/build-neon}"
CXX="${NEON_CXX:-aarch64-linux-gnu-g++}"
QEMU="$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)"
GTEST=/usr/src/googletest/googletest
command -v "$CXX" >/dev/null || { echo "neon-test: $CXX not found (apt-get install g++-aarch64-linux-gnu)" >&2; exit 2; }
[[ -n "$QEMU" ]] || { echo "neon-test: qemu-aarch64 not found (apt-get install qemu-user-static)" >&2; exit 2; }
[[ -d "$GTEST" ]] || { echo "neon-test: $GTEST not found (apt-get install libgtest-dev)" >&2; exit 2; }

mkdir -p "$OUT/obj"
sources=(
  "$ROOT"/src/core/dtype.cpp "$ROOT"/src/core/tensor.cpp "$ROOT"/src/core/large_buffer_posix.cpp
  "$ROOT"/src/core/quant/*.cpp
  "$ROOT"/src/kernels/*.cpp "$ROOT"/src/kernels/scalar/*.cpp "$ROOT"/src/kernels/arm/*.cpp
  "$ROOT"/tests/kernels_test.cpp "$GTEST/src/gtest-all.cc" "$GTEST/src/gtest_main.cc"
)
flags=(-std=c++20 -O2 -Wall -Wextra -DGEMMA_HAVE_ARM_KERNELS=1 -I"$ROOT/include" -I"$ROOT/src"
       -I"$GTEST/include" -I"$GTEST")
objects=()
for src in "${sources[@]}"; do objects+=("$OUT/obj/$(echo "${src#$ROOT/}" | tr '/' '_').o"); done
for i in "${!sources[@]}"; do
  src="${sources[$i]}" obj="${objects[$i]}"
  extra=""
  [[ "$src" == *_dotprod.cpp ]] && extra="-march=armv8.2-a+dotprod"  # as CMakeLists.txt
  if [[ ! -f "$obj" || "$src" -nt "$obj" || -n "$(find "$ROOT/src" "$ROOT/include" -name '*.h' -newer "$obj" -print -quit)" ]]; then
    printf '%s\0' "$CXX ${flags[*]} $extra -c $src -o $obj"
  fi
done | xargs -0 -r -P "${JOBS:-2}" -I{} sh -c "{}"
"$CXX" -static -pthread "${objects[@]}" -o "$OUT/kernels_test"
echo "neon-test: running $OUT/kernels_test under $(basename "$QEMU")"
"$QEMU" "$OUT/kernels_test" "$@"
