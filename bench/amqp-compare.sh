#!/usr/bin/env bash
# AMQP 0-9-1: Tern vs RabbitMQ on this machine, as docs/benchmarks.md
# ("AMQP: Tern vs RabbitMQ") reports it. Installs RabbitMQ from Debian when
# missing, starts it as a plain background process (no systemd) on
# 127.0.0.1, starts Tern with --fsync always, and runs the same ternbench
# scenarios against both, alternating broker per run:
#
#   queue  16 B   (2 publishers, 2 consumers, confirms, persistent, durable queue)
#   queue  1 KiB
#   fanout 1 KiB  (1 publisher → fanout exchange → 10 durable queues, 10 consumers)
#
# first unpaced (publishers as fast as confirms allow: throughput), then
# with publishers paced (ternbench -rate: latency at a fixed load), both
# brokers at SAME_LOAD × RabbitMQ's median unpaced publish rate and Tern
# alone at 2× it. The broker not under test is paused (SIGSTOP) during
# each run. Then it prints medians per broker, phase and scenario and the
# Tern/RabbitMQ verdicts.
# Every command is printed before it runs. Both brokers are stopped at exit.
#
#   bench/amqp-compare.sh
#   RUNS=5 DURATION=15s bench/amqp-compare.sh
#   BENCH_DIR=/mnt/nvme/tmp bench/amqp-compare.sh   # disk under test
#
# Needs: go, jq; apt-get (root) if rabbitmq-server is not installed. If
# RabbitMQ cannot be installed or started, it says so and measures Tern only.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
DURATION=${DURATION:-6s}      # publish phase per run; consumers then drain the backlog
RECORDS=${RECORDS:-5000000}   # upper bound; DURATION normally ends the run first
PUBLISHERS=${PUBLISHERS:-2}
CONSUMERS=${CONSUMERS:-2}
INFLIGHT=${INFLIGHT:-256}
PREFETCH=${PREFETCH:-100}
ACK_EVERY=${ACK_EVERY:-1}
SAME_LOAD=${SAME_LOAD:-0.8}   # equal-load latency runs: this fraction of RabbitMQ's unpaced rate
LATENCY_DURATION=${LATENCY_DURATION:-10s}
RABBIT_PORT=${RABBIT_PORT:-5673}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}

WORK=$(mktemp -d "$BENCH_DIR/amqp-compare.XXXXXX")
TERN_PID=
RABBIT_PID=
EPMD_BEFORE=$(pgrep -x epmd || true)
RABBIT_OK=
export HOME_RABBIT="$WORK/rabbit"

# rabbit_env runs a command with the environment of our private RabbitMQ node.
rabbit_env() {
  env HOME="$HOME_RABBIT" \
    RABBITMQ_NODENAME=bench@localhost \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$RABBIT_PORT" \
    RABBITMQ_DIST_PORT=$((RABBIT_PORT + 20000)) \
    RABBITMQ_MNESIA_BASE="$HOME_RABBIT/mnesia" \
    RABBITMQ_LOG_BASE="$HOME_RABBIT/log" \
    RABBITMQ_CONFIG_FILE="$HOME_RABBIT/rabbitmq" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$HOME_RABBIT/enabled_plugins" \
    RABBITMQ_PID_FILE="$HOME_RABBIT/rabbit.pid" \
    "$@"
}

