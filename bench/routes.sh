#!/bin/sh
# Benchmark `netpath routes` against `ip route show` and `route -n` on the same table of
# 100,000 routes (ROUTES=N to change), in a netns made for the run and deleted afterwards.
#
# Each tool runs RUNS times (default 15), interleaved, output to /dev/null; the script
# prints the median wall time and the median CPU time (user+sys, from wait4) of each, and
# the ratios netpath/ip. Under load (a shared CI machine) wall time mostly measures the
# scheduler, so CPU time is the figure to judge; both are printed. Then it prints netpath's
# maximum RSS at 1/4, 1/2, 3/4 and all of the routes, to show memory grows linearly.
#
# Needs root (it creates a netns), python3, iproute2 and net-tools. Usage: sudo bench/routes.sh
# (NETPATH=path/to/netpath to measure another build; no cargo build then).
set -eu

ROUTES=${ROUTES:-100000}
RUNS=${RUNS:-15}

if [ "$(id -u)" != 0 ]; then
    echo "bench/routes.sh: needs root to create a network namespace" >&2
    exit 3
fi
for tool in ip route python3; do
    command -v "$tool" >/dev/null || { echo "bench/routes.sh: $tool is missing" >&2; exit 3; }
done

cd "$(dirname "$0")/.."
if [ -n "${NETPATH:-}" ]; then
    BIN=$NETPATH
else
    cargo build --profile profiling --quiet
    BIN=$PWD/target/profiling/netpath
fi

NS=np-bench-$$
BATCH=$(mktemp)
cleanup() {
    ip netns del "$NS" 2>/dev/null || true
    rm -f "$BATCH" "$BATCH".*
}
trap cleanup EXIT INT TERM

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth0 type veth peer name eth1
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth1 up
ip -n "$NS" addr add 192.168.0.10/16 dev eth0
ip -n "$NS" link add flannel.1 type vxlan id 1 dev eth0 local 192.168.0.10 dstport 8472 nolearning
ip -n "$NS" link set flannel.1 up

# The shapes a big Flannel/Calico node has: host-gw /24s via node IPs, Calico pod /32s on
# the uplink, BIRD blackholes, Flannel vxlan /24s onlink. Written in 4 chunks so memory can
# be measured as the table grows.
python3 - "$ROUTES" "$BATCH" <<'EOF'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
chunks = [open(f"{path}.{k}", "w") for k in range(4)]
for i in range(n):
    a, b, c = (i >> 16) & 255, (i >> 8) & 255, i & 255
    kind = i % 10
    if kind < 4:
        line = f"route add 10.{a}.{b}.{c}/32 via 192.168.{1 + i % 250}.{1 + i % 200} dev eth0"
    elif kind < 7:
        line = f"route add 172.{16 + a % 16}.{b}.{c}/32 dev eth0 scope link"
    elif kind < 9:
        line = f"route add blackhole 100.{64 + a % 64}.{b}.{c}/32 proto bird"
    else:
        line = f"route add 198.{18 + a % 2}.{b}.{c}/32 via 198.{18 + a % 2}.{b}.{c} dev flannel.1 onlink"
    chunks[i * 4 // n].write(line + "\n")
EOF

rss() {
    # Maximum resident set size of netpath's default view, in KiB.
    python3 - "$BIN" "$NS" <<'EOF'
import os, resource, subprocess, sys
devnull = open(os.devnull, "w")
p = subprocess.Popen([sys.argv[1], "routes", "--netns", sys.argv[2]], stdout=devnull)
_, status, ru = os.wait4(p.pid, 0)
print(ru.ru_maxrss)
EOF
}

echo "netpath routes benchmark: $ROUTES routes, $RUNS runs each, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "memory (max RSS of 'netpath routes --netns NS'):"
k=0
while [ $k -lt 4 ]; do
    ip -n "$NS" -batch "$BATCH.$k"
    count=$(ip -n "$NS" route show | wc -l)
    echo "  $count routes: $(rss) KiB"
    k=$((k + 1))
done
echo

python3 - "$BIN" "$NS" "$RUNS" <<'EOF'
import os, statistics, subprocess, sys, time
binary, ns, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
tools = {
    "netpath routes": [binary, "routes", "--netns", ns],
    "ip route show": ["ip", "-n", ns, "route", "show"],
    # route has no netns option; ip netns exec adds its own setup cost, measured below.
    "route -n": ["ip", "netns", "exec", ns, "route", "-n"],
    "ip netns exec true": ["ip", "netns", "exec", ns, "true"],
}
devnull = open(os.devnull, "w")
wall = {k: [] for k in tools}
cpu = {k: [] for k in tools}
for _ in range(2):  # warm up
    for argv in tools.values():
        subprocess.run(argv, stdout=devnull, check=True)
for _ in range(runs):
    for name, argv in tools.items():
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=devnull)
        _, status, ru = os.wait4(p.pid, 0)
        wall[name].append(time.perf_counter() - t0)
        cpu[name].append(ru.ru_utime + ru.ru_stime)
        if status != 0:
            sys.exit(f"{name} failed")
med = lambda xs: statistics.median(xs) * 1000
print(f"{'':20} {'wall ms':>9} {'cpu ms':>9}")
for name in tools:
    print(f"{name:20} {med(wall[name]):9.1f} {med(cpu[name]):9.1f}")
route_wall = med(wall["route -n"]) - med(wall["ip netns exec true"])
route_cpu = med(cpu["route -n"]) - med(cpu["ip netns exec true"])
print(f"{'route -n (net)':20} {route_wall:9.1f} {route_cpu:9.1f}")
print()
for base, bw, bc in [
    ("ip route show", med(wall["ip route show"]), med(cpu["ip route show"])),
    ("route -n", route_wall, route_cpu),
]:
    print(
        f"netpath / {base}: wall {med(wall['netpath routes']) / bw:.2f}x, "
        f"cpu {med(cpu['netpath routes']) / bc:.2f}x"
    )
target = med(cpu["netpath routes"]) / med(cpu["ip route show"])
print()
print(f"target netpath <= 0.75x ip route show (cpu): {'met' if target <= 0.75 else 'NOT met'} ({target:.2f}x)")
EOF
