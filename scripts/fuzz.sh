#!/usr/bin/env bash
# Fuzz the decoder for a fixed time on stable Rust (no sanitizer): `cargo fuzz run -s none`.
#
#   scripts/fuzz.sh [SECONDS]      (default 300)
#
# The target (fuzz/fuzz_targets/decode.rs) feeds arbitrary bytes to `decode` as a frame of
# every link type netpath knows (the first byte picks it), then renders the one-line, tree
# and JSON views and the stats. The corpus starts from every packet of testdata/*.pcap
# (prefixed with its link-type selector), so the fuzzer begins deep inside VXLAN, IPIP,
# cooked and VLAN frames. Memory is capped (-rss_limit_mb), as are input sizes.
#
# cargo-fuzz is installed here when missing (not in CI). A crash leaves its input in
# fuzz/artifacts/decode/; replay it with `cargo fuzz run -s none decode FILE`.
set -euo pipefail

SECONDS_TO_RUN=${1:-300}
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
echo "corpus: $(ls "$CORPUS" | wc -l) inputs; fuzzing for ${SECONDS_TO_RUN}s" >&2

cd fuzz
cargo fuzz run -s none decode "corpus/decode" -- \
    -max_total_time="$SECONDS_TO_RUN" \
    -rss_limit_mb=1024 \
    -max_len=4096 \
    -timeout=10 \
    -print_final_stats=1
