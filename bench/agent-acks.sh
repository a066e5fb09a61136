#!/usr/bin/env bash
# Why the agent reads the node back instead of counting acknowledgements: the kernel CPU
# cost of N pipelined RTM_NEWROUTE requests without NLM_F_ACK (the agent: only failures
# are answered) and with it (one ack per request, read between batches), and of dumping
# the N routes back (what the agent's verification reads). Fresh netns per run, same run.
#
#   sudo bench/agent-acks.sh          # N=10000, 5 runs of each
# Times are getrusage of the Python process (sys = the kernel's work in its syscalls).
set -euo pipefail
N=${N:-10000}
RUNS=${RUNS:-5}
[ "$(id -u)" = 0 ] || { echo "bench/agent-acks.sh needs root" >&2; exit 1; }
TAG="npbench-acks-$$"
WORK=$(mktemp -d)
trap 'for f in /run/netns/$TAG-*; do [ -e "$f" ] && ip netns del "$(basename "$f")"; done; rm -rf "$WORK"' EXIT INT TERM
cat > "$WORK/acks.py" <<'PY'
import socket, struct, sys, time, resource

class T:  # CPU times so far (getrusage: microseconds, unlike os.times)
    def __init__(self):
        r = resource.getrusage(resource.RUSAGE_SELF)
        self.user, self.system = r.ru_utime, r.ru_stime

N = int(sys.argv[1]); mode = sys.argv[2]
NLM_F_REQUEST, NLM_F_ACK, NLM_F_REPLACE, NLM_F_CREATE, NLM_F_DUMP = 1, 4, 0x100, 0x400, 0x300
RTM_NEWROUTE, RTM_GETROUTE = 24, 26
ifindex = socket.if_nametoindex("eth0")
def attr(t, v):
    l = 4 + len(v); return struct.pack("HH", l, t) + v + b"\0" * ((4 - l % 4) % 4)
def route(i, seq, flags):
    dst = bytes([10 if i < 65536 else 11, (i % 65536) // 256, i % 256, 0])
    body = struct.pack("BBBBBBBBI", 2, 24, 0, 0, 254, 158, 0, 1, 0)
    body += attr(1, dst) + attr(15, struct.pack("I", 254)) + attr(5, bytes([192,168,77,2])) + attr(4, struct.pack("I", ifindex))
    return struct.pack("IHHII", 16 + len(body), RTM_NEWROUTE, flags, seq, 0) + body
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
s.setsockopt(270, 10, 1)  # NETLINK_CAP_ACK
s.bind((0, 0))
flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE | (NLM_F_ACK if mode == "ack" else 0)
msgs = [route(i, i + 1, flags) for i in range(N)]
chunks, cur = [], b""
for m in msgs:
    if len(cur) + len(m) > 65536: chunks.append(cur); cur = b""
    cur += m
chunks.append(cur)
t0 = T(); w0 = time.perf_counter()
acks = 0
for c in chunks:
    s.send(c)
    if mode == "ack":
        while True:
            try: d = s.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError: break
            acks += 1
t1 = T(); w1 = time.perf_counter()
# read back: dump main table
s.send(struct.pack("IHHII", 28, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 999999, 0) + struct.pack("BBBBBBBBI", 2, 0, 0, 0, 0, 0, 0, 0, 0))
done, got, recvs = False, 0, 0
while not done:
    d = s.recv(1 << 20); recvs += 1
    off = 0
    while off < len(d):
        l, t = struct.unpack_from("IH", d, off)
        if t == 3: done = True
        elif t == 24: got += 1
        off += (l + 3) & ~3
t2 = T(); w2 = time.perf_counter()
print(f"{mode:6} send {N}: cpu {1000*(t1.system-t0.system+t1.user-t0.user):6.1f} ms (sys {1000*(t1.system-t0.system):5.1f}), wall {1000*(w1-w0):6.1f} ms, {acks} acks read | dump back {got} routes in {recvs} reads: cpu {1000*(t2.system-t1.system+t2.user-t1.user):5.1f} ms, wall {1000*(w2-w1):5.1f} ms")
PY
for r in $(seq 1 "$RUNS"); do
    for mode in noack ack; do
        ns="$TAG-$mode-$r"
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        ip -n "$ns" link add eth0 type veth peer name eth0p
        ip -n "$ns" addr add 192.168.77.1/24 dev eth0
        ip -n "$ns" link set eth0 up
        ip -n "$ns" link set eth0p up
        ip netns exec "$ns" python3 "$WORK/acks.py" "$N" "$mode"
        ip netns del "$ns"
    done
done
