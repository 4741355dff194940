#!/usr/bin/env bash
# Takes a screenshot of tracedeck in a real window under Xvfb, for the README.
# Usage: [SIZE=1280x800] scripts/screenshot.sh BINARY OUT.png [tracedeck arguments...]
# e.g.   scripts/screenshot.sh target/debug/tracedeck docs/screenshot.png \
#            sample-traces/incident-before.sentry.json --span ed5cb1cc1bc67f3d
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$1"
out="$2"
shift 2
display=":$((190 + RANDOM % 100))"
home="$(mktemp -d)"
Xvfb "$display" -screen 0 "${SIZE:-1400x860}x24" -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill "$app" "$xvfb" 2>/dev/null || true' EXIT
sleep 1
DISPLAY="$display" HOME="$home" XDG_DATA_HOME="$home" XDG_CONFIG_HOME="$home" "$bin" "$@" >/dev/null 2>&1 &
app=$!
sleep "${SETTLE:-8}"
mkdir -p "$(dirname "$out")"
DISPLAY="$display" import -window root "$out"
echo "screenshot at $out"
