#!/usr/bin/env bash
# Benchmark `netpath snapshot` on a dense node: PODS pods (default 250, each a named netns
# with a veth whose host end sits in a "node" netns: half Calico-style with /32 host routes and
# proxy ARP, half Flannel-style on cni0) and ROUTES extra routes (default 5,000) in the node's
# main table, plus a VXLAN device with neighbour and FDB entries. Times the release binary
# (with and without the pod map) against collecting the same with iproute2 and sysctl
# (`ip -d link`, `ip addr`, `ip route show table all`, `ip rule`, `ip neigh`, `bridge fdb`,
# `sysctl -a` in the netns), and prints the ratio. Needs root; everything lives in namespaces
# made here and removed at exit.
#
#   bench/snapshot.sh [PODS] [ROUTES] [RUNS]      (KEEP=1 leaves the namespaces)
set -euo pipefail
cd "$(dirname "$0")/.."

PODS=${1:-250}
ROUTES=${2:-5000}
RUNS=${3:-11}
TAG="nps$$"
NODE="$TAG-node"
WORK=$(mktemp -d)

KEPT="netns $NODE"
# shellcheck source=bench/lib.sh
source bench/lib.sh
trap cleanup EXIT

need_root_and_build bench/snapshot.sh

echo "building $PODS pods and $ROUTES routes in netns $NODE ..."
make_node
ip netns exec "$NODE" sysctl -qw net.ipv4.ip_forward=1
: > "$WORK/node.batch"
for i in $(seq 1 "$PODS"); do
  pod="$TAG-cni-$i"
  ip netns add "$pod"
  a=$((i / 250)); b=$((i % 250 + 2))
  if [ $((i % 2)) = 0 ]; then
    host="cali$(printf 'bench.pod-%s' "$i" | sha1sum | cut -c1-11)"
    ip="10.65.$a.$b"
    ip link add "$host" netns "$NODE" type veth peer name eth0 netns "$pod"
    echo "link set $host up" >> "$WORK/node.batch"
    echo "route add $ip/32 dev $host scope link" >> "$WORK/node.batch"
    echo "neigh replace $ip dev $host lladdr 0a:58:0a:41:$(printf '%02x:%02x' $a $b) nud permanent" >> "$WORK/node.batch"
    printf 'addr add %s/32 dev eth0\nlink set eth0 up\nlink set lo up\nroute add 169.254.1.1 dev eth0 scope link\nroute add default via 169.254.1.1 dev eth0\n' "$ip" \
      | ip -n "$pod" -batch -
  else
    host="veth$(printf '%08x' "$i")"
    ip="10.244.$a.$b"
    ip link add "$host" netns "$NODE" type veth peer name eth0 netns "$pod"
    echo "link set $host master cni0 up" >> "$WORK/node.batch"
    printf 'addr add %s/16 dev eth0\nlink set eth0 up\nlink set lo up\nroute add default via 10.244.0.1\n' "$ip" \
      | ip -n "$pod" -batch -
  fi
done
ip -n "$NODE" link add flannel.1 type vxlan id 1 dstport 8472 nolearning
ip -n "$NODE" link set flannel.1 up
for i in $(seq 1 50); do
  mac=$(printf '4e:5a:1c:0b:%02x:%02x' $((i / 256)) $((i % 256)))
  echo "neigh replace 10.200.$i.0 dev flannel.1 lladdr $mac nud permanent" >> "$WORK/node.batch"
done
for i in $(seq 0 $((ROUTES - 1))); do
  echo "route add 172.$((16 + i / 65536)).$(( (i / 256) % 256 )).$((i % 256))/32 via 10.244.0.$((i % 200 + 2)) dev cni0" >> "$WORK/node.batch"
done
ip -n "$NODE" -batch "$WORK/node.batch"
for i in $(seq 1 50); do
  mac=$(printf '4e:5a:1c:0b:%02x:%02x' $((i / 256)) $((i % 256)))
  bridge -n "$NODE" fdb append "$mac" dev flannel.1 dst "192.168.$((i / 256)).$((i % 256))" self permanent
done

# Sanity: the snapshot has every route and every pod.
"$BIN" snapshot --netns "$NODE" --node bench -o "$WORK/snap.json" > /dev/null
routes=$(jq '[.routes[] | select(.table == 254)] | length' "$WORK/snap.json")
pods=$(jq '.pods | length' "$WORK/snap.json")
bytes=$(stat -c %s "$WORK/snap.json")
echo "snapshot: $routes main-table routes, $pods pods, $bytes bytes"
[ "$pods" = "$PODS" ] || { echo "not every pod was mapped" >&2; exit 1; }
[ "$routes" -ge "$ROUTES" ] || { echo "routes missing" >&2; exit 1; }

peer() { # the same state with iproute2 and sysctl (no pod map)
  ip netns exec "$NODE" sh -c 'ip -d link; ip addr; ip route show table all; ip -6 route show table all; ip rule; ip neigh; bridge fdb; sysctl -a 2>/dev/null' > /dev/null
}

read -r ns nsc < <(median_ms "$BIN" snapshot --netns "$NODE" --node bench -o "$WORK/s.json")
read -r nn nnc < <(median_ms "$BIN" snapshot --netns "$NODE" --node bench --no-pods -o "$WORK/s.json")
read -r pr prc < <(median_ms bash -c "$(declare -f peer); NODE=$NODE peer")
# A text dump of the node, for --from-dir (collected once).
mkdir -p "$WORK/dump"
ip netns exec "$NODE" sh -c "ip route show table all > $WORK/dump/ip-route.txt; ip -d link > $WORK/dump/ip-link.txt; ip addr > $WORK/dump/ip-addr.txt; ip neigh > $WORK/dump/ip-neigh.txt; bridge fdb > $WORK/dump/bridge-fdb.txt; sysctl -a > $WORK/dump/sysctl.txt 2>/dev/null"
read -r nl nlc < <(median_ms "$BIN" snapshot --from-dir "$WORK/dump" -o "$WORK/t.json")
echo
echo "pods: $PODS, routes: $ROUTES, runs: $RUNS (medians), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-62s %10s %10s\n' "" "wall ms" "cpu ms"
printf '%-62s %10s %10s\n' "netpath snapshot (with the pod map)" "$ns" "$nsc"
printf '%-62s %10s %10s\n' "netpath snapshot --no-pods" "$nn" "$nnc"
printf '%-62s %10s %10s\n' "netpath snapshot --from-dir (text dump of the same node)" "$nl" "$nlc"
printf '%-62s %10s %10s\n' "ip -d link/addr/route/rule/neigh, bridge fdb, sysctl -a (peer)" "$pr" "$prc"
awk -v a="$nn" -v b="$pr" 'BEGIN { printf "ratio peer / netpath --no-pods (wall): %.1fx\n", b / a }'
awk -v a="$ns" -v b="$pr" 'BEGIN { printf "ratio peer / netpath with pods (wall): %.1fx\n", b / a }'
