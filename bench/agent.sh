#!/bin/sh
# Benchmark of `netpath agent` against `ip -batch`, in fresh network namespaces, same run.
#
#   sudo bench/agent.sh            # 10,000 routes, then 100,000 (linearity)
#   N=20000 sudo bench/agent.sh    # another size
#
# 1. programming N routes: `ip -batch` (one request, one acknowledgement per route) vs
#    `netpath agent --once` (read, diff, pipelined apply, read back, diff again);
# 2. a no-op pass over N correct routes (the whole command, and the pass itself);
# 3. 10x the routes: time per route should stay flat.
# Needs root (network namespaces). Nothing outside the namespaces it creates is touched.
set -eu

N=${N:-10000}
BIG=${BIG:-$((N * 10))}
cd "$(dirname "$0")/.."
BIN=${NETPATH:-target/release/netpath}
if [ ! -x "$BIN" ]; then
    cargo build --release --quiet
fi
TMP=$(mktemp -d)
PFX="npbench-$$"
cleanup() {
    for ns in $(ip netns list | awk '{print $1}' | grep "^$PFX" || true); do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

now_ms() { date +%s%N | awk '{printf "%.1f", $1 / 1000000}'; }

# A node with an uplink eth0 (192.168.77.1/24), as the plan expects.
mkns() {
    ip netns add "$1"
    ip -n "$1" link set lo up
    ip -n "$1" link add eth0 type veth peer name eth0p
    ip -n "$1" addr add 192.168.77.1/24 dev eth0
    ip -n "$1" link set eth0 up
    ip -n "$1" link set eth0p up
    ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=1
}

# The same N routes as a plan (NodeState JSON) and as an `ip -batch` file.
gen() {
    python3 - "$1" "$TMP/plan-$1.json" "$TMP/batch-$1.txt" <<'PY'
import json, sys
n, plan, batch = int(sys.argv[1]), sys.argv[2], sys.argv[3]
routes, lines = [], []
for i in range(n):
    dst = "10.%d.%d.0/24" % (i // 256, i % 256) if i < 65536 else "11.%d.%d.0/24" % ((i - 65536) // 256, i % 256)
    routes.append({"dst": dst, "type": "unicast", "table": 254, "proto": 158, "scope": "universe",
                   "nexthops": [{"gateway": "192.168.77.2", "dev": "eth0"}]})
    lines.append("route replace %s via 192.168.77.2 dev eth0 proto 158" % dst)
state = {"node": "bench", "links": [{"ifindex": 0, "name": "eth0", "kind": {"kind": "device"}, "mtu": 1500, "up": True}],
         "routes": routes, "sysctls": {"ip_forward": True}}
json.dump(state, open(plan, "w"))
open(batch, "w").write("\n".join(lines) + "\n")
PY
}

run() { # size
    n=$1
    gen "$n"
    mkns "$PFX-ip-$n"
    mkns "$PFX-np-$n"
    t0=$(now_ms); ip -n "$PFX-ip-$n" -batch "$TMP/batch-$n.txt"; t1=$(now_ms)
    ip_ms=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}')
    t0=$(now_ms)
    "$BIN" agent --plan "$TMP/plan-$n.json" --netns "$PFX-np-$n" --once > "$TMP/once-$n.txt"
    t1=$(now_ms)
    np_ms=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}')
    have=$(ip -n "$PFX-np-$n" route show proto 158 | wc -l)
    [ "$have" -eq "$n" ] || { echo "agent programmed $have routes, expected $n" >&2; exit 1; }
    # No-op pass: the whole command, and the pass as the agent measures it.
    t0=$(now_ms)
    "$BIN" --json agent --plan "$TMP/plan-$n.json" --netns "$PFX-np-$n" --once > "$TMP/noop-$n.json"
    t1=$(now_ms)
    noop_ms=$(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}')
    pass_ms=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert not d['changes'], d['changes'][:3]; print('%.1f' % d['elapsed_ms'])" "$TMP/noop-$n.json")
    printf "%-8s  %12s  %14s  %7s  %16s  %14s  %11s\n" "$n" "$ip_ms" "$np_ms" \
        "$(echo "$ip_ms $np_ms" | awk '{printf "%.2fx", $1 / $2}')" "$noop_ms" "$pass_ms" \
        "$(echo "$np_ms $n" | awk '{printf "%.2f", $1 * 1000 / $2}')"
    ip netns del "$PFX-ip-$n"
    ip netns del "$PFX-np-$n"
}

echo "kernel $(uname -r), $(ip -V)"
printf "%-8s  %12s  %14s  %7s  %16s  %14s  %11s\n" routes "ip -batch ms" "agent once ms" speedup \
    "no-op command ms" "no-op pass ms" "agent us/rt"
run "$N"
run "$BIG"
