#!/usr/bin/env bash
# Fuzz every parser of untrusted input with cargo-fuzz (libFuzzer), each for a fixed time:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default 300 s each, every target)
#
# Targets (fuzz/fuzz_targets/, entries in src/fuzzing.rs): decode (frames of every link
# type), routes_text, ip_json, node_dumps (ip link/addr/neigh, bridge fdb, sysctl -a),
# kubectl, cluster_file, snapshot_json (snapshots, plans, NodeState), net_conf, ippool,
# pcap (the pcap/pcapng reader), etcd_wire (gateway answers and watch lines),
# netlink_route (RTM_NEWROUTE payloads). Corpora start from the project's test data and
# fuzz/seeds/<target>/. Memory is capped (-rss_limit_mb) and so are
# input sizes. A crash leaves its input in fuzz/artifacts/<target>/; replay it with
# `cargo fuzz run TARGET FILE`. CI runs the same entries briefly on stable without
# cargo-fuzz (tests/fuzz_smoke.rs). Executions survived are recorded in docs/fuzz.md.
set -euo pipefail

SECONDS_TO_RUN=${1:-300}
shift || true
ALL="decode routes_text ip_json node_dumps kubectl cluster_file snapshot_json net_conf ippool pcap etcd_wire netlink_route"
TARGETS=${*:-$ALL}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz..." >&2
    cargo install --locked cargo-fuzz
fi

# Seeds: one file per packet of the project's own test captures. The selector byte is the
# index of the link type in the target's LINKS table.
CORPUS=fuzz/corpus/decode
mkdir -p "$CORPUS"
python3 - "$CORPUS" testdata/*.pcap <<'PY'
import hashlib, os, struct, sys
LINKS = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147]
out = sys.argv[1]
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    if len(data) < 24 or data[:4] != b"\xd4\xc3\xb2\xa1":
        continue
    link = struct.unpack("<I", data[20:24])[0]
    if link not in LINKS:
        continue
    sel = bytes([LINKS.index(link)])
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        seed = sel + frame
        name = hashlib.sha1(seed).hexdigest()
        with open(os.path.join(out, name), "wb") as f:
            f.write(seed)
PY
# Seeds of the other targets: the files the stable smoke test reads (tests/fuzz_smoke.rs).
seed() { # TARGET FILES...
    local t=$1; shift
    mkdir -p "fuzz/corpus/$t"
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "fuzz/corpus/$t/$(sha1sum "$f" | cut -c1-40)"
    done
    if [ -d "fuzz/seeds/$t" ]; then
        for f in fuzz/seeds/"$t"/*; do cp "$f" "fuzz/corpus/$t/$(sha1sum "$f" | cut -c1-40)"; done
    fi
}
seed routes_text $(ls testdata/routes/* | grep -v '\.json$')
seed ip_json testdata/routes/*.json
seed node_dumps testdata/snapshot-text/*/*
seed kubectl testdata/clusters/*.json
seed cluster_file src/model/demos/*.yaml
seed snapshot_json
seed net_conf testdata/clusters/net-conf.json
seed ippool testdata/clusters/ippool.yaml
seed pcap testdata/*.pcap
seed etcd_wire
seed netlink_route

# Stable without a sanitizer by default (panics, hangs and memory are what the targets
# look for; netpath has little unsafe code); NETPATH_FUZZ_ASAN=1 uses nightly and ASan.
SANITIZER=(-s none)
TOOLCHAIN=()
if [ "${NETPATH_FUZZ_ASAN:-0}" = 1 ]; then
    SANITIZER=()
    TOOLCHAIN=(+nightly)
fi
cd fuzz
for t in $TARGETS; do
    echo "== $t: $(ls "corpus/$t" | wc -l) inputs; fuzzing for ${SECONDS_TO_RUN}s" >&2
    cargo "${TOOLCHAIN[@]}" fuzz run "${SANITIZER[@]}" "$t" "corpus/$t" -- \
        -max_total_time="$SECONDS_TO_RUN" \
        -rss_limit_mb=1024 \
        -max_len=65536 \
        -timeout=10 \
        -print_final_stats=1 2>&1 | tee "/tmp/netpath-fuzz-$t.log" | grep -E "^(stat::number_of_executed_units|==|SUMMARY|Done)" || true
done
