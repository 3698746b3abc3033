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
  etcd-server golang-etcd-server-dev prometheus postgresql libqt6sql6-psql libenet-dev dbus-daemon
)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  log=${SETUP_LOG:-/tmp/lifeverse-setup.log}
  echo "setup: installing ${#missing[@]} packages (${missing[*]}); apt's output goes to $log"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  # Servers the tests start themselves (etcd, prometheus, postgresql) must not be started by dpkg.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    remove_policy=1
  fi
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
           --no-install-recommends "${missing[@]}"; } >>"$log" 2>&1; then
    [ -n "${remove_policy:-}" ] && $SUDO rm -f /usr/sbin/policy-rc.d
    echo "setup: apt-get failed; the last lines of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  [ -n "${remove_policy:-}" ] && $SUDO rm -f /usr/sbin/policy-rc.d
fi

build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" >/dev/null
cmake --build "$build_dir" -j"${JOBS:-2}"
