#!/usr/bin/env bash
# SNMP benchmark, all tools paired in one run against the same local snmpd agents:
#   1,000 GETs of sysUpTime.0 + sysName.0 across AGENTS agents by
#     commwatch (SnmpProbe, v2c and v3 authPriv), pysnmp's hlapi (v1arch, v3arch; v3arch with
#     the same v3 authPriv credential), net-snmp snmpget (xargs -P 32, v2c and v3 authPriv) and
#     prometheus-snmp-exporter (if installed; v2c and v3 authPriv modules; driven by wrk);
#   an ifTable walk of 200 interfaces (root: snmpd in a private netns with 100 veth pairs)
#     by commwatch vs snmpbulkwalk -Cr25.
# Usage: bench/snmp_get.sh            env: PYTHON (python3), AGENTS (4), GETS (1000),
#        REPEAT (5 rounds), WRK_SECONDS (3), WALKS (20)
# Prints one JSON line per measurement, then a markdown table (docs/benchmarks.md, ## SNMP).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
AGENTS=${AGENTS:-4}
GETS=${GETS:-1000}
REPEAT=${REPEAT:-5}
WRK_SECONDS=${WRK_SECONDS:-3}
WALKS=${WALKS:-20}
export MIBS="" SNMPCONFPATH=/nonexistent   # net-snmp tools: no MIB loading, no user config

WORK=$(mktemp -d /tmp/cwbench-snmp.XXXXXX)
RESULTS=$WORK/results.jsonl
PIDS=()
NETNS=""
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  [[ -n $NETNS ]] && ip netns del "$NETNS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
wait_for_file() {  # path, seconds
  for _ in $(seq 1 $(($2 * 10))); do [[ -s $1 ]] && return 0; sleep 0.1; done
  echo "timed out waiting for $1" >&2; return 1
}
free_tcp_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

echo "# $(date -Is) $(nproc) cores; $("$PYTHON" -c 'import pysnmp; print("pysnmp", pysnmp.__version__)'); $(snmpd -v | awk '/version/{print "net-snmp", $3}')" >&2

# --- agents -------------------------------------------------------------------------------
"$PYTHON" bench/snmp_get.py agents --count "$AGENTS" --workdir "$WORK/agents" & PIDS+=($!)
wait_for_file "$WORK/agents/endpoints" 30
read -r -a EPS < "$WORK/agents/endpoints"
echo "# agents: ${EPS[*]}" >&2

# --- commwatch and pysnmp ---------------------------------------------------------------------
for tool in commwatch commwatch-v3 pysnmp-v1arch pysnmp-v3arch pysnmp-v3arch-authpriv; do
  "$PYTHON" bench/snmp_get.py "$tool" --endpoints-file "$WORK/agents/endpoints" \
    --gets "$GETS" --repeat "$REPEAT" | tee -a "$RESULTS"
done

# --- net-snmp snmpget, one process per GET, 32 at a time ----------------------------------------
for i in $(seq 0 $((GETS - 1))); do echo "udp:${EPS[i % ${#EPS[@]}]}"; done > "$WORK/targets"
times=()
errors=0
for _ in $(seq 1 "$REPEAT"); do
  start=$(now)
  lines=$(xargs -P 32 -I{} snmpget -v2c -c public -On -t 2 -r 1 {} \
            1.3.6.1.2.1.1.3.0 1.3.6.1.2.1.1.5.0 < "$WORK/targets" 2>/dev/null | wc -l || true)
  times+=("$(echo "$(now) - $start" | bc -l)")
  errors=$((errors + GETS - lines / 2))
done
printf '%s\n' "${times[@]}" | "$PYTHON" -c '
import json, statistics, sys
t = [float(x) for x in sys.stdin.read().split()]
m = statistics.median(t)
print(json.dumps({"tool": "snmpget (xargs -P 32)", "gets": int(sys.argv[1]), "rounds": len(t),
  "seconds": round(m, 4), "best_seconds": round(min(t), 4), "rate": round(int(sys.argv[1]) / m),
  "errors": int(sys.argv[2])}))' "$GETS" "$errors" | tee -a "$RESULTS"

# --- prometheus-snmp-exporter, scraped by wrk ----------------------------------------------------
EXPORTER=$(command -v prometheus-snmp-exporter || true)
if [[ -n $EXPORTER ]] && command -v wrk >/dev/null; then
  cat > "$WORK/snmp.yml" <<'YAML'
sys:
  version: 2
  auth:
    community: public
  timeout: 2s
  retries: 1
  get: [1.3.6.1.2.1.1.3.0, 1.3.6.1.2.1.1.5.0]
  metrics:
    - {name: sysUpTime, oid: 1.3.6.1.2.1.1.3, type: gauge, help: time since the agent started}
    - {name: sysName, oid: 1.3.6.1.2.1.1.5, type: DisplayString, help: node name}
