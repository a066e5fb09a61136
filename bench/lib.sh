# Shared by the node benchmarks (bench/pods.sh, bench/snapshot.sh); sourced from the repo
# root after the script sets TAG, NODE, WORK, RUNS and KEPT (what KEEP=1 says it left).

# At exit: delete every netns named $TAG-* and $WORK (KEEP=1 leaves them, saying so).
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then echo "kept: $KEPT" >&2; return; fi
  for f in /run/netns/"$TAG"-*; do
    [ -e "$f" ] && ip netns del "$(basename "$f")" 2>/dev/null || true
  done
  rm -rf "$WORK"
}

# Refuse to run without root (naming the script, $1), then build the binary (the
# `profiling` profile: release optimisations with debug info, for perf and callgrind).
need_root_and_build() {
  [ "$(id -u)" = 0 ] || { echo "$1 needs root" >&2; exit 1; }
  cargo build --profile profiling --quiet
}
BIN=target/profiling/netpath

# The "node" netns $NODE: lo up and a cni0 bridge at 10.244.0.1/16.
make_node() {
  ip netns add "$NODE"
  ip -n "$NODE" link set lo up
  ip -n "$NODE" link add cni0 type bridge
  ip -n "$NODE" addr add 10.244.0.1/16 dev cni0
  ip -n "$NODE" link set cni0 up
}

median_ms() { # command... ; prints "WALL CPU": median wall and median user+sys time over $RUNS runs, in ms
  local walls=() cpus=()
  for _ in $(seq 1 "$RUNS"); do
    local t0 t1 cpu
    t0=$(date +%s%N)
    { TIMEFORMAT='%3U %3S'; time "$@" > /dev/null 2>&1 || true; } 2> "$WORK/time"
    cpu=$(awk '{printf "%d", ($1 + $2) * 1000000}' "$WORK/time")
    t1=$(date +%s%N)
    walls+=($(( (t1 - t0) / 1000 )))
    cpus+=("${cpu:-0}")
  done
  local w c
  w=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}')
  c=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}')
  echo "$w $c"
}
