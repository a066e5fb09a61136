#!/usr/bin/env bash
# Benchmark reading a cluster from the Kubernetes API (not a test: numbers, not assertions).
#
#   bench/kube.sh [NODES PODS [RUNS]]     defaults: 5000 150000 1 (kubectl takes minutes)
#
# Serves a synthetic NODES-node / PODS-pod Calico cluster (`netpath demo --generate-kubectl`)
# from the API server double (tests/kube/apiserver.py: HTTPS, a token, pages of `limit`), then,
# back to back, RUNS times each:
#   kubectl get nodes,pods -A -o json          (the peer: what an SRE's dump costs)
#   netpath trace POD_A POD_B --kubeconfig K   (read nodes, pods, IPPools, BlockAffinities and
#                                               ConfigMaps, build the cluster, trace one pair)
# and prints the median wall and CPU seconds of each and the ratio netpath / kubectl (target:
# at most 2). The double's own time is in both. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=${1:-5000}
PODS=${2:-150000}
RUNS=${3:-1}
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
command -v kubectl >/dev/null || { echo "bench/kube.sh needs kubectl (kubernetes-client)" >&2; exit 1; }

cargo build --profile profiling --quiet
BIN=$PWD/target/profiling/netpath

echo "== a $NODES-node / $PODS-pod cluster behind the API server double"
$BIN demo --generate-kubectl "$NODES" "$PODS" > "$WORK/list.json"
awk -v b="$(stat -c %s "$WORK/list.json")" 'BEGIN { printf "   %.1f MB as a kubectl List\n", b / 1e6 }'
(
  cd "$WORK"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=bench-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > server.ext
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=bench-server 2>/dev/null
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 \
    -extfile server.ext 2>/dev/null
)
TOKEN=bench-token
python3 tests/kube/apiserver.py --list "$WORK/list.json" --cert "$WORK/server.crt" --key "$WORK/server.key" \
  --token "$TOKEN" --port-file "$WORK/port" --lifetime 1800 &
SERVER_PID=$!
for _ in $(seq 1 600); do [ -f "$WORK/port" ] && break; sleep 0.5; done
[ -f "$WORK/port" ] || { echo "the API server double did not start" >&2; exit 1; }
PORT=$(cat "$WORK/port")
cat > "$WORK/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: bench
    cluster: {server: "https://127.0.0.1:$PORT", certificate-authority: $WORK/ca.crt}
users:
  - name: bench
    user: {token: $TOKEN}
contexts:
  - name: bench
    context: {cluster: bench, user: bench}
current-context: bench
EOF
export KUBECONFIG=$WORK/kubeconfig HOME=$WORK
kubectl api-resources >/dev/null   # warm kubectl's discovery cache: only the lists are timed

POD_A="ns-1/app-1-1"
POD_B=$(grep -o '"name": "app-[0-9]*-[0-9a-f]*", "namespace": "ns-[0-9]*"' "$WORK/list.json" | tail -1 |
  sed -E 's/"name": "([^"]*)", "namespace": "([^"]*)"/\2\/\1/')

measure() { # LABEL command...; appends "wall cpu" lines to $WORK/LABEL
  local label=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  { TIMEFORMAT='%3U %3S'; time "$@" > "$WORK/$label.out" 2> "$WORK/$label.err"; } 2> "$WORK/time" || {
    echo "$label failed:" >&2; cat "$WORK/$label.err" >&2; exit 1; }
  t1=$(date +%s%N)
  awk -v w="$(( (t1 - t0) / 1000000 ))" '{ printf "%.3f %.3f\n", w / 1000, $1 + $2 }' "$WORK/time" >> "$WORK/$label"
}
median() { sort -n -k"$2" "$WORK/$1" | awk -v k="$2" '{ v[NR] = $k } END { print v[int((NR + 1) / 2)] }'; }

echo "== $RUNS run(s) each, interleaved"
for _ in $(seq 1 "$RUNS"); do
  measure kubectl kubectl get nodes,pods -A -o json
  # trace exits 1 when the pair is not delivered both ways: that is an answer, not a failure.
  measure netpath sh -c "$BIN trace '$POD_A' '$POD_B' > /dev/null; [ \$? -le 1 ]"
done
KW=$(median kubectl 1); KC=$(median kubectl 2); NW=$(median netpath 1); NC=$(median netpath 2)
awk -v kw="$KW" -v kc="$KC" -v nw="$NW" -v nc="$NC" 'BEGIN {
  printf "   kubectl get nodes,pods -A -o json : %6.2f s wall  %6.2f s CPU\n", kw, kc
  printf "   netpath trace (API read + trace)  : %6.2f s wall  %6.2f s CPU\n", nw, nc
  printf "   ratio netpath / kubectl           : %6.2f wall    %6.2f CPU   (target <= 2)\n", nw / kw, nc / kc
}'
