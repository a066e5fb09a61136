#!/usr/bin/env bash
# Benchmark `netpath pods` on a dense node: PODS pods (default 250), each a containerd-style
# `cni-<uuid>`-like named netns with a veth whose host end sits in a "node" netns. Half are
# Calico-style (cali+hash names, /32 host routes), half Flannel-style (veth… on cni0), each
# with a libcni cache entry. Times the release binary against the scripted way an SRE does it
# today with iproute2 (one `ip -n <pod> -j addr` per pod after `ip -j link` on the node), and
# prints the ratio. Needs root; everything lives in namespaces made here and removed at exit.
#
#   bench/pods.sh [PODS] [RUNS]      (KEEP=1 leaves the namespaces for profiling)
set -euo pipefail
cd "$(dirname "$0")/.."

PODS=${1:-250}
RUNS=${2:-15}
TAG="npb$$"
NODE="$TAG-node"
WORK=$(mktemp -d)

KEPT="netns $NODE, cache $WORK/results"
# shellcheck source=bench/lib.sh
source bench/lib.sh
trap cleanup EXIT

need_root_and_build bench/pods.sh

echo "building $PODS pods in netns $NODE ..."
make_node
mkdir -p "$WORK/results"
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
    printf 'addr add %s/32 dev eth0\nlink set eth0 up\nlink set lo up\nroute add 169.254.1.1 dev eth0 scope link\nroute add default via 169.254.1.1 dev eth0\n' "$ip" \
      | ip -n "$pod" -batch -
    ifaces="[{\"name\":\"$host\"}]"
  else
    host="veth$(printf '%08x' "$i")"
    ip="10.244.$a.$b"
    ip link add "$host" netns "$NODE" type veth peer name eth0 netns "$pod"
    echo "link set $host master cni0 up" >> "$WORK/node.batch"
    printf 'addr add %s/16 dev eth0\nlink set eth0 up\nlink set lo up\nroute add default via 10.244.0.1\n' "$ip" \
      | ip -n "$pod" -batch -
    ifaces="[{\"name\":\"cni0\"},{\"name\":\"$host\"},{\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/$pod\"}]"
  fi
  cid=$(printf '%064x' "$i")
  printf '{"kind":"cniCacheV1","containerId":"%s","ifName":"eth0","networkName":"bench","netns":"/var/run/netns/%s","cniArgs":[["K8S_POD_NAMESPACE","bench"],["K8S_POD_NAME","pod-%s"]],"result":{"cniVersion":"1.0.0","interfaces":%s,"ips":[{"address":"%s/32"}]}}' \
    "$cid" "$pod" "$i" "$ifaces" "$ip" > "$WORK/results/bench-$cid-eth0"
done
ip -n "$NODE" -batch "$WORK/node.batch"

# Sanity: every pod paired, named, routed; no findings.
"$BIN" pods --json --netns "$NODE" --cni-cache "$WORK/results" > "$WORK/out.json" || true
paired=$(jq '[.veths[] | select(.status == "pod" and .pod != null and (.host_routes | all(.via == "veth" or .via == "bridge")))] | length' "$WORK/out.json")
findings=$(jq '.findings | length' "$WORK/out.json")
echo "paired and named: $paired / $PODS; findings: $findings"
[ "$paired" = "$PODS" ] || { echo "not every pod was paired" >&2; exit 1; }

peer() { # what SREs script today: the node's veths, then each pod's eth0
  ip -n "$NODE" -j link show type veth > /dev/null
  for f in /run/netns/"$TAG"-cni-*; do
    ip -n "$(basename "$f")" -j addr show dev eth0 > /dev/null
  done
}

read -r np npc < <(median_ms "$BIN" pods --netns "$NODE" --cni-cache "$WORK/results")
read -r npj npjc < <(median_ms "$BIN" pods --json --netns "$NODE" --cni-cache "$WORK/results")
read -r pr prc < <(median_ms bash -c "$(declare -f peer); NODE=$NODE TAG=$TAG peer")
echo
echo "pods: $PODS, runs: $RUNS (medians), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-50s %10s %10s\n' "" "wall ms" "cpu ms"
printf '%-50s %10s %10s\n' "netpath pods (table)" "$np" "$npc"
printf '%-50s %10s %10s\n' "netpath pods --json" "$npj" "$npjc"
printf '%-50s %10s %10s\n' "ip -j link + ip -n <pod> -j addr per pod (peer)" "$pr" "$prc"
awk -v a="$np" -v b="$pr" 'BEGIN { printf "ratio peer / netpath (wall): %.1fx\n", b / a }'
