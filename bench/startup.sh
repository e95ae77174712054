#!/usr/bin/env bash
# CLI start-up as a person feels it: `commwatch --help` and `commwatch status -c config`
# (shipped config, a database made by `db upgrade`), side by side with `python3 -c pass`
# and the same interpreter's `-c pass`, on this machine, with hyperfine (Debian package).
#
#   bench/startup.sh                         # the checkout's .venv/bin/commwatch
#   COMMWATCH=/path/to/venv/bin/commwatch RUNS=30 bench/startup.sh
#
# Also times the floor of `status`: importing sqlalchemy and the config models alone.
# Prints hyperfine's Markdown table (mean ± σ, min, max; relative to python3 -c pass).
# Goal (issue 10): --help and status each within 0.25 s on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

COMMWATCH="${COMMWATCH:-$PWD/.venv/bin/commwatch}"
RUNS="${RUNS:-20}"
command -v hyperfine >/dev/null || { echo "error: hyperfine not found (Debian package hyperfine)" >&2; exit 2; }
[[ -x "$COMMWATCH" ]] || { echo "error: $COMMWATCH is not executable (make setup, or set COMMWATCH)" >&2; exit 2; }
PYTHON="$(dirname "$COMMWATCH")/python"
CONFIG="$PWD/config"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export STATE_DIRECTORY="$work"   # the shipped config puts its SQLite file there
cd "$work"
"$COMMWATCH" db upgrade -c "$CONFIG" >/dev/null

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $("$COMMWATCH" --version), $("$PYTHON" -V)"
hyperfine -N --warmup 3 --runs "$RUNS" --style basic --export-markdown "$work/startup.md" \
  -n 'python3 -c pass' 'python3 -c pass' \
  -n 'venv python -c pass' "$PYTHON -c pass" \
  -n 'commwatch --help' "$COMMWATCH --help" \
  -n 'commwatch status -c config' "$COMMWATCH status -c $CONFIG" \
  -n 'floor: import sqlalchemy, monitor.config' "$PYTHON -c 'import sqlalchemy, monitor.config'" \
  >/dev/null
cat "$work/startup.md"
