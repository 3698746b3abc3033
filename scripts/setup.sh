#!/usr/bin/env bash
# Installs what is missing (Debian 12, as root), then configures and builds into ./build.
# Idempotent: packages already present are not touched, and the build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake g++ pkg-config ccache
  qt6-base-dev qt6-charts-dev libqt6sql6-sqlite libqt6opengl6-dev libxkbcommon-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libsqlite3-dev libsodium-dev libbenchmark-dev qtkeychain-qt6-dev
  libtomlplusplus-dev libcpp-httplib-dev python3-grpcio python3-protobuf openssl
  libqt6svg6 poppler-utils desktop-file-utils appstream python3-yaml dpkg-dev clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" >/dev/null
cmake --build "$build_dir" -j"${JOBS:-2}"
