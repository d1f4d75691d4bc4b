#!/usr/bin/env bash
# Measures Torus volumes served over NBD with fio's nbd engine and, in the same run, two baselines:
# nbdkit's memory plugin and qemu-nbd over a raw file. Prints IOPS and bandwidth per job and the
# ratios against the baselines (compare ratios, not absolute numbers: run-to-run variance is ~20%).
#
#   bench/nbd-fio.sh [--torus memory,file] [--server-cmd CMD] [--size 1G] [--block-size 32KiB]
#                    [--runtime 10] [--warmup 30] [--jobs JOB,...] [--no-baselines] [--dir DIR]
#                    [--tls]
#
#   --torus       Torus volumes to measure, comma-separated (default memory,file):
#                   memory  an in-memory volume (VolumeService over the in-memory store and metadata)
#                   file    a durable single-host volume (file block store + embedded SQLite metadata
#                           in --dir)
#                 both served by NbdServer with ExportResolver.ofVolumes (bench/run NbdServeBench;
#                 build first: mvn -B -o -pl torus-bench -am package -DskipTests)
#   --server-cmd  measure this command instead, as target "custom"; {port} and {size} are
#                 replaced, and it must serve the export "bench"
#   --size        volume size and the range fio works on, the same for every server (default 1G)
#   --block-size  the Torus volumes' block size (default 32KiB, the default of torusctl init)
#   --runtime     seconds per job, after 2 s of ramp-up (default 10)
#   --warmup      seconds of mixed 64k reads and writes after the fill (default 30: an in-memory
#                 Torus volume's store grows to two or three times the volume under rewrites before
#                 it reuses memory, and until then the kernel's faults on fresh memory dominate)
#   --jobs        run only these jobs (names as in the table below)
#   --no-baselines  skip nbdkit and qemu-nbd (for a block-size sweep: ratios then need a run with them)
#   --dir         where the durable volume's store and qemu-nbd's raw file live (default: a temporary
#                 directory under $TMPDIR, or /tmp). The durable volume holds what it is written in
#                 memory up to its dirty limit (1 GiB with the JVM options below) and stores and
#                 syncs it at least every 5 s (its commit interval); qemu-nbd syncs nothing unless
#                 it is flushed, and its file stays in the page cache. On a tmpfs (/dev/shm) syncs
#                 cost nothing: that measures the software without the disk.
#   --tls         every server requires TLS, with a certificate made for the run by openssl (the
#                 Torus volumes with NbdServeBench --tls-dir, nbdkit with --tls=require, qemu-nbd
#                 with x509 credentials), and fio connects with nbds:// URIs
#
# Jobs: 4k random read and write at queue depth 1 and 16, 1M sequential read and write at QD16.
# Every server gets the same treatment: filled with data first (so reads do not measure holes),
# warmed up (the JIT compiles the Java server meanwhile, and an in-memory Torus volume grows to its
# settled size), then every job. After the warm-up and after each job, one NBD FLUSH (libnbd's Python shell)
# settles what was written, so that no job pays for storing the writes of the one before it: a
# Torus volume's commit of up to its dirty limit, qemu-nbd's fsync of its dirty page cache. The
# flush's duration is printed, not measured as a job. The load average is
# printed before and after each server, since the 2 cores are shared.
# The Torus server's JVM runs with BENCH_JAVA_OPTS (default: 2 GiB heap, 6 GiB direct memory for
# the in-memory store's blocks and the written data; a quarter of it, at most 1 GiB, is the
# volumes' dirty limit), on $JAVA_HOME/bin/java when JAVA_HOME is set.
# Needs fio, nbdkit, qemu-utils, libnbd-bin, python3-libnbd (nbdsh), jq and python3 (Debian
# packages of those names), and openssl for --tls.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export BENCH_JAVA_OPTS="${BENCH_JAVA_OPTS:--Xmx2g -XX:MaxDirectMemorySize=6g}"

export_name=bench
size=1G
runtime=10
warmup=30
block_size=32KiB
torus=memory,file
server_cmd=""
only_jobs=""
baselines=yes
tls=no
data_parent="${TMPDIR:-/tmp}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --torus) torus="$2"; shift 2 ;;
    --server-cmd) server_cmd="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --block-size) block_size="$2"; shift 2 ;;
    --runtime) runtime="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --jobs) only_jobs="$2"; shift 2 ;;
    --no-baselines) baselines=no; shift ;;
    --dir) data_parent="$2"; shift 2 ;;
    --tls) tls=yes; shift ;;
    -h|--help) sed -n '2,44p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

targets=()
if [[ -n "$server_cmd" ]]; then
  targets+=("custom")
else
  IFS=, read -r -a targets <<<"$torus"
  for t in "${targets[@]}"; do
    case "$t" in
      memory|file) ;;
      *) echo "--torus takes memory and/or file, not '$t'" >&2; exit 2 ;;
    esac
  done
