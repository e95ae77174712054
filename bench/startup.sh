#!/usr/bin/env bash
# CLI start-up as a person feels it: `commwatch --help` and `commwatch status -c config`
# (shipped config, a database made by `db upgrade`), side by side with `python3 -c pass`
# and the same interpreter's `-c pass`, on this machine, with hyperfine (Debian package).
#
#   bench/startup.sh                         # the checkout's .venv/bin/commwatch
#   COMMWATCH=/path/to/venv/bin/commwatch RUNS=30 bench/startup.sh
#   BEFORE=/path/to/other/venv/bin/commwatch bench/startup.sh   # adds that one's status
#
# Runs in a fresh directory (not the checkout) with STATE_DIRECTORY there. `db upgrade`
# validates the config and records it (monitor.config.cache), so `status` reads the
# cached config; "status, config validated" removes the cache before each run (what
# status costs right after an edit). Also times the floors of the path before it read
# SQLite with the stdlib sqlite3 (status on a SQLite file imports no SQLAlchemy since):
# importing sqlalchemy, and sqlalchemy with the config models. Bytecode is written as an
# installed program has it (PYTHONDONTWRITEBYTECODE is unset).
# With the daemon running: a copy of the shipped config in $work/daemon-config (state
# directory $work/daemon, detect_gateway = false, free ports) is run with `commwatch run`
# (needs root for ICMP, as in production); "status, daemon running" asks it over its
# control socket, "status --offline" on the same config reads the database. The daemon
# is stopped by its PID at the end.
# Prints hyperfine's Markdown table (mean ± σ, min, max) and each command's mean CPU time.
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
daemon_pid=""
stop_daemon() {
  if [[ -n "$daemon_pid" ]]; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=""
  fi
}
trap 'stop_daemon; rm -rf "$work"' EXIT
export STATE_DIRECTORY="$work"   # the shipped config puts its SQLite file there
cd "$work"
"$COMMWATCH" db upgrade -c "$CONFIG" >/dev/null   # records the validated config
[[ -f "$work/config-cache.json" ]] || { echo "error: no config cache in $work" >&2; exit 1; }

# The daemon on a copy of the shipped config: its own state directory, free ports.
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mkdir -p "$work/daemon"
cp -r "$CONFIG" "$work/daemon-config"
DCONFIG="$work/daemon-config"
sed -i -e "s|\${STATE_DIRECTORY:-var}|$work/daemon|g" \
  -e "s|127.0.0.1:9810|127.0.0.1:$(free_port)|" -e "s|127.0.0.1:9811|127.0.0.1:$(free_port)|" \
  -e "s|127.0.0.1:10162|127.0.0.1:$(free_port)|" \
  -e 's|^detect_gateway = true|detect_gateway = false|' "$DCONFIG/commwatch.toml"
"$COMMWATCH" run -c "$DCONFIG" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 100); do
  [[ -S "$work/daemon/control.sock" ]] && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/daemon.log" >&2; exit 1; }
  sleep 0.2
done
[[ -S "$work/daemon/control.sock" ]] || { echo "error: the daemon made no control socket" >&2; cat "$work/daemon.log" >&2; exit 1; }
"$COMMWATCH" status -c "$DCONFIG" --verbose 2>&1 >/dev/null | grep -q 'answered by the daemon' \
  || { echo "error: status was not answered by the daemon" >&2; exit 1; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $("$COMMWATCH" --version), $("$PYTHON" -V), daemon PID $daemon_pid"
status="$COMMWATCH status -c $CONFIG"
before=()
if [[ -n "${BEFORE:-}" ]]; then   # another build (e.g. main's) in the same run, same database
  before=(-p true -n "status, before ($("$BEFORE" --version))" "$BEFORE status -c $CONFIG")
fi
hyperfine -N --warmup 3 --runs "$RUNS" --style basic --export-markdown "$work/startup.md" \
  --export-json "$work/startup.json" \
  -p true -n 'python3 -c pass' 'python3 -c pass' \
  -p true -n 'venv python -c pass' "$PYTHON -c pass" \
  -p true -n 'commwatch --help' "$COMMWATCH --help" \
  -p true -n 'commwatch status -c config' "$status" \
  -p "rm -f $work/config-cache.json" -n 'status, config validated (no cache)' "$status" \
  -p true -n 'status, daemon running (control socket)' "$COMMWATCH status -c $DCONFIG" \
  -p true -n 'status --offline, daemon running' "$COMMWATCH status -c $DCONFIG --offline" \
  -p true -n 'floor: import sqlalchemy' "$PYTHON -c 'import sqlalchemy'" \
  -p true -n 'floor before: import sqlalchemy, config models' \
  "$PYTHON -c 'import sqlalchemy, monitor.config.loader'" \
  "${before[@]}" >/dev/null
cat "$work/startup.md"
# CPU time (user + system) is the work each command does; wall time on a shared
# machine also holds the time it waited for a core.
echo
echo "| Command | CPU (user+sys) mean [ms] |"
echo "|:---|---:|"
"$PYTHON" - "$work/startup.json" <<'EOF'
import json
import sys

for result in json.load(open(sys.argv[1], encoding="utf-8"))["results"]:
    print(f"| `{result['command']}` | {1000 * (result['user'] + result['system']):.1f} |")
EOF
stop_daemon
echo
echo "# after: load $(cut -d' ' -f1-3 /proc/loadavg)"
