#!/usr/bin/env bash
# Fills a single-host Torus volume, then overwrites it with 4 KiB random writes while the store has
# little room beyond the volume, to see garbage collection keep up (or not) and the store recover.
#
#   bench/full-store.sh [--volume 1GiB] [--store 1536MiB] [--rate IOPS,...] [--runtime 30]
#                       [--pause 25] [--flush-every N]
#
#   --volume   the volume's size (default 1GiB); fio works on all of it
#   --store    the node's --size (default 1536MiB)
#   --rate     one phase per value: 4 KiB random writes at that many IOPS, 0 = as fast as it goes
#              (default 0,500)
#   --runtime  seconds per phase (default 30)
#   --pause    seconds between phases, for collection to catch up (default 25)
#   --flush-every N  instead of fio, one writer at queue depth 1 (python3-libnbd) that sends a
#              flush (NBD FLUSH) after every N writes, as a file system's commits do, and counts
#              the flushes that failed; --rate then only sets the number of phases
#
# Runs bin/torusctl and bin/torusd from this checkout (build first: mvn -B -DskipTests package)
# with the embedded metadata in a temporary directory, and fio's nbd engine against the node's own
# NBD listener. After each phase it prints the writes acknowledged and failed, the node's CPU
# time, and the store's usage (from the node's /health) right after the phase and after the
# pause. Needs fio, jq and python3 (Debian packages of those names), and python3-libnbd for
# --flush-every.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
volume=1GiB
store=1536MiB
rates=0,500
runtime=30
pause=25
flush_every=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --volume) volume="$2"; shift 2 ;;
    --store) store="$2"; shift 2 ;;
    --rate) rates="$2"; shift 2 ;;
    --runtime) runtime="$2"; shift 2 ;;
    --pause) pause="$2"; shift 2 ;;
    --flush-every) flush_every="$2"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in fio jq python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install $tool" >&2; exit 2; }
done

work="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
http=$(free_port)
meta=(--metadata "$work/metadata.db")
uri="nbd://127.0.0.1:$port/v"

"$root/bin/torusctl" "${meta[@]}" init --replication 1 >/dev/null
"$root/bin/torusctl" "${meta[@]}" volume create-block v "$volume" >/dev/null
"$root/bin/torusd" "${meta[@]}" --data-dir "$work/data" --size "$store" \
  --peer-address tcp://127.0.0.1:0 --auto-join --nbd "127.0.0.1:$port" \
  --host 127.0.0.1 --port "$http" >"$work/torusd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  fio --name=probe --ioengine=nbd --uri="$uri" --rw=read --bs=4k --size=4k >/dev/null 2>&1 && break
  sleep 0.3
done
# The store's usage now, from the node's /health.
usage() {
  python3 -c 'import json, sys, urllib.request
h = json.load(urllib.request.urlopen("http://127.0.0.1:" + sys.argv[1] + "/health"))
print("%.0f%%" % (100 * h["usedBytes"] / h["capacityBytes"]))' "$http"
}

# The node's CPU time so far (user and system, all threads), in clock ticks.
cpu() {
  awk '{print $14 + $15}' "/proc/$pid/stat"
}

echo "volume $volume on a $store store; filling it"
fio --name=fill --ioengine=nbd --uri="$uri" --rw=write --bs=1M --iodepth=16 >/dev/null
echo "after the fill: usage $(usage)"
IFS=, read -r -a phases <<<"$rates"
for rate in "${phases[@]}"; do
  limit=()
  [[ "$rate" != 0 ]] && limit=(--rate_iops="$rate")
  # Failed writes are counted, not fatal: the point is whether the volume carries on. fio's
  # continue_on_error alone still stops at ENOSPC; ignore_error lists read, then write errors.
  cpu0=$(cpu)
  if [[ "$flush_every" != 0 ]]; then
    # fio's nbd engine does not count failed flushes, so this writer does it itself.
    result=$(/usr/bin/python3 - "$uri" "$runtime" "$flush_every" <<'PY'
import nbd, os, random, sys, time
h = nbd.NBD()
h.connect_uri(sys.argv[1])
blocks, end, every = h.get_size() // 4096, time.time() + int(sys.argv[2]), int(sys.argv[3])
writes = failed_writes = flushes = failed_flushes = 0
while time.time() < end:
    try:
        h.pwrite(os.urandom(4096), random.randrange(blocks) * 4096)
        writes += 1
    except nbd.Error:
        failed_writes += 1
    if (writes + failed_writes) % every == 0:
        try:
            h.flush()
            flushes += 1
        except nbd.Error:
            failed_flushes += 1
h.shutdown()
print(f"{writes} writes and {flushes} flushes acknowledged, {failed_writes} writes and"
      f" {failed_flushes} flushes failed")
PY
)
    cpu1=$(cpu)
    after=$(usage)
    sleep "$pause"
    echo "flush every $flush_every writes, ${runtime}s: $result, node CPU" \
      "$(( (cpu1 - cpu0) / $(getconf CLK_TCK) )) s; usage $after, $(usage) ${pause}s later"
    continue
  fi
  fio --name=rw --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth=16 \
    "${limit[@]}" --time_based --runtime="$runtime" --continue_on_error=write \
    --ignore_error=EIO,ENOSPC:EIO \
    --output-format=json 2>/dev/null | sed -n '/^{/,$p' >"$work/phase.json" || true
  cpu1=$(cpu)
  result=$(jq -r --argjson runtime "$runtime" '.jobs[0] | "\(.write.io_bytes / 4096) writes"
    + " acknowledged, \(.total_err) failed" + (if .job_runtime < 900 * $runtime then
    " (fio stopped after \(.job_runtime / 1000) s: error \(.error))" else "" end)' \
    "$work/phase.json")
  result="$result, node CPU $(( (cpu1 - cpu0) / $(getconf CLK_TCK) )) s"
  after=$(usage)
  sleep "$pause"
  echo "rate $rate IOPS (0 = unthrottled), ${runtime}s: $result; usage $after, $(usage)" \
    "${pause}s later"
done
echo "node log: garbage collection pace changes and failures"
grep -E 'full:|write-back|commit of volume' "$work/torusd.log" | cut -c1-200 | head -20 || true
