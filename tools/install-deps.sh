#!/usr/bin/env bash
# Installs the Debian packages the engine and its tests need (idempotent; needs root or sudo).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config xz-utils
  libcli11-dev libfmt-dev libspdlog-dev libsentencepiece-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libopenblas-dev libedit-dev libsimde-dev
  clang libclang-rt-14-dev g++-aarch64-linux-gnu qemu-user-static
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