sys_v3:
  version: 3
  auth:
    username: privsha
    security_level: authPriv
    auth_protocol: SHA
    password: authpass123
    priv_protocol: AES
    priv_password: privpass123
  timeout: 2s
  retries: 1
  get: [1.3.6.1.2.1.1.3.0, 1.3.6.1.2.1.1.5.0]
  metrics:
    - {name: sysUpTime, oid: 1.3.6.1.2.1.1.3, type: gauge, help: time since the agent started}
    - {name: sysName, oid: 1.3.6.1.2.1.1.5, type: DisplayString, help: node name}
YAML
  cat > "$WORK/rotate.lua" <<'LUA'
local targets, i, module = {}, 0, "sys"
init = function(args)
  module = args[1]
  for k = 2, #args do table.insert(targets, args[k]) end
end
request = function()
  i = i + 1
  return wrk.format("GET", "/snmp?module=" .. module .. "&target=" .. targets[(i % #targets) + 1])
end
LUA
  port=$(free_tcp_port)
  "$EXPORTER" --config.file="$WORK/snmp.yml" --web.listen-address="127.0.0.1:$port" \
    --log.level=error & PIDS+=($!)
  for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
  for module in sys sys_v3; do
    curl -fs "http://127.0.0.1:$port/snmp?module=$module&target=${EPS[0]}" | grep -q '^sysUpTime ' \
      || { echo "snmp_exporter scrape failed (module $module)" >&2; exit 1; }
    rates=()
    for _ in $(seq 1 3); do
      out=$(wrk -t2 -c32 -d"${WRK_SECONDS}s" -s "$WORK/rotate.lua" "http://127.0.0.1:$port" -- "$module" "${EPS[@]}")
      rates+=("$(awk '/Requests\/sec/{print $2}' <<<"$out")")
      bad=$(awk '/Non-2xx/{print $NF}' <<<"$out"); bad=${bad:-0}
    done
    label="snmp_exporter (wrk -c32)"; [[ $module == sys_v3 ]] && label="snmp_exporter v3 authPriv (wrk -c32)"
    printf '%s\n' "${rates[@]}" | "$PYTHON" -c '
import json, statistics, sys
r = [float(x) for x in sys.stdin.read().split()]
m = statistics.median(r)
print(json.dumps({"tool": sys.argv[3], "gets": round(m * float(sys.argv[1])),
  "rounds": len(r), "seconds": float(sys.argv[1]), "best_seconds": float(sys.argv[1]),
  "rate": round(m), "errors": int(sys.argv[2]), "best_rate": round(max(r))}))' \
      "$WRK_SECONDS" "$bad" "$label" | tee -a "$RESULTS"
  done
else
  echo "# prometheus-snmp-exporter or wrk not installed: skipped (apt-get install prometheus-snmp-exporter wrk)" >&2
fi

# --- ifTable walk of 200 interfaces (root: a private namespace) ---------------------------------
if [[ $(id -u) == 0 ]] && command -v ip >/dev/null; then
  NETNS="cwbench-$$"
  ip netns add "$NETNS"
  {
    echo "link set lo up"
    for i in $(seq 0 99); do echo "link add p$i type veth peer name p$i-peer"; done
    for i in $(seq 0 99); do echo "link set p$i up"; echo "link set p$i-peer up"; done
  } | ip -n "$NETNS" -batch -
  "$PYTHON" bench/snmp_get.py agents --count 1 --netns "$NETNS" --workdir "$WORK/ns" & PIDS+=($!)
  wait_for_file "$WORK/ns/endpoints" 30
  ep=$(cat "$WORK/ns/endpoints")
  vbs=$(ip netns exec "$NETNS" snmpbulkwalk -v2c -c public -Cr25 -On "udp:$ep" 1.3.6.1.2.1.2.2 | wc -l)
  times=()
  for _ in $(seq 1 "$REPEAT"); do
    start=$(now)
    for _ in $(seq 1 "$WALKS"); do
      ip netns exec "$NETNS" snmpbulkwalk -v2c -c public -Cr25 -On "udp:$ep" 1.3.6.1.2.1.2.2 >/dev/null
    done
    times+=("$(echo "($(now) - $start) / $WALKS" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | "$PYTHON" -c '
import json, statistics, sys
t = [float(x) for x in sys.stdin.read().split()]
m = statistics.median(t)
print(json.dumps({"tool": "snmpbulkwalk -Cr25 (incl. ip netns exec)", "gets": 1, "rounds": len(t),
  "seconds": round(m, 4), "best_seconds": round(min(t), 4), "rate": round(1 / m),
  "errors": 0, "varbinds": int(sys.argv[1])}))' "$vbs" | tee -a "$RESULTS"
  ip netns exec "$NETNS" "$PYTHON" bench/snmp_get.py walk --port "${ep##*:}" \
    --repeat $((REPEAT * WALKS)) | tee -a "$RESULTS"
else
  echo "# not root: ifTable walk (netns) skipped" >&2
fi

echo
"$PYTHON" bench/snmp_get.py summary "$RESULTS"
