#!/usr/bin/env bash
# The main job: set up, build, then start the live-ops console on a local sandbox (syncd's
# service in-process, three regions with bots). With no display it runs headless and prints the
# same region figures every 5 s for 60 s (RUN_SECONDS=0 runs until Ctrl-C).
# Extra arguments go to liveops-console (e.g. --connect prod=host:50051).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
console="${BUILD_DIR:-build}/app/liveops-console"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${HEADLESS:-}" ]; then
  exec "$console" --sandbox "$@"
fi
exec "$console" --headless --sandbox --every 5 --seconds "${RUN_SECONDS:-60}" "$@"
