#!/usr/bin/env bash
# Benchmark netpath's cluster model and trace at scale (not a test: numbers, not assertions).
#
#   bench/trace.sh [NODES PODS [ALL_NODES]]     defaults: 5000 150000 1000
#
# 1. Generates a synthetic `kubectl get nodes,pods,ippools,blockaffinities -A -o json` List
#    (Calico VXLAN CrossSubnet; realistic pod objects with managedFields, containers, status).
# 2. Load: netpath (streaming into typed fields, no document tree) against jq (the peer tool
#    an SRE would use on the same file), CPU seconds, and the ratio.
# 3. One trace after load: first (resolves both ends, plans the parts of the nodes it crosses)
#    and warm, from --timing (CPU time from getrusage around each phase).
# 4. --all over ALL_NODES nodes (ALL_NODES² ordered pairs, both directions).
# CPU time (user+sys) is reported next to wall time: the build machines are shared.
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=${1:-5000}
PODS=${2:-150000}
ALL_NODES=${3:-1000}
WORK=${NETPATH_BENCH_DIR:-$(mktemp -d)}
trap '[ -z "${NETPATH_BENCH_DIR:-}" ] && rm -rf "$WORK"' EXIT

cargo build --profile profiling --quiet
BIN=target/profiling/netpath
TIMEFORMAT='%R %U %S'

cpu() { # run "$@" quietly; print "wall cpu" seconds
  local t
  t=$( { time "$@" >/dev/null 2>&1; } 2>&1 | tail -1)
  awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.2f %.2f\n", a[1], a[2] + a[3] }'
}

echo "== generating a $NODES-node / $PODS-pod kubectl dump"
$BIN demo --generate-kubectl "$NODES" "$PODS" > "$WORK/dump.json"
MB=$(awk -v b="$(stat -c %s "$WORK/dump.json")" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "   $MB MB"

echo "== load (CPU seconds; MB/s of CPU)"
read -r JQ_WALL JQ_CPU < <(cpu jq '.items | length' "$WORK/dump.json")
POD_A="ns-1/app-1-1"
POD_B=$(grep -o '"name": "app-[0-9]*-[0-9a-f]*", "namespace": "ns-[0-9]*"' "$WORK/dump.json" | tail -1 |
  sed -E 's/"name": "([^"]*)", "namespace": "([^"]*)"/\2\/\1/')
$BIN trace --timing -c "$WORK/dump.json" "$POD_A" "$POD_B" 2> "$WORK/timing.txt" > "$WORK/trace.txt" || true
LOAD_CPU=$(sed -E -n 's/.*load [0-9.]+ ms wall, ([0-9.]+) ms CPU.*/\1/p' "$WORK/timing.txt")
awk -v mb="$MB" -v jq="$JQ_CPU" -v np="$LOAD_CPU" 'BEGIN {
  printf "   jq .items|length : %6.2f s CPU  %6.0f MB/s\n", jq, mb / jq
  printf "   netpath load     : %6.2f s CPU  %6.0f MB/s   (%.1fx jq)\n", np / 1000, mb / (np / 1000), jq / (np / 1000)
}'
echo "== one trace ($POD_A -> $POD_B)"
sed 's/^timing: /   /; s/; /\n   /g' "$WORK/timing.txt"
grep -E '✔|✘' "$WORK/trace.txt" | sed 's/^/   /'

echo "== --all over $ALL_NODES nodes"
$BIN demo --generate-kubectl "$ALL_NODES" "$((ALL_NODES * 30))" > "$WORK/all.json"
$BIN trace --all --timing -c "$WORK/all.json" 2> "$WORK/all-timing.txt" > "$WORK/all.txt" || true
sed -E -n 's/.*(--all: .*)/   \1/p' "$WORK/all-timing.txt"
sed -n 3p "$WORK/all.txt" | sed 's/^/   /'
