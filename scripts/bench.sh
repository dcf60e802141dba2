#!/usr/bin/env bash
# End-to-end benchmark, as docs/benchmarks.md reports it: machine facts, the
# disk's fsync'd sequential write baseline (dd, fio), Tern (fsync=always)
# driven by ternbench's `log` scenario with 6 and 1 partitions (RUNS runs
# each, interleaved, medians reported), and the storage engine's Go
# benchmarks. Every command is printed before it runs.
#
#   scripts/bench.sh                      # defaults below
#   RUNS=5 RECORDS=3000000 scripts/bench.sh
#   BENCH_DIR=/mnt/nvme/tmp scripts/bench.sh   # disk under test (default: $TMPDIR or /tmp)
#
# Needs: go, dd, jq; fio is installed with apt-get when missing and possible.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
RECORDS=${RECORDS:-3000000}
DURATION=${DURATION:-30s}
SIZE=${SIZE:-1024}
PRODUCERS=${PRODUCERS:-4}
CONSUMERS=${CONSUMERS:-2}
BENCHTIME=${BENCHTIME:-2s}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}

WORK=$(mktemp -d "$BENCH_DIR/ternbench.XXXXXX")
TERN_PID=
cleanup() {
  if [ -n "$TERN_PID" ] && kill -0 "$TERN_PID" 2>/dev/null; then
    kill "$TERN_PID" && wait "$TERN_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

. scripts/bench-lib.sh
machine_facts
build_binaries

section "Disk baseline: fsync'd sequential writes in $WORK"
run dd if=/dev/zero of="$WORK/ddtest" bs=1M count=256 oflag=direct conv=fdatasync
run dd if=/dev/zero of="$WORK/ddtest" bs=1M count=1024 oflag=direct conv=fdatasync
run dd if=/dev/zero of="$WORK/ddtest" bs=1M count=512 oflag=dsync
run dd if=/dev/zero of="$WORK/ddtest" bs=64k count=2000 oflag=dsync
rm -f "$WORK/ddtest"
if ! command -v fio >/dev/null && command -v apt-get >/dev/null; then
  run apt-get install -y -qq fio >/dev/null || echo "fio install failed; skipping fio"
fi
if command -v fio >/dev/null; then
  for bs in 64k 1M; do
    run fio --name="seqwrite-fsync-$bs" --filename="$WORK/fiotest" --rw=write --bs="$bs" --size=512M \
      --ioengine=sync --fsync=1 --end_fsync=1 --output-format=json --output="$WORK/fio-$bs.json"
    jq -r --arg bs "$bs" '.jobs[0] | "fio \($bs) fsync=1: \(.write.bw_bytes/1e6|floor) MB/s, \(.write.iops|floor) writes/s, fsync latency p50 \(.sync.lat_ns.percentile["50.000000"]/1000|floor) µs, p99 \(.sync.lat_ns.percentile["99.000000"]/1000|floor) µs"' \
      "$WORK/fio-$bs.json"
    rm -f "$WORK/fiotest"
  done
else
  echo "fio not available; skipped"
fi

section "Tern (fsync=always) under ternbench log"
start_tern --kafka.listen 127.0.0.1:0 --fsync always
ADDR=$TERN_KAFKA
echo "tern pid $TERN_PID listening on $ADDR"

TICK=$(getconf CLK_TCK)
: >"$WORK/results.jsonl"
for i in $(seq "$RUNS"); do
  for parts in 6 1; do
    before=$(cpu_ticks "$TERN_PID")
    TIMEFORMAT="ternbench cpu: user %Us sys %Ss wall %Rs"
    printf '\n$ %s\n' "ternbench -brokers $ADDR -partitions $parts -size $SIZE -records $RECORDS -duration $DURATION -producers $PRODUCERS -consumers $CONSUMERS -label run$i log"
    time "$WORK/ternbench" -brokers "$ADDR" -partitions "$parts" -size "$SIZE" -records "$RECORDS" \
      -duration "$DURATION" -producers "$PRODUCERS" -consumers "$CONSUMERS" -label "run$i" -log-level warn log \
      >"$WORK/run.json"
    cat "$WORK/run.json"
    cat "$WORK/run.json" >>"$WORK/results.jsonl"
    after=$(cpu_ticks "$TERN_PID")
    awk -v t="$(( after - before ))" -v hz="$TICK" 'BEGIN { printf "tern cpu: %.2fs (user+sys)\n", t / hz }'
  done
done

run uptime

section "Medians over $RUNS runs"
jq -s -r '
  def median: sort | if length % 2 == 1 then .[length/2|floor] else (.[length/2-1] + .[length/2]) / 2 end;
  group_by(.partitions) | sort_by(-.[0].partitions)[] |
  "partitions=\(.[0].partitions) size=\(.[0].size) runs=\(length) records/run=\(.[0].records): " +
  "produce \(map(.produce_mb_s)|median) MB/s (\(map(.produce_msgs_s)|median|floor) msgs/s; runs \(map(.produce_mb_s)|join(", "))), " +
  "p50 \(map(.p50_ms)|median) ms, p99 \(map(.p99_ms)|median) ms, p99.9 \(map(.p999_ms)|median) ms, " +
  "consume \(map(.consume_mb_s)|median) MB/s (runs \(map(.consume_mb_s)|join(", ")))"
' "$WORK/results.jsonl"

kill "$TERN_PID" && wait "$TERN_PID" 2>/dev/null || true
TERN_PID=

section "Storage engine benchmarks"
run go test -run XXX -bench . -benchtime "$BENCHTIME" ./internal/storage/
