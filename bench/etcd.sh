#!/usr/bin/env bash
# Benchmark: how long a new Flannel lease takes to reach every watcher, with NODES simulated
# nodes (default 100). A throwaway etcd (Debian's etcd-server) on loopback holds the config
# and NODES leases written directly in flannel's format; NODES `netpath leases --watch --json`
# processes (one per simulated node, each what the agent runs to follow the leases) watch the
# subnets prefix; then ROUNDS new leases are written one at a time, and a harness records when
# each watcher printed each one. The same is done with NODES `etcdctl watch --prefix` (the
# peer tool: the raw etcd watch, no parsing) when etcdctl is installed (etcd-client), and the
# ratio printed. Nothing needs root; everything is on 127.0.0.1 and removed at exit.
#
#   bench/etcd.sh [NODES] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."

NODES=${1:-100}
ROUNDS=${2:-20}
WORK=$(mktemp -d)
ETCD_PID=

cleanup() {
  [ -n "$ETCD_PID" ] && kill "$ETCD_PID" 2>/dev/null && wait "$ETCD_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v etcd >/dev/null || { echo "bench/etcd.sh needs etcd (apt-get install etcd-server)" >&2; exit 1; }
cargo build --profile profiling --quiet
BIN=$PWD/target/profiling/netpath

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
CP=$(port); PP=$(port)
URL=http://127.0.0.1:$CP
etcd --name bench --data-dir "$WORK/data" --listen-client-urls "$URL" --advertise-client-urls "$URL" \
  --listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
  --initial-cluster "bench=http://127.0.0.1:$PP" >"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!
for _ in $(seq 100); do curl -sf -X POST "$URL/v3/kv/range" -d '{"key":"eA=="}' >/dev/null && break; sleep 0.1; done

export URL NODES ROUNDS BIN
python3 - <<'EOF'
import base64, json, os, selectors, shutil, statistics, subprocess, time, urllib.request

url, nodes, rounds, binary = os.environ["URL"], int(os.environ["NODES"]), int(os.environ["ROUNDS"]), os.environ["BIN"]
b64 = lambda s: base64.b64encode(s.encode()).decode()

def call(path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode())
    return json.load(urllib.request.urlopen(req))

def put_lease(i):
    lease = call("/v3/lease/grant", {"TTL": "86400"})["ID"]
    key = "/coreos.com/network/subnets/10.244.%d.%d-28" % (i // 16, (i % 16) * 16)
    value = json.dumps({"PublicIP": "192.168.%d.%d" % (i // 250, i % 250 + 1), "PublicIPv6": None,
                        "BackendType": "vxlan",
                        "BackendData": {"VNI": 1, "VtepMAC": "c2:00:00:00:%02x:%02x" % (i // 256, i % 256)}},
                       separators=(",", ":"))
    call("/v3/kv/put", {"key": b64(key), "value": b64(value), "lease": lease})
    return key

call("/v3/kv/put", {"key": b64("/coreos.com/network/config"),
                    "value": b64('{"Network":"10.244.0.0/16","SubnetLen":28,"Backend":{"Type":"vxlan"}}')})
for i in range(nodes):
    put_lease(i)
next_id = [nodes]

def run(name, argv, ready):
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) for _ in range(nodes)]
    sel = selectors.DefaultSelector()
    buf = {}
    for p in procs:
        os.set_blocking(p.stdout.fileno(), False)
        sel.register(p.stdout, selectors.EVENT_READ, p)
        buf[p] = b""
    seen = {}  # (proc, key) -> time

    def pump(deadline):
        while time.time() < deadline:
            for k, _ in sel.select(timeout=max(0.0, deadline - time.time())):
                p = k.data
                chunk = p.stdout.read() or b""
                now = time.time()
                buf[p] += chunk
                *lines, buf[p] = buf[p].split(b"\n")
                for line in lines:
                    for key in pending:
                        if key.encode() in line or key.split("/")[-1].replace("-", "/").encode() in line:
                            seen.setdefault((p, key), now)
                    if b'"ready"' in line:
                        seen.setdefault((p, "ready"), now)
            if all((p, k) in seen for p in procs for k in pending):
                return True
        return False

    pending = ["ready"] if ready else []
    if ready:
        if not pump(time.time() + 60):
            raise SystemExit("%s: watchers not ready in 60 s" % name)
    else:
        time.sleep(3)
    lat = []
    for r in range(rounds):
        i = next_id[0]; next_id[0] += 1
        t0 = time.time()
        key = put_lease(i)
        pending = [key]
        if not pump(t0 + 30):
            raise SystemExit("%s: lease %s did not reach every watcher in 30 s" % (name, key))
        arrivals = [seen[(p, key)] - t0 for p in procs]
        lat.append(max(arrivals))
        time.sleep(0.05)
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()
    return lat

def fmt(l):
    return "median %.1f ms, p90 %.1f ms, max %.1f ms" % (statistics.median(l) * 1e3,
        sorted(l)[int(len(l) * 0.9) - 1] * 1e3, max(l) * 1e3)

ours = run("netpath", [binary, "leases", "--watch", "--json", "--etcd-endpoints", url], True)
print("%d watchers, %d new leases, time until the lease reached every watcher:" % (nodes, rounds))
print("  netpath leases --watch   %s" % fmt(ours))
etcdctl = shutil.which("etcdctl")
if etcdctl:
    env = dict(os.environ, ETCDCTL_API="3")
    theirs = run("etcdctl", [etcdctl, "--endpoints", url, "watch", "--prefix", "/coreos.com/network/subnets/"], False)
    print("  etcdctl watch --prefix   %s" % fmt(theirs))
    print("  ratio (median netpath / etcdctl): %.2f" % (statistics.median(ours) / statistics.median(theirs)))
else:
    print("  (etcdctl not installed: apt-get install etcd-client for the comparison)")
EOF
