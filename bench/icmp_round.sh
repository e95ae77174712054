#!/usr/bin/env bash
# One ICMP round over N distinct loopback targets (127.1.x.y): commwatch's IcmpProbe
# versus `fping -C1 -q -i 0 -r 0 -t 500`, paired and interleaved, RUNS times each.
#
#   bench/icmp_round.sh [N]            N defaults to 10000; needs root (raw sockets, fping -i 0)
#   RUNS=9 ICMPLIB=1 PYTHON=/path/to/venv/bin/python bench/icmp_round.sh 5000
#
# Prints every run, then per tool the median wall time of the whole process (fork to
# exit, interpreter start and imports included), commwatch's in-process round time
# (first send to last result), peak RSS (/usr/bin/time %M), and the ratios.
# ICMPLIB=1 adds icmplib's async_multiping (privileged, concurrent_tasks=$ICMPLIB_TASKS).
# Only 127.0.0.0/8 is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

N="${1:-10000}"
RUNS="${RUNS:-5}"
ICMPLIB="${ICMPLIB:-0}"
ICMPLIB_TASKS="${ICMPLIB_TASKS:-50}"
if [[ -z "${PYTHON:-}" ]]; then
  PYTHON=python3
  for candidate in .venv/bin/python /work/venv/bin/python; do
    [[ -x "$candidate" ]] && { PYTHON="$candidate"; break; }
  done
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

[[ "$(id -u)" == 0 ]] || { echo "error: needs root (raw ICMP sockets; fping -i 0)" >&2; exit 2; }
command -v fping >/dev/null || { echo "error: fping not found (Debian package fping)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "error: /usr/bin/time not found (Debian package time)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$PYTHON" bench/icmp_round.py targets "$N" >"$work/targets"
printf 'tool\trun\twall_s\tround_s\trss_kib\talive\n' >"$work/runs.tsv"

# run TOOL RUN COMMAND... : wall time around the process, peak RSS from /usr/bin/time.
run() {
  local tool="$1" i="$2"; shift 2
  local start end
  start="$EPOCHREALTIME"
  /usr/bin/time -f '%M' -o "$work/rss" "$@" >"$work/out" 2>"$work/err" || true
  end="$EPOCHREALTIME"
  local wall round alive
  wall="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }')"
  if [[ "$tool" == fping ]]; then
    round="-"
    alive="$(grep -c -v ' : -$' "$work/err" || true)"
  else
    round="$("$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["round_s"])' <"$work/out")"
    alive="$("$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["alive"])' <"$work/out")"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$i" "$wall" "$round" "$(tail -n1 "$work/rss")" "$alive" \
    | tee -a "$work/runs.tsv"
}

echo "N=$N RUNS=$RUNS python=$PYTHON fping=$(fping -v 2>&1 | head -n1) $(nproc) CPUs $(date -Is)"
head -n1 "$work/runs.tsv"
for ((i = 1; i <= RUNS; i++)); do
  run fping "$i" fping -C1 -q -i 0 -r 0 -t 500 -f "$work/targets"
  run commwatch "$i" "$PYTHON" bench/icmp_round.py commwatch "$work/targets"
  if [[ "$ICMPLIB" == 1 ]]; then
    run "icmplib-c$ICMPLIB_TASKS" "$i" "$PYTHON" bench/icmp_round.py icmplib "$work/targets" "$ICMPLIB_TASKS"
  fi
done
echo
"$PYTHON" bench/icmp_round.py summary "$work/runs.tsv"
