#!/usr/bin/env bash
# CLI start-up as a person feels it: `commwatch --help` and `commwatch status -c config`
# (shipped config, a database made by `db upgrade`), side by side with `python3 -c pass`
# and the same interpreter's `-c pass`, on this machine, with hyperfine (Debian package).
#
#   bench/startup.sh                         # the checkout's .venv/bin/commwatch
#   COMMWATCH=/path/to/venv/bin/commwatch RUNS=30 bench/startup.sh
#
# Runs in a fresh directory (not the checkout) with STATE_DIRECTORY there. `db upgrade`
# validates the config and records it (monitor.config.cache), so `status` reads the
# cached config; "status, config validated" removes the cache before each run (what
# status costs right after an edit). Also times the floor of each: importing
# sqlalchemy, and sqlalchemy with the config models. Bytecode is written as an
# installed program has it (PYTHONDONTWRITEBYTECODE is unset).
# Prints hyperfine's Markdown table (mean ± σ, min, max).
# Goal (issue 10): --help and status each within 0.25 s on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

COMMWATCH="${COMMWATCH:-$PWD/.venv/bin/commwatch}"
RUNS="${RUNS:-20}"
command -v hyperfine >/dev/null || { echo "error: hyperfine not found (Debian package hyperfine)" >&2; exit 2; }
[[ -x "$COMMWATCH" ]] || { echo "error: $COMMWATCH is not executable (make setup, or set COMMWATCH)" >&2; exit 2; }
PYTHON="$(dirname "$COMMWATCH")/python"
CONFIG="$PWD/config"

unset PYTHONDONTWRITEBYTECODE
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export STATE_DIRECTORY="$work"   # the shipped config puts its SQLite file there
cd "$work"
"$COMMWATCH" db upgrade -c "$CONFIG" >/dev/null   # records the validated config
[[ -f "$work/config-cache.json" ]] || { echo "error: no config cache in $work" >&2; exit 1; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $("$COMMWATCH" --version), $("$PYTHON" -V)"
status="$COMMWATCH status -c $CONFIG"
hyperfine -N --warmup 3 --runs "$RUNS" --style basic --export-markdown "$work/startup.md" \
  -p true -n 'python3 -c pass' 'python3 -c pass' \
  -p true -n 'venv python -c pass' "$PYTHON -c pass" \
  -p true -n 'commwatch --help' "$COMMWATCH --help" \
  -p true -n 'commwatch status -c config' "$status" \
  -p "rm -f $work/config-cache.json" -n 'status, config validated (no cache)' "$status" \
  -p true -n 'floor: import sqlalchemy' "$PYTHON -c 'import sqlalchemy'" \
  -p true -n 'floor before: import sqlalchemy, config models' \
  "$PYTHON -c 'import sqlalchemy, monitor.config.loader'" \
  >/dev/null
cat "$work/startup.md"
