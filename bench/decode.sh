#!/usr/bin/env bash
# Benchmark `netpath decode` against tcpdump, tshark and cat on one generated capture of
# 1,000,000 packets (40% Flannel VXLAN on 8472, 30% Calico IPIP, 30% plain; frames of 62
# to 1514 bytes; deterministic), all in one run, and print packets/s and the ratios.
#
#   bench/decode.sh [PACKETS]        (default 1000000)
#
# Targets: one-line view >= 10x `tcpdump -nn -r`; --json >= 100x
# `tshark -T json --no-duplicate-keys` and faster than `tcpdump -nn -v -r`; --stats within
# 2x of `cat FILE > /dev/null`. tshark is slow, so it runs on the first 20,000 packets and
# its rate is scaled to the full file (it is printed as such).
#
# Needs a release build (done here), tcpdump and tshark (installed with apt-get when
# missing). Every run reads the file from the page cache (it is read once first); the fast
# commands are timed best of 3, tcpdump and tshark once. Times are CPU seconds (user +
# system), which a shared machine's load disturbs far less than wall time.
set -euo pipefail

PACKETS=${1:-1000000}
PREFIX=20000
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need tcpdump || ! need tshark; then
    echo "installing tcpdump and tshark (apt-get)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq tcpdump tshark >/dev/null
fi

cargo build --profile profiling --quiet --bin netpath --example gen_capture
NETPATH="$ROOT/target/profiling/netpath"
GEN="$ROOT/target/profiling/examples/gen_capture"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FILE="$TMP/bench.pcap"
SMALL="$TMP/prefix.pcap"
"$GEN" "$FILE" "$PACKETS" 1 2>/dev/null
"$GEN" "$SMALL" "$PREFIX" 1 2>/dev/null # the same seed: the file's first packets
SIZE=$(stat -c %s "$FILE")
cat "$FILE" >/dev/null # into the page cache

