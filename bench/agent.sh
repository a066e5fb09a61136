#!/usr/bin/env bash
# Benchmark of `netpath agent` against `ip -batch`, in fresh network namespaces, same run.
#
#   sudo bench/agent.sh                 # 10,000 routes, then 100,000 (linearity), 5 runs each
#   N=20000 RUNS=9 sudo bench/agent.sh  # another size, more runs
#   NETPATH=path/to/netpath bench/agent.sh   # another build (no cargo build then)
#
# 1. Programming N routes, RUNS times, interleaved (ip, agent, ip, agent …), each tool in a
#    fresh netns: `ip -batch` (one request, one acknowledgement per route) vs `netpath agent
#    --once` (plan parse, read, diff, pipelined apply, verification). Both the wall time and
#    the CPU time (user + sys of the process and its threads, from the shell's `time`) are
#    recorded: rtnetlink requests are processed synchronously inside the sender's sendmsg,
#    so the kernel's insert work is charged to the sender in both tools, and CPU time is far
#    less disturbed than wall time by other work on a shared machine.
#    Per run the ratio is ip / agent (above 1: the agent is faster); the summary gives the
#    median and the minimum of the per-run ratios.
# 2. A no-op pass over N correct routes (the whole command, and the pass as the agent times it).
# Needs root (network namespaces). Nothing outside the namespaces it creates is touched.
set -euo pipefail

N=${N:-10000}
BIG=${BIG:-$((N * 10))}
RUNS=${RUNS:-5}
cd "$(dirname "$0")/.."
TAG="npbench-agent-$$"
WORK=$(mktemp -d)
KEPT="namespaces $TAG-*, files in $WORK"
. bench/lib.sh
trap cleanup EXIT INT TERM
if [ -n "${NETPATH:-}" ]; then
    BIN=$NETPATH
    [ "$(id -u)" = 0 ] || { echo "bench/agent.sh needs root" >&2; exit 1; }
else
    need_root_and_build bench/agent.sh
fi

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
    python3 - "$1" "$WORK/plan-$1.json" "$WORK/batch-$1.txt" <<'PY'
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

# timed OUT command...: run it (stdout to OUT), leave "WALL_MS CPU_MS" in $T.
timed() {
    local out=$1 rc=0
    shift
    local TIMEFORMAT='%3R %3U %3S'
    { time "$@" > "$out" 2> "$WORK/stderr" || rc=$?; } 2> "$WORK/time"
    if [ "$rc" != 0 ]; then
        echo "failed ($rc): $*" >&2
        cat "$WORK/stderr" >&2
        exit 1
    fi
    T=$(awk '{printf "%.1f %.1f", $1 * 1000, ($2 + $3) * 1000}' "$WORK/time")
}

# Let the kernel finish tearing down deleted namespaces (a worker frees their routes)
# before the next measurement.
settle() {
    ip netns del "$1"
    ip netns del "$2"
    sleep "$3"
}

stats() { # numbers on stdin -> "median min max"
    sort -g | awk '{a[NR] = $1} END {printf "%.2f %.2f %.2f", a[int((NR + 1) / 2)], a[1], a[NR]}'
}

run() { # size
    local n=$1 settle_s r
    settle_s=$(awk -v n="$n" 'BEGIN {printf "%.1f", 0.3 + n / 50000}')
    gen "$n"
    : > "$WORK/rows-$n"
    for r in $(seq 1 "$RUNS"); do
        mkns "$TAG-ip-$n-$r"
        mkns "$TAG-np-$n-$r"
        timed /dev/null ip -n "$TAG-ip-$n-$r" -batch "$WORK/batch-$n.txt"
        read -r ip_wall ip_cpu <<< "$T"
        timed "$WORK/once-$n.txt" "$BIN" agent --plan "$WORK/plan-$n.json" --netns "$TAG-np-$n-$r" --once
        read -r np_wall np_cpu <<< "$T"
        have=$(ip -n "$TAG-np-$n-$r" route show proto 158 | wc -l)
        [ "$have" -eq "$n" ] || { echo "agent programmed $have routes, expected $n" >&2; exit 1; }
        have=$(ip -n "$TAG-ip-$n-$r" route show proto 158 | wc -l)
        [ "$have" -eq "$n" ] || { echo "ip -batch programmed $have routes, expected $n" >&2; exit 1; }
        if [ "$r" = 1 ]; then
            # The no-op pass over N correct routes: the whole command, and the pass.
            timed "$WORK/noop-$n.json" "$BIN" --json agent --plan "$WORK/plan-$n.json" --netns "$TAG-np-$n-$r" --once
            read -r noop_wall _ <<< "$T"
            noop_pass=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert not d['changes'], d['changes'][:3]; print('%.1f' % d['elapsed_ms'])" "$WORK/noop-$n.json")
        fi
        wr=$(awk -v a="$ip_wall" -v b="$np_wall" 'BEGIN {printf "%.2f", a / b}')
        cr=$(awk -v a="$ip_cpu" -v b="$np_cpu" 'BEGIN {printf "%.2f", a / b}')
        printf "%-8s %4s  %9s %9s  %9s %9s  %6sx %6sx\n" "$n" "$r" "$ip_wall" "$np_wall" "$ip_cpu" "$np_cpu" "$wr" "$cr"
        echo "$ip_wall $np_wall $ip_cpu $np_cpu $wr $cr" >> "$WORK/rows-$n"
        settle "$TAG-ip-$n-$r" "$TAG-np-$n-$r" "$settle_s"
    done
    read -r wmed wmin wmax <<< "$(awk '{print $5}' "$WORK/rows-$n" | stats)"
    read -r cmed cmin cmax <<< "$(awk '{print $6}' "$WORK/rows-$n" | stats)"
    read -r ipw _ <<< "$(awk '{print $1}' "$WORK/rows-$n" | stats)"
    read -r npw _ <<< "$(awk '{print $2}' "$WORK/rows-$n" | stats)"
    read -r ipc _ <<< "$(awk '{print $3}' "$WORK/rows-$n" | stats)"
    read -r npc _ <<< "$(awk '{print $4}' "$WORK/rows-$n" | stats)"
    SUMMARY+=("$(printf "%-8s  wall: ip %7.1f ms, agent %7.1f ms, ratio median %.2fx min %.2fx max %.2fx | cpu: ip %7.1f ms, agent %7.1f ms, ratio median %.2fx min %.2fx max %.2fx | no-op: command %s ms, pass %s ms" \
        "$n" "$ipw" "$npw" "$wmed" "$wmin" "$wmax" "$ipc" "$npc" "$cmed" "$cmin" "$cmax" "$noop_wall" "$noop_pass")")
}

echo "kernel $(uname -r), $(ip -V), load $(cut -d' ' -f1-3 /proc/loadavg), $RUNS runs per size"
printf "%-8s %4s  %9s %9s  %9s %9s  %7s %7s\n" routes run "ip wall" "np wall" "ip cpu" "np cpu" "wall" "cpu"
printf "%-8s %4s  %9s %9s  %9s %9s  %7s %7s\n" "" "" ms ms ms ms ratio ratio
SUMMARY=()
run "$N"
run "$BIG"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%s\n' "${SUMMARY[@]}"