cleanup() {
  # A broker may still be paused if a run was interrupted.
  [ -n "$TERN_PID" ] && kill -CONT "$TERN_PID" 2>/dev/null
  [ -n "$RABBIT_PID" ] && for p in $(pgrep -x beam.smp || true); do kill -CONT "$p" 2>/dev/null; done
  if [ -n "$TERN_PID" ] && kill -0 "$TERN_PID" 2>/dev/null; then
    kill "$TERN_PID" && wait "$TERN_PID" 2>/dev/null || true
  fi
  if [ -n "$RABBIT_PID" ] && kill -0 "$RABBIT_PID" 2>/dev/null; then
    rabbit_env rabbitmqctl stop >/dev/null 2>&1 || kill "$RABBIT_PID" 2>/dev/null || true
    wait "$RABBIT_PID" 2>/dev/null || true
  fi
  # RabbitMQ starts epmd as a daemon; stop it only if it was not running before.
  local e
  if [ -z "$EPMD_BEFORE" ]; then
    sleep 1
    for e in $(pgrep -x epmd || true); do kill "$e" 2>/dev/null || true; done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

. scripts/bench-lib.sh

# wait_port HOST PORT SECONDS: wait until a TCP port accepts connections.
wait_port() {
  local deadline=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$deadline" ]; do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}

machine_facts
build_binaries

section "RabbitMQ"
if ! command -v rabbitmq-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    printf '\n$ apt-get update && apt-get install -y rabbitmq-server\n'
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server; } \
      >"$WORK/apt.log" 2>&1 || { tail -20 "$WORK/apt.log"; echo "RabbitMQ install FAILED"; }
  else
    echo "rabbitmq-server is not installed and apt-get (as root) is not available"
  fi
fi
# The Debian /usr/sbin/rabbitmq-server wrapper switches to the rabbitmq
# user; the scripts in /usr/lib/rabbitmq/bin run as whoever calls them.
RMQ_BIN=/usr/lib/rabbitmq/bin
[ -x "$RMQ_BIN/rabbitmq-server" ] || RMQ_BIN=$(dirname "$(command -v rabbitmq-server 2>/dev/null || echo /nonexistent/x)")
if [ -x "$RMQ_BIN/rabbitmq-server" ]; then
  export PATH="$RMQ_BIN:$PATH"
  mkdir -p "$HOME_RABBIT/mnesia" "$HOME_RABBIT/log"
  echo "[]." >"$HOME_RABBIT/enabled_plugins"
  # Defaults throughout (classic queues, default fsync behaviour); only the
  # listener is pinned to loopback, where guest/guest is allowed.
  printf 'loopback_users.guest = true\nlisteners.tcp.default = 127.0.0.1:%s\n' "$RABBIT_PORT" >"$HOME_RABBIT/rabbitmq.conf"
  printf '\n$ RABBITMQ_NODE_PORT=%s RABBITMQ_NODENAME=bench@localhost RABBITMQ_MNESIA_BASE=%s HOME=%s rabbitmq-server &\n' \
    "$RABBIT_PORT" "$HOME_RABBIT/mnesia" "$HOME_RABBIT"
  rabbit_env rabbitmq-server >"$WORK/rabbit.out" 2>&1 &
  RABBIT_PID=$!
  if wait_port 127.0.0.1 "$RABBIT_PORT" 90 && run rabbit_env rabbitmqctl await_startup --timeout 60 >/dev/null; then
    RABBIT_OK=1
    RABBIT_VERSION=$(rabbit_env rabbitmqctl version 2>/dev/null || echo unknown)
    echo "RabbitMQ $RABBIT_VERSION running (pid $RABBIT_PID) on 127.0.0.1:$RABBIT_PORT"
    run rabbit_env rabbitmqctl status | grep -Ei 'RabbitMQ version|Erlang|Data directory' || true
  else
    tail -30 "$WORK/rabbit.out" || true
    echo "RabbitMQ did NOT start; measuring Tern only"
  fi
else
  echo "RabbitMQ is NOT available here; measuring Tern only"
fi

section "Tern (--fsync always)"
start_tern --kafka.listen 127.0.0.1:0 --amqp.listen 127.0.0.1:0 --fsync always
echo "tern pid $TERN_PID, AMQP on $TERN_AMQP"

declare -A URL=([tern]="amqp://guest:guest@$TERN_AMQP/")
BROKERS=(tern)
if [ -n "$RABBIT_OK" ]; then
  URL[rabbitmq]="amqp://guest:guest@127.0.0.1:$RABBIT_PORT/"
  BROKERS=(tern rabbitmq)
fi

# broker_pid NAME: the process whose CPU we charge to the broker (for
# RabbitMQ the Erlang VM, beam.smp, a child of the start script).
broker_pid() {
  if [ "$1" = tern ]; then echo "$TERN_PID"; return; fi
  local p
  # The node name is not on beam's command line; our node's HOME is.
  for p in $(pgrep -x beam.smp || true); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "HOME=$HOME_RABBIT"; then echo "$p"; return; fi
  done
  echo 0
}
TICK=$(getconf CLK_TCK)

# run_one BROKER SCENARIO SIZE PHASE [ternbench flags...]: one ternbench
# run, its JSON line tagged with the broker, the phase and the broker's
# CPU seconds, appended to results.jsonl.
# The broker not under test is paused (SIGSTOP) during each run and
# resumed after: an idle Erlang VM keeps its schedulers spinning for a
# while after work, and either broker may tidy up after the previous run,
# which on two vCPUs would be charged to the other broker's latency.
other_pid() {
  local o
  for o in "${BROKERS[@]}"; do
    if [ "$o" != "$1" ]; then broker_pid "$o"; return; fi
  done
  echo 0
}

run_one() {
  local b=$1 scen=$2 size=$3 phase=$4
  shift 4
  local pid before after paused
  pid=$(broker_pid "$b")
  paused=$(other_pid "$b")
  if [ "$paused" != 0 ]; then kill -STOP "$paused" 2>/dev/null || paused=0; fi
  sleep 1 # let the last run's leftovers settle
  before=$(cpu_ticks "$pid")
  printf '\n$ ternbench -amqp-url %s -size %s %s %s -label %s %s\n' "${URL[$b]}" "$size" "${COMMON[*]}" "$*" "$b/$phase" "$scen"
  if "$WORK/ternbench" -amqp-url "${URL[$b]}" -size "$size" "${COMMON[@]}" "$@" -label "$b/$phase" "$scen" \
    >"$WORK/run.json" 2>"$WORK/run.err"; then
    after=$(cpu_ticks "$pid")
    jq -c --arg b "$b" --arg phase "$phase" --argjson cpu "$(awk -v t="$((after - before))" -v hz="$TICK" 'BEGIN{printf "%.2f", t/hz}')" \
      '. + {system: $b, phase: $phase, broker_cpu_s: $cpu}' "$WORK/run.json" | tee -a "$WORK/results.jsonl"
  else
    echo "FAILED ($b $scen $size $phase):"; tail -5 "$WORK/run.err"
  fi
  if [ "$paused" != 0 ]; then kill -CONT "$paused" 2>/dev/null || true; fi
}

# "scenario size [x-queue-type]": RabbitMQ's quorum queues (replicated
# through Raft, fsync before confirm) are its other durable queue type;
# Tern accepts the argument and runs its one queue type.
SHAPES=("queue 16" "queue 1024" "queue 1024 quorum" "fanout 1024")
section "Throughput runs (RUNS=$RUNS, alternating brokers; DURATION=$DURATION per run)"
: >"$WORK/results.jsonl"
COMMON=(-duration "$DURATION" -records "$RECORDS" -publishers "$PUBLISHERS" -consumers "$CONSUMERS"
  -inflight "$INFLIGHT" -prefetch "$PREFETCH" -ack-every "$ACK_EVERY" -log-level warn -timeout 3m)
for i in $(seq "$RUNS"); do
  for shape in "${SHAPES[@]}"; do
    read -r scen size qtype <<<"$shape"
    # Alternate which broker goes first, so neither always runs second.
    order=("${BROKERS[@]}")
    if [ $((i % 2)) = 0 ] && [ "${#BROKERS[@]}" = 2 ]; then order=(rabbitmq tern); fi
    for b in "${order[@]}"; do run_one "$b" "$scen" "$size" max ${qtype:+-queue-type "$qtype"}; done
  done
done

# Latency at a fixed offered load. Unpaced, publishers run as fast as
# confirms allow: a broker that accepts publishes faster than the
# consumer clients take deliveries builds a backlog and its end-to-end
# latency only says how fast that grows. So latency is also measured with
# the publishers paced (-rate), open loop:
#   same:   both brokers at SAME_LOAD (default 80 %) of RabbitMQ's median
#           unpaced publish rate: latency at equal load;
#   rate2x: Tern at twice RabbitMQ's median unpaced publish rate (the
#           throughput target), to compare with RabbitMQ's latency at its
#           own maximum.
# LATENCY_DURATION (default 10s) is each paced run's publish phase.
if [ -n "$RABBIT_OK" ]; then
  COMMON=(-duration "$LATENCY_DURATION" -records "$RECORDS" -publishers "$PUBLISHERS" -consumers "$CONSUMERS"
    -inflight "$INFLIGHT" -prefetch "$PREFETCH" -ack-every "$ACK_EVERY" -log-level warn -timeout 3m)
  rabbit_rate() {
    jq -s -r --arg s "$1" --argjson z "$2" --argjson f "$3" --arg q "$4" '
      [.[] | select(.system == "rabbitmq" and .phase == "max" and .scenario == $s and .size == $z and (.queue_type // "") == $q) | .produce_msgs_s] | sort |
      if length == 0 then 0 else .[length/2|floor] * $f | floor end' "$WORK/results.jsonl"
  }
  section "Latency runs: both brokers paced at $SAME_LOAD x RabbitMQ's median publish rate, then Tern at 2x"
  for i in $(seq "$RUNS"); do
    for shape in "${SHAPES[@]}"; do
      read -r scen size qtype <<<"$shape"
      rate=$(rabbit_rate "$scen" "$size" "$SAME_LOAD" "$qtype")
      if [ "$rate" = 0 ]; then echo "no RabbitMQ result for $shape; skipped"; continue; fi
      order=("${BROKERS[@]}")
      if [ $((i % 2)) = 0 ]; then order=(rabbitmq tern); fi
      for b in "${order[@]}"; do run_one "$b" "$scen" "$size" same -rate "$rate" ${qtype:+-queue-type "$qtype"}; done
      run_one tern "$scen" "$size" rate2x -rate "$(rabbit_rate "$scen" "$size" 2 "$qtype")" ${qtype:+-queue-type "$qtype"}
    done
  done
fi
run uptime

section "Medians over $RUNS runs"
jq -s -r '
  def median: sort | if length % 2 == 1 then .[length/2|floor] else (.[length/2-1] + .[length/2]) / 2 end;
  def r1: (. * 10 | round) / 10;
  group_by([.scenario, .size, (.queue_type // ""), .system, .phase]) | sort_by([.[0].scenario, .[0].size, (.[0].queue_type // ""), .[0].phase, .[0].system])[] |
  "\(.[0].system)\t\(.[0].phase)\t\(.[0].scenario)\(if .[0].queue_type then "/" + .[0].queue_type else "" end)\t\(.[0].size)\truns=\(length)\t" +
  "publish \(map(.produce_msgs_s)|median|floor) msg/s (runs \(map(.produce_msgs_s|floor)|join(", ")))\t" +
  "deliver \(map(.consume_msgs_s)|median|floor) msg/s\t" +
  "e2e p50 \(map(.e2e_p50_ms)|median) ms p99 \(map(.e2e_p99_ms)|median) ms\t" +
  "confirm p50 \(map(.p50_ms)|median) ms p99 \(map(.p99_ms)|median) ms\t" +
  "broker cpu \(map(.broker_cpu_s)|median|r1) s"
' "$WORK/results.jsonl" | column -t -s $'\t'

if [ -n "$RABBIT_OK" ]; then
  section "Tern / RabbitMQ (medians)"
  jq -s -r '
    def median: sort | if length % 2 == 1 then .[length/2|floor] else (.[length/2-1] + .[length/2]) / 2 end;
    def r2: (. * 100 | round) / 100;
    def p99(sys; ph): map(select(.system == sys and .phase == ph) | .e2e_p99_ms) | if length > 0 then median else null end;
    group_by([.scenario, .size, (.queue_type // "")])[] |
    (map(select(.system == "tern" and .phase == "max"))) as $t | (map(select(.system == "rabbitmq" and .phase == "max"))) as $r |
    select(($t|length) > 0 and ($r|length) > 0) |
    ($t|map(.produce_msgs_s)|median) as $tp | ($r|map(.produce_msgs_s)|median) as $rp |
    ($t|map(.consume_msgs_s)|median) as $tc | ($r|map(.consume_msgs_s)|median) as $rc |
    p99("rabbitmq"; "max") as $rl | p99("tern"; "same") as $ts | p99("rabbitmq"; "same") as $rs | p99("tern"; "rate2x") as $t2 |
    "\(.[0].scenario)\(if .[0].queue_type then "/" + .[0].queue_type else "" end) \(.[0].size) B: throughput (unpaced) publish \($tp/$rp|r2)x, deliver \($tc/$rc|r2)x" +
    " [\(if ($tp/$rp) >= 2 and ($tc/$rc) >= 2 then "met" else "NOT met" end)]; " +
    "e2e p99 at equal load: Tern \($ts) vs RabbitMQ \($rs) ms [\(if $ts != null and $rs != null and $ts <= $rs then "met" else "NOT met" end)]; " +
    "Tern at 2x RabbitMQ'"'"'s rate \($t2) ms vs RabbitMQ unpaced \($rl) ms [\(if $t2 != null and $t2 <= $rl then "met" else "NOT met" end)]"
  ' "$WORK/results.jsonl"
  echo
  echo "RabbitMQ $RABBIT_VERSION, classic queues (the default queue type), persistent messages, publisher confirms."
fi