# cpu CMD...: CPU seconds (user + system) of one run, output to /dev/null. CPU time, not
# wall time: the benchmark machine is shared, and wall time swings with the load of others.
cpu() {
    if [ "$PERF" = 1 ]; then
        perf stat -x, -e task-clock -o "$TMP/perf" "$@" >/dev/null 2>&1 || true
        awk -F, '/task-clock/ { printf "%.4f", $1 / 1000 }' "$TMP/perf"
    else
        /usr/bin/time -o "$TMP/time" -f "%U %S" "$@" >/dev/null 2>&1 || true
        awk '{ printf "%.4f", $1 + $2 + 0.0001 }' "$TMP/time"
    fi
}
# perf's task-clock is exact; /usr/bin/time rounds to 10 ms.
PERF=0
if perf stat -x, -e task-clock -o /dev/null true >/dev/null 2>&1; then PERF=1; fi
# best3 CMD...: the least CPU time of three runs.
best3() {
    local best="" t
    for _ in 1 2 3; do
        t=$(cpu "$@")
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    echo "$best"
}
rate() { echo "$1 / $2" | bc -l | xargs printf '%.0f'; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.1f'; }
row() { printf '%-48s %9.4f s CPU %12s pkt/s\n' "$1" "$2" "$(rate "$3" "$2")"; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); times are CPU seconds (user + system, $([ "$PERF" = 1 ] && echo "perf task-clock" || echo "/usr/bin/time"))"
echo "capture: $PACKETS packets, $((SIZE / 1000000)) MB (generated, seed 1); $(nproc) cores"
echo "tcpdump: $(tcpdump --version 2>&1 | head -1); tshark: $(tshark --version 2>/dev/null | head -1)"
echo

T_CAT=$(best3 cat "$FILE")
T_LINE=$(best3 "$NETPATH" decode "$FILE")
T_JSON=$(best3 "$NETPATH" --json decode "$FILE")
T_STATS=$(best3 "$NETPATH" decode --stats --threads 1 "$FILE")
T_STATS_MT=$(best3 "$NETPATH" decode --stats "$FILE")
# Wall time (best of 3) of cat and --stats on one thread and on every CPU: what a user
# waits for. Meaningful on an idle machine only (load average printed above).
wall() {
    local best="" s e t
    for _ in 1 2 3; do
        s=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        e=$(date +%s%N)
        t=$(echo "($e - $s) / 1000000000" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    printf '%.4f' "$best"
}
W_CAT=$(wall cat "$FILE")
W_STATS=$(wall "$NETPATH" decode --stats --threads 1 "$FILE")
W_STATS_MT=$(wall "$NETPATH" decode --stats "$FILE")
T_TCPDUMP=$(cpu tcpdump -nn -r "$FILE")
T_TCPDUMP_V=$(cpu tcpdump -nn -v -r "$FILE")
T_TSHARK_SMALL=$(cpu tshark -T json --no-duplicate-keys -r "$SMALL")
T_TSHARK=$(echo "$T_TSHARK_SMALL * $PACKETS / $PREFIX" | bc -l)

# Peak memory of --stats (flat in file size: the file is memory-mapped, not read in).
/usr/bin/time -o "$TMP/rss" -f %M "$NETPATH" decode --stats "$FILE" >/dev/null
RSS_STATS=$(cat "$TMP/rss")

row "cat FILE > /dev/null" "$T_CAT" "$PACKETS"
row "netpath decode FILE (one line)" "$T_LINE" "$PACKETS"
row "tcpdump -nn -r FILE" "$T_TCPDUMP" "$PACKETS"
row "netpath --json decode FILE" "$T_JSON" "$PACKETS"
row "tcpdump -nn -v -r FILE" "$T_TCPDUMP_V" "$PACKETS"
row "tshark -T json --no-duplicate-keys (scaled*)" "$T_TSHARK" "$PACKETS"
row "netpath decode --stats --threads 1 FILE" "$T_STATS" "$PACKETS"
row "netpath decode --stats FILE ($(nproc) CPUs)" "$T_STATS_MT" "$PACKETS"
printf 'wall time, best of 3: cat %.4f s, --stats --threads 1 %.4f s, --stats on %s CPUs %.4f s\n' "$W_CAT" "$W_STATS" "$(nproc)" "$W_STATS_MT"
echo "* tshark ran on the first $PREFIX packets (${T_TSHARK_SMALL}s) and is scaled by $((PACKETS / PREFIX))."
echo "netpath decode --stats peak RSS: ${RSS_STATS} KB for a $((SIZE / 1000000)) MB file"
echo

verdict() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo "met"; else echo "MISSED"; fi; }
echo "one-line vs tcpdump -nn:        $(ratio "$T_TCPDUMP" "$T_LINE")x faster   (target >= 10x: $(verdict "$T_TCPDUMP / $T_LINE >= 10"))"
echo "json vs tshark -T json:         $(ratio "$T_TSHARK" "$T_JSON")x faster   (target >= 100x: $(verdict "$T_TSHARK / $T_JSON >= 100"))"
echo "json vs tcpdump -nn -v:         $(ratio "$T_TCPDUMP_V" "$T_JSON")x faster   (target > 1x: $(verdict "$T_TCPDUMP_V / $T_JSON > 1"))"
echo "stats vs cat, CPU, one thread:  $(ratio "$T_STATS" "$T_CAT")x the time of cat   (target <= 2x: $(verdict "$T_STATS / $T_CAT <= 2"))"
echo "stats vs cat, wall, one thread: $(ratio "$W_STATS" "$W_CAT")x the time of cat   (target <= 2x: $(verdict "$W_STATS / $W_CAT <= 2"))"
echo "stats vs cat, wall, $(nproc) CPUs:    $(ratio "$W_STATS_MT" "$W_CAT")x the time of cat   (target <= 2x: $(verdict "$W_STATS_MT / $W_CAT <= 2"))"
