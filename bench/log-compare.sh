#!/usr/bin/env bash
# The log workload: Tern (Kafka protocol, --fsync always) vs NATS
# JetStream (its own protocol and Go client, default configuration) on
# this machine, same run. Installs nats-server from Debian when missing,
# starts it with JetStream (file store in a scratch directory), starts
# Tern, and runs RUNS times, alternating which goes first, with the other
# paused (SIGSTOP):
#
#   ternbench -brokers TERN  -partitions P -size 1024 ... log     (P = 1 and 6)
#   ternbench -nats-url NATS -size 1024 ... jslog                  (one stream)
#
# then prints medians and the Tern / JetStream ratios. JetStream does not
# fsync before acknowledging in its default configuration (it syncs every
# 2 minutes); Tern does, with --fsync always.
#
#   bench/log-compare.sh
#   RUNS=5 RECORDS=3000000 bench/log-compare.sh
#
# Needs: go, jq; apt-get (root) if nats-server is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
RECORDS=${RECORDS:-2000000}
DURATION=${DURATION:-20s}
SIZE=${SIZE:-1024}
PRODUCERS=${PRODUCERS:-4}
CONSUMERS=${CONSUMERS:-2}
NATS_PORT=${NATS_PORT:-4223}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}

WORK=$(mktemp -d "$BENCH_DIR/log-compare.XXXXXX")
TERN_PID=
NATS_PID=
cleanup() {
  local p
  for p in "$TERN_PID" "$NATS_PID"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
      kill -CONT "$p" 2>/dev/null || true
      kill "$p" && wait "$p" 2>/dev/null || true
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

. scripts/bench-lib.sh
machine_facts
build_binaries

section "NATS JetStream"
NATS_BIN=$(command -v nats-server || echo /usr/sbin/nats-server)
if [ ! -x "$NATS_BIN" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  printf '\n$ apt-get update && apt-get install -y nats-server\n'
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server; } >"$WORK/apt.log" 2>&1 ||
    { tail -20 "$WORK/apt.log"; echo "nats-server install FAILED"; exit 1; }
  NATS_BIN=$(command -v nats-server || echo /usr/sbin/nats-server)
fi
[ -x "$NATS_BIN" ] || { echo "nats-server is not installed and cannot be installed here" >&2; exit 1; }
run "$NATS_BIN" --version
mkdir -p "$WORK/nats"
printf '\n$ %s\n' "nats-server -js -sd $WORK/nats -a 127.0.0.1 -p $NATS_PORT &"
"$NATS_BIN" -js -sd "$WORK/nats" -a 127.0.0.1 -p "$NATS_PORT" >"$WORK/nats.log" 2>&1 &
NATS_PID=$!

section "Tern (--fsync always)"
start_tern --kafka.listen 127.0.0.1:0 --amqp.listen "" --fsync always
TERN_ADDR=$TERN_KAFKA
echo "tern pid $TERN_PID on $TERN_ADDR; nats-server pid $NATS_PID on 127.0.0.1:$NATS_PORT"
sleep 1

TICK=$(getconf CLK_TCK)
COMMON=(-size "$SIZE" -records "$RECORDS" -duration "$DURATION" -producers "$PRODUCERS" -consumers "$CONSUMERS" -log-level warn -timeout 5m)

# one SYSTEM LABEL [ternbench flags...] SCENARIO: one run, the other
# server paused.
one() {
  local sys=$1 label=$2 pid other before after
  shift 2
  if [ "$sys" = tern ]; then pid=$TERN_PID other=$NATS_PID; else pid=$NATS_PID other=$TERN_PID; fi
  kill -STOP "$other"
  sleep 1
  before=$(cpu_ticks "$pid")
  printf '\n$ ternbench %s -label %s %s\n' "${COMMON[*]}" "$label" "$*"
  if "$WORK/ternbench" "${COMMON[@]}" -label "$label" "$@" >"$WORK/run.json" 2>"$WORK/run.err"; then
    after=$(cpu_ticks "$pid")
    jq -c --arg s "$sys" --argjson cpu "$(awk -v t="$((after - before))" -v hz="$TICK" 'BEGIN{printf "%.2f", t/hz}')" \
      '. + {system: $s, server_cpu_s: $cpu}' "$WORK/run.json" | tee -a "$WORK/results.jsonl"
  else
    echo "FAILED ($label):"; tail -5 "$WORK/run.err"
  fi
  kill -CONT "$other"
}

section "Runs (RUNS=$RUNS)"
: >"$WORK/results.jsonl"
for i in $(seq "$RUNS"); do
  tern_runs() {
    one tern "tern-p6/run$i" -brokers "$TERN_ADDR" -partitions 6 log
    one tern "tern-p1/run$i" -brokers "$TERN_ADDR" -partitions 1 log
  }
  if [ $((i % 2)) = 1 ]; then
    tern_runs
    one nats "jetstream/run$i" -nats-url "nats://127.0.0.1:$NATS_PORT" jslog
  else
    one nats "jetstream/run$i" -nats-url "nats://127.0.0.1:$NATS_PORT" jslog
    tern_runs
  fi
done
run uptime

section "Medians over $RUNS runs"
jq -s -r '
  def median: sort | if length % 2 == 1 then .[length/2|floor] else (.[length/2-1] + .[length/2]) / 2 end;
  def key: (.label | split("/")[0]);
  group_by(key)[] |
  "\(.[0]|key)\tproduce \(map(.produce_mb_s)|median) MB/s (runs \(map(.produce_mb_s)|join(", ")))\t" +
  "p50 \(map(.p50_ms)|median) ms p99 \(map(.p99_ms)|median) ms\tconsume \(map(.consume_mb_s)|median) MB/s\t" +
  "server cpu \(map(.server_cpu_s)|median) s"
' "$WORK/results.jsonl" | column -t -s $'\t'

section "Tern / JetStream (medians)"
jq -s -r '
  def median: sort | if length % 2 == 1 then .[length/2|floor] else (.[length/2-1] + .[length/2]) / 2 end;
  def med(l; f): map(select(.label | startswith(l + "/")) | f) | if length > 0 then median else null end;
  med("jetstream"; .produce_mb_s) as $jp | med("jetstream"; .consume_mb_s) as $jc |
  ["tern-p6", "tern-p1"][] as $t | med($t; .produce_mb_s) as $tp | med($t; .consume_mb_s) as $tc |
  select($tp != null and $jp != null) |
  "\($t): produce \($tp) vs \($jp) MB/s = \($tp/$jp*100|round/100)x [target >= 1.5x: \(if $tp/$jp >= 1.5 then "met" else "NOT met" end)]; " +
  "consume \($tc) vs \($jc) MB/s; Tern consume/produce \($tc/$tp*100|round/100)x"
' "$WORK/results.jsonl"
echo
echo "NATS JetStream $("$NATS_BIN" --version 2>&1 | tail -1), default stream config (file storage, no fsync before ack); Tern --fsync always."
