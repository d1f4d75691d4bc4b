#!/usr/bin/env bash
# Measures an NBD server with fio's nbd engine and, in the same run, two baselines: nbdkit's
# memory plugin and qemu-nbd over a raw file. Prints IOPS and bandwidth per job and the ratios
# against the baselines (compare ratios, not absolute numbers: run-to-run variance is ~20%).
#
#   bench/nbd-fio.sh [--server-cmd CMD] [--export NAME] [--size 1G] [--runtime 10]
#
#   --server-cmd  command that serves the export under test; {port} and {size} are replaced.
#                 Default: bench/run NbdServeBench --port {port} --size {size} --export NAME
#                 (an in-memory model device; build first: mvn -B -DskipTests package)
#   --export      export name the server under test serves (default bench)
#   --size        device size, and the range fio works on (default 1G)
#   --runtime     seconds per job, after 2 s of ramp-up (default 10)
#
# Jobs: 4k random read and write at queue depth 1 and 16, 1M sequential read and write at QD16.
# Every device is filled with data first, so reads do not measure holes, then warmed up for 5 s.
# Needs fio, nbdkit, qemu-utils, libnbd-bin, jq and python3 (Debian packages of those names).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

export_name=bench
size=1G
runtime=10
server_cmd=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --server-cmd) server_cmd="$2"; shift 2 ;;
    --export) export_name="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --runtime) runtime="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -z "$server_cmd" ]]; then
  server_cmd="$root/bench/run NbdServeBench --port {port} --size {size} --export $export_name"
fi

for tool in fio:fio nbdkit:nbdkit qemu-nbd:qemu-utils qemu-img:qemu-utils nbdinfo:libnbd-bin \
    jq:jq python3:python3; do
  if ! command -v "${tool%%:*}" >/dev/null; then
    echo "${tool%%:*} is missing: apt-get install ${tool##*:}" >&2
    exit 2
  fi
done

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME URI CMD...: runs a server in the background and waits until nbdinfo can connect.
start() {
  local name="$1" uri="$2"; shift 2
  "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 300); do
    if nbdinfo "$uri" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "$name did not come up; its output:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

# fio_json URI JOB ARGS...: runs one fio job and prints its JSON (fio prints a line before it).
fio_json() {
  local uri="$1" job="$2"; shift 2
  fio --name="$job" --ioengine=nbd --uri="$uri" --size="$size" --group_reporting \
    --output-format=json "$@" | sed -n '/^{/,$p'
}

jobs=(
  "randread-4k-qd1 --rw=randread --bs=4k --iodepth=1"
  "randread-4k-qd16 --rw=randread --bs=4k --iodepth=16"
  "randwrite-4k-qd1 --rw=randwrite --bs=4k --iodepth=1"
  "randwrite-4k-qd16 --rw=randwrite --bs=4k --iodepth=16"
  "read-1m-qd16 --rw=read --bs=1M --iodepth=16"
  "write-1m-qd16 --rw=write --bs=1M --iodepth=16"
)

# measure NAME URI: fills the device, runs every job, writes NAME.results (job iops kib/s).
measure() {
  local name="$1" uri="$2"
  echo "== $name: $uri" >&2
  fio_json "$uri" fill --rw=write --bs=1M --iodepth=16 >/dev/null
  # Warm up every code path (a JIT compiles the Java server while this runs).
  fio_json "$uri" warmup --rw=randrw --bs=64k --iodepth=16 --time_based --runtime=5 >/dev/null
  : >"$work/$name.results"
  for spec in "${jobs[@]}"; do
    read -r job args <<<"$spec"
    # shellcheck disable=SC2086
    fio_json "$uri" "$job" $args --time_based --runtime="$runtime" --ramp_time=2 \
      >"$work/$name.$job.json"
    jq -r --arg job "$job" \
      '.jobs[0] | (if .read.io_bytes > 0 then .read else .write end)
        | "\($job) \(.iops) \(.bw)"' "$work/$name.$job.json" >>"$work/$name.results"
    echo "   $(tail -1 "$work/$name.results")" >&2
  done
}

port=$(free_port)
cmd="${server_cmd//\{port\}/$port}"
cmd="${cmd//\{size\}/$size}"
# shellcheck disable=SC2086
start torus "nbd://127.0.0.1:$port/$export_name" $cmd
measure torus "nbd://127.0.0.1:$port/$export_name"

port=$(free_port)
start nbdkit "nbd://127.0.0.1:$port/" nbdkit -f -i 127.0.0.1 -p "$port" memory "$size"
measure nbdkit "nbd://127.0.0.1:$port/"

port=$(free_port)
qemu-img create -q -f raw "$work/disk.raw" "$size"
start qemu-nbd "nbd://127.0.0.1:$port/$export_name" \
  qemu-nbd -f raw -b 127.0.0.1 -p "$port" -x "$export_name" --persistent --shared=8 \
  "$work/disk.raw"
measure qemu-nbd "nbd://127.0.0.1:$port/$export_name"

echo
echo "fio nbd engine, $size, ${runtime}s per job; MiB/s = bandwidth; ratios of IOPS (4k) or MiB/s (1M)"
paste -d' ' "$work/torus.results" "$work/nbdkit.results" "$work/qemu-nbd.results" |
  awk 'BEGIN {
         printf "%-18s %10s %9s %11s %9s %10s %9s %10s %10s\n", "job", "torus IOPS", "MiB/s",
           "nbdkit IOPS", "MiB/s", "qemu IOPS", "MiB/s", "vs nbdkit", "vs qemu"
       }
       {
         key = ($1 ~ /-1m-/) ? 3 : 2
         printf "%-18s %10.0f %9.1f %11.0f %9.1f %10.0f %9.1f %9.2fx %9.2fx\n", $1,
           $2, $3 / 1024, $5, $6 / 1024, $8, $9 / 1024,
           $(key) / $(key + 3), $(key) / $(key + 6)
       }'