fi
tools="fio:fio nbdkit:nbdkit qemu-nbd:qemu-utils qemu-img:qemu-utils nbdinfo:libnbd-bin jq:jq"
tools+=" python3:python3"
if [[ "$tls" == yes ]]; then tools+=" openssl:openssl"; fi
for tool in $tools; do
  if ! command -v "${tool%%:*}" >/dev/null; then
    echo "${tool%%:*} is missing: apt-get install ${tool##*:}" >&2
    exit 2
  fi
done
# The flushes between jobs use libnbd's Python module, which nbdsh would look for in the first
# python3 on the PATH; a pyenv or virtualenv one lacks Debian's.
nbd_python=""
for py in python3 /usr/bin/python3; do
  if "$py" -c 'import nbd' 2>/dev/null; then nbd_python="$py"; break; fi
done
if [[ -z "$nbd_python" ]]; then
  echo "python3's nbd module is missing: apt-get install python3-libnbd" >&2
  exit 2
fi

if [[ ! -d "$data_parent" ]]; then
  echo "--dir $data_parent is not a directory" >&2
  exit 2
fi
work="$(mktemp -d)"
data="$(mktemp -d "$data_parent/torus-nbd-fio.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work" "$data"
}
trap cleanup EXIT

# With --tls: a CA and a server certificate for 127.0.0.1 in $work/tls, the layout nbdkit and
# qemu-nbd read. fio's nbd engine refuses URIs that name local files, so libnbd finds the CA in
# its default place under $HOME, a home of the run's own for the clients.
scheme=nbd
if [[ "$tls" == yes ]]; then
  scheme=nbds
  mkdir -p "$work/tls" "$work/home/.pki/libnbd"
  for who in ca server; do
    signer=()
    if [[ "$who" == server ]]; then # qemu-nbd (GnuTLS) wants a server certificate that is no CA
      signer=(-CA "$work/tls/ca-cert.pem" -CAkey "$work/tls/ca-key.pem"
        -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth")
    fi
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
      -keyout "$work/tls/$who-key.pem" -out "$work/tls/$who-cert.pem" -subj "/CN=$who" \
      -addext "subjectAltName=IP:127.0.0.1" "${signer[@]}" 2>/dev/null
  done
  cp "$work/tls/ca-cert.pem" "$work/home/.pki/libnbd/"
  export HOME="$work/home"
fi

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
if [[ -n "$only_jobs" ]]; then
  selected=()
  for spec in "${jobs[@]}"; do
    if [[ ",$only_jobs," == *",${spec%% *},"* ]]; then selected+=("$spec"); fi
  done
  if [[ ${#selected[@]} -eq 0 ]]; then echo "--jobs matches no job" >&2; exit 2; fi
  jobs=("${selected[@]}")
fi

load() { cut -d' ' -f1-3 /proc/loadavg; }

# settle URI: flushes the export and prints how long that took.
settle() {
  local start end
  start=$(date +%s%N)
  "$nbd_python" -m nbd -u "$1" -c 'h.flush()'
  end=$(date +%s%N)
  echo "   (flush $(( (end - start) / 1000000 )) ms)" >&2
}

# cpu PID: CPU time (user + system, all threads) the process has used, in clock ticks.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# measure NAME URI PID: fills the device, runs every job, writes NAME.results (job iops kib/s
# server-cpu-µs-per-request). The server's CPU time is taken after the ramp-up, so it is less
# sensitive than throughput to other work on the machine.
measure() {
  local name="$1" uri="$2" pid="$3" fio_pid c0 c1
  echo "== $name: $uri (load average $(load))" >&2
  fio_json "$uri" fill --rw=write --bs=1M --iodepth=16 >/dev/null
  fio_json "$uri" warmup --rw=randrw --bs=64k --iodepth=16 --time_based --runtime="$warmup" >/dev/null
  settle "$uri"
  : >"$work/$name.results"
  for spec in "${jobs[@]}"; do
    read -r job args <<<"$spec"
    # shellcheck disable=SC2086
    fio_json "$uri" "$job" $args --time_based --runtime="$runtime" --ramp_time=2 \
      >"$work/$name.$job.json" &
    fio_pid=$!
    sleep 2
    c0=$(cpu "$pid")
    wait "$fio_pid"
    c1=$(cpu "$pid")
    jq -r --arg job "$job" --argjson ticks $((c1 - c0)) --argjson hz "$(getconf CLK_TCK)" \
      --argjson runtime "$runtime" \
      '.jobs[0] | (if .read.io_bytes > 0 then .read else .write end)
        | "\($job) \(.iops) \(.bw) \($ticks / $hz * 1e6 / (.iops * $runtime))"' \
      "$work/$name.$job.json" >>"$work/$name.results"
    echo "   $(tail -1 "$work/$name.results")" >&2
    settle "$uri"
  done
  echo "   (load average $(load))" >&2
}

# serve_and_measure NAME CMD: starts a server, measures it and stops it, so that servers never
# compete with each other for the cores.
serve_and_measure() {
  local name="$1" cmd="$2" port
  port=$(free_port)
  cmd="${cmd//\{port\}/$port}"
  cmd="${cmd//\{size\}/$size}"
  # shellcheck disable=SC2086
  start "$name" "$scheme://127.0.0.1:$port/$export_name" $cmd
  measure "$name" "$scheme://127.0.0.1:$port/$export_name" "${pids[-1]}"
  stop_last
}

# stop_last: stops the server started last and waits for it to exit.
stop_last() {
  local pid="${pids[-1]}"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset 'pids[-1]'
}

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load average $(load)" >&2
echo "durable volume and qemu-nbd's file in $data ($(df --output=fstype "$data" | tail -1))" >&2
for t in "${targets[@]}"; do
  if [[ "$t" == custom ]]; then
    serve_and_measure custom "$server_cmd"
  else
    dir_arg=""
    if [[ "$t" == file ]]; then dir_arg="--dir $data/torus-file"; fi
    tls_arg=""
    if [[ "$tls" == yes ]]; then tls_arg="--tls-dir $work/tls"; fi
    serve_and_measure "torus-$t" "$root/bench/run NbdServeBench --store $t --port {port} \
      --size {size} --block-size $block_size --export $export_name $dir_arg $tls_arg"
  fi
done
names=()
for t in "${targets[@]}"; do
  if [[ "$t" == custom ]]; then names+=(custom); else names+=("torus-$t"); fi
done

if [[ "$baselines" == yes ]]; then
  port=$(free_port)
  nbdkit_tls=() qemu_tls=()
  if [[ "$tls" == yes ]]; then
    nbdkit_tls=(--tls=require "--tls-certificates=$work/tls")
    qemu_tls=(--object "tls-creds-x509,id=tls0,dir=$work/tls,endpoint=server,verify-peer=off"
      --tls-creds=tls0)
  fi
  start nbdkit "$scheme://127.0.0.1:$port/" \
    nbdkit -f -i 127.0.0.1 -p "$port" "${nbdkit_tls[@]}" memory "$size"
  measure nbdkit "$scheme://127.0.0.1:$port/" "${pids[-1]}"
  stop_last

  port=$(free_port)
  qemu-img create -q -f raw "$data/disk.raw" "$size"
  start qemu-nbd "$scheme://127.0.0.1:$port/$export_name" \
    qemu-nbd -f raw -b 127.0.0.1 -p "$port" -x "$export_name" --persistent --shared=8 \
    "${qemu_tls[@]}" "$data/disk.raw"
  measure qemu-nbd "$scheme://127.0.0.1:$port/$export_name" "${pids[-1]}"
  stop_last
  names+=(nbdkit qemu-nbd)
fi

echo
over_tls=""
if [[ "$tls" == yes ]]; then over_tls=", every server over TLS"; fi
echo "fio nbd engine, $size, ${runtime}s per job, Torus block size $block_size, files on" \
  "$(df --output=fstype "$data" | tail -1)$over_tls; load average now $(load)"
echo "Torus on $("${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 | head -1) (JAVA_HOME picks another JDK)"
echo "4k jobs in IOPS, 1m jobs in MiB/s; then each Torus volume as a ratio to nbdkit and to qemu-nbd"
files=()
for n in "${names[@]}"; do files+=("$work/$n.results"); done
# One line per job: the job name, then per server "iops kib/s cpu"; awk prints the chosen column.
paste -d' ' "${files[@]}" | awk -v names="${names[*]}" -v baselines="$baselines" '
  BEGIN {
    n = split(names, name, " ")
    printf "%-18s", "job"
    for (i = 1; i <= n; i++) printf " %12s", name[i]
    if (baselines == "yes")
      for (i = 1; i <= n - 2; i++) printf " %24s", name[i] " / nbdkit, qemu"
    printf "\n"
  }
  {
    mb = ($1 ~ /-1m-/)
    for (i = 1; i <= n; i++) v[i] = mb ? $((i - 1) * 4 + 3) / 1024 : $((i - 1) * 4 + 2)
    printf "%-18s", $1
    for (i = 1; i <= n; i++) printf " %12.*f", mb ? 1 : 0, v[i]
    if (baselines == "yes")
      for (i = 1; i <= n - 2; i++) printf " %16.2fx, %5.2fx", v[i] / v[n - 1], v[i] / v[n]
    printf "\n"
  }'
echo
echo "Server CPU time per request in µs (user + system, all threads, after the ramp-up)"
paste -d' ' "${files[@]}" | awk -v names="${names[*]}" '
  BEGIN {
    n = split(names, name, " ")
    printf "%-18s", "job"
    for (i = 1; i <= n; i++) printf " %12s", name[i]
    printf "\n"
  }
  {
    printf "%-18s", $1
    for (i = 1; i <= n; i++) printf " %12.1f", $((i - 1) * 4 + 4)
    printf "\n"
  }'
