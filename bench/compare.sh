#!/usr/bin/env bash
# Tern vs RabbitMQ vs NATS JetStream on this machine, in one run, as
# docs/benchmarks.md ("Side by side") reports it. Installs the peers from
# Debian's archive when missing (rabbitmq-server, nats-server, fio),
# starts each as a plain background process on 127.0.0.1 with its
# defaults, starts Tern with --fsync always, and runs every scenario
# against each system that speaks it, RUNS times (the backlog once),
# alternating which system goes first in the log and amqp parts. The
# systems not under test are paused (SIGSTOP) during each run, and all of
# them while the disk is measured, so an idle peer's housekeeping is not
# charged to another one's figures.
#
# Parts (PARTS selects, default all, in this order):
#   disk     the disk's fsync'd sequential write rate (dd, fio)
#   log      ternbench log (Tern, Kafka protocol, 6 and 1 partitions) vs
#            ternbench jslog (NATS JetStream through its own Go client)
#   amqp     ternbench queue 16 B / 1 KiB and fanout 1 KiB: Tern vs
#            RabbitMQ classic queues, and the 1 KiB queue vs quorum queues
#   latency  ternbench latency (1 KiB queue): RabbitMQ (classic, quorum)
#            and Tern at 10/50/90 % of their own peaks, and Tern at the
#            same absolute rates as RabbitMQ
#   backlog  ternbench backlog: BACKLOG_RECORDS (10 M) × 1 KiB into one
#            Tern queue with no consumer, then drained, broker RSS sampled;
#            the same shallow (BACKLOG_REF_RECORDS) as the drain reference;
#            RabbitMQ with RABBIT_BACKLOG_RECORDS for comparison
#
# Every command is printed before it runs. The JSON lines go to
# bench/results/compare.jsonl; `ternbench report` then rewrites the part of
# docs/benchmarks.md between its markers and the charts in docs/img/.
#
#   bench/compare.sh                                   # about 20 minutes on 2 vCPUs
#   RUNS=1 BACKLOG_RECORDS=1000000 bench/compare.sh    # a quick look
#   PARTS="log" WRITE_DOCS=0 bench/compare.sh          # one part, docs untouched
#   BENCH_DIR=/mnt/nvme/tmp bench/compare.sh           # disk under test
#
# Needs: go, jq; apt-get (root) for whatever peer is missing. A peer that
# cannot be installed or started is reported and left out.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
PARTS=${PARTS:-disk log amqp latency backlog}
LOG_RECORDS=${LOG_RECORDS:-2000000}
LOG_DURATION=${LOG_DURATION:-20s}
AMQP_DURATION=${AMQP_DURATION:-6s}
LATENCY_DURATION=${LATENCY_DURATION:-5s}
BACKLOG_RECORDS=${BACKLOG_RECORDS:-10000000}
BACKLOG_REF_RECORDS=${BACKLOG_REF_RECORDS:-200000}
RABBIT_BACKLOG_RECORDS=${RABBIT_BACKLOG_RECORDS:-1000000}
RABBIT_PORT=${RABBIT_PORT:-5673}
NATS_PORT=${NATS_PORT:-4223}
WRITE_DOCS=${WRITE_DOCS:-1}
RESULTS=${RESULTS:-bench/results/compare.jsonl}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}

WORK=$(mktemp -d "$BENCH_DIR/compare.XXXXXX")
TERN_PID=
RABBIT_PID=
NATS_PID=
EPMD_BEFORE=$(pgrep -x epmd || true)
HOME_RABBIT="$WORK/rabbit"
declare -A PID=()

want() { [[ " $PARTS " == *" $1 "* ]]; }

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
  local p
  for p in "${PID[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
  if [ -n "$TERN_PID" ] && kill -0 "$TERN_PID" 2>/dev/null; then
    kill "$TERN_PID" && wait "$TERN_PID" 2>/dev/null || true
  fi
  if [ -n "$NATS_PID" ] && kill -0 "$NATS_PID" 2>/dev/null; then
    kill "$NATS_PID" && wait "$NATS_PID" 2>/dev/null || true
  fi
  if [ -n "$RABBIT_PID" ] && kill -0 "$RABBIT_PID" 2>/dev/null; then
    rabbit_env rabbitmqctl stop >/dev/null 2>&1 || kill "$RABBIT_PID" 2>/dev/null || true
    wait "$RABBIT_PID" 2>/dev/null || true
  fi
  # RabbitMQ starts epmd as a daemon; stop it only if it was not running before.
  if [ -n "$RABBIT_PID" ] && [ -z "$EPMD_BEFORE" ]; then
    sleep 1
    for p in $(pgrep -x epmd || true); do kill "$p" 2>/dev/null || true; done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

. scripts/bench-lib.sh

# apt_install PACKAGE: installs a Debian package when apt-get (as root) can.
apt_install() {
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    printf '\n$ apt-get update && apt-get install -y %s\n' "$1"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1"; } >"$WORK/apt.log" 2>&1 ||
      { tail -20 "$WORK/apt.log"; echo "$1: install FAILED"; return 1; }
  else
    echo "$1 is not installed and apt-get (as root) is not available"; return 1
  fi
}

# wait_port HOST PORT SECONDS: wait until a TCP port accepts connections.
wait_port() {
  local deadline=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$deadline" ]; do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}

# emit KEY=VALUE...: appends one JSON line to the results (numbers as
# numbers, the rest as strings).
emit() {
  local args=() kv
  for kv in "$@"; do args+=(--arg "${kv%%=*}" "${kv#*=}"); done
  jq -cn "${args[@]}" '$ARGS.named | with_entries(.value = (.value as $v | try ($v | tonumber) catch $v))' | tee -a "$RESULTS.tmp"
}

# dd_mbs FILE: the rate of dd's summary line in FILE, in MB/s.
dd_mbs() {
  awk '/copied/ { u = $NF; v = $(NF-1); print (u == "GB/s" ? v * 1000 : u == "kB/s" ? v / 1000 : v) }' "$1"
}

machine_facts
build_binaries
mkdir -p "$(dirname "$RESULTS")"
: >"$RESULTS.tmp"

start_rabbit() {
  section "RabbitMQ"
  command -v rabbitmq-server >/dev/null 2>&1 || apt_install rabbitmq-server || return 0
  # The Debian /usr/sbin/rabbitmq-server wrapper switches to the rabbitmq
  # user; the scripts in /usr/lib/rabbitmq/bin run as whoever calls them.
  local bin=/usr/lib/rabbitmq/bin
  [ -x "$bin/rabbitmq-server" ] || bin=$(dirname "$(command -v rabbitmq-server)")
  export PATH="$bin:$PATH"
  mkdir -p "$HOME_RABBIT/mnesia" "$HOME_RABBIT/log"
  echo "[]." >"$HOME_RABBIT/enabled_plugins"
  # Defaults throughout (classic queues, its own fsync policy); only the
  # listener is pinned to loopback, where guest/guest is allowed.
  printf 'loopback_users.guest = true\nlisteners.tcp.default = 127.0.0.1:%s\n' "$RABBIT_PORT" >"$HOME_RABBIT/rabbitmq.conf"
  printf '\n$ RABBITMQ_NODE_PORT=%s RABBITMQ_NODENAME=bench@localhost RABBITMQ_MNESIA_BASE=%s HOME=%s rabbitmq-server &\n' \
    "$RABBIT_PORT" "$HOME_RABBIT/mnesia" "$HOME_RABBIT"
  rabbit_env rabbitmq-server >"$WORK/rabbit.out" 2>&1 &
  RABBIT_PID=$!
  if ! wait_port 127.0.0.1 "$RABBIT_PORT" 90 || ! run rabbit_env rabbitmqctl await_startup --timeout 60 >/dev/null; then
    tail -30 "$WORK/rabbit.out" || true
    echo "RabbitMQ did NOT start; left out"
    return 0
  fi
  local p
  # The node name is not on beam's command line; our node's HOME is.
  for p in $(pgrep -x beam.smp || true); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "HOME=$HOME_RABBIT"; then PID[rabbitmq]=$p; fi
  done
  [ -n "${PID[rabbitmq]:-}" ] || { echo "RabbitMQ's beam.smp not found; left out"; return 0; }
  local v erl
  v=$(rabbit_env rabbitmqctl version 2>/dev/null || echo unknown)
  erl=$(rabbit_env rabbitmqctl status 2>/dev/null | sed -n 's/^Erlang configuration: //p' | head -1 || true)
  echo "RabbitMQ $v ($erl) running, beam.smp pid ${PID[rabbitmq]}, on 127.0.0.1:$RABBIT_PORT"
  emit scenario=env system=rabbitmq version="RabbitMQ $v" detail="Debian package, defaults (classic queues unless x-queue-type), $erl"
}

start_nats() {
  section "NATS JetStream"
  local bin
  bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  if [ ! -x "$bin" ]; then
    apt_install nats-server || return 0
    bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  fi
  run "$bin" --version
  mkdir -p "$WORK/nats"
  printf '\n$ %s\n' "nats-server -js -sd $WORK/nats -a 127.0.0.1 -p $NATS_PORT &"
  "$bin" -js -sd "$WORK/nats" -a 127.0.0.1 -p "$NATS_PORT" >"$WORK/nats.log" 2>&1 &
  NATS_PID=$!
  wait_port 127.0.0.1 "$NATS_PORT" 30 || { tail -20 "$WORK/nats.log"; echo "nats-server did NOT start; left out"; return 0; }
  PID[nats]=$NATS_PID
  emit scenario=env system=nats version="$("$bin" --version 2>&1 | tail -1)" \
    detail="Debian package, JetStream defaults: file storage, no fsync before ack (syncs every 2 min)"
}

if want amqp || want latency || want backlog; then start_rabbit; fi
if want log; then start_nats; fi

section "Tern (--fsync always)"
start_tern --kafka.listen 127.0.0.1:0 --amqp.listen 127.0.0.1:0 --fsync always
PID[tern]=$TERN_PID
echo "tern pid $TERN_PID, Kafka on $TERN_KAFKA, AMQP on $TERN_AMQP"
emit scenario=env system=tern version="tern $(git describe --always --dirty)" detail="--fsync always (fsync before every acknowledgement, group commit)" \
  machine="$(nproc) vCPUs $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/Mem:/{print $2}') GiB RAM, kernel $(uname -r), $(go version | cut -d' ' -f3)" \
  disk="$(df -hT "$WORK" | awk 'NR==2{print $1", "$2", "$3" total, "$5" free"}')" \
  date="$(date -u +%Y-%m-%dT%H:%MZ)" load_before="$(cut -d' ' -f1-3 /proc/loadavg)" commands="RUNS=$RUNS PARTS='$PARTS' bench/compare.sh"

declare -A URL=([tern]="amqp://guest:guest@$TERN_AMQP/" [rabbitmq]="amqp://guest:guest@127.0.0.1:$RABBIT_PORT/")
TICK=$(getconf CLK_TCK)

# measure SYSTEM PHASE VARIANT [ternbench flags and scenario...]: one
# ternbench run with the other systems paused and the system's RSS
# sampled; its JSON line, tagged with system, phase, variant and the
# broker's CPU seconds, is appended to the results.
measure() {
  local sys=$1 phase=$2 variant=$3 pid=${PID[$1]} before after
  shift 3
  pause_all "$sys"
  sleep 1 # let the last run's leftovers settle
  before=$(cpu_ticks "$pid")
  printf '\n$ ternbench %s\n' "$*"
  if "$WORK/ternbench" -log-level warn -broker-pid "$pid" "$@" >"$WORK/run.json" 2>"$WORK/run.err"; then
    after=$(cpu_ticks "$pid")
    jq -c --arg s "$sys" --arg ph "$phase" --arg v "$variant" \
      --argjson cpu "$(awk -v t="$((after - before))" -v hz="$TICK" 'BEGIN{printf "%.2f", t/hz}')" \
      '. + {system: $s, phase: $ph, variant: $v, broker_cpu_s: $cpu}' "$WORK/run.json" >>"$RESULTS.tmp"
    jq -r '"  → \(.system)/\(.variant) \(.scenario): publish/produce \(.produce_msgs_s|floor) msg/s \(.produce_mb_s) MB/s, deliver/consume \(.consume_msgs_s|floor) msg/s, e2e p99 \(.e2e_p99_ms // "-") ms, rss max \(.rss_max_mb) MiB"' <(tail -1 "$RESULTS.tmp")
  else
    echo "FAILED ($sys $phase $variant):"; tail -5 "$WORK/run.err"
  fi
  resume_all
}

# pause_all [SYSTEM]: stops every system but SYSTEM; resume_all lets them
# all go on. A system that has died is left out, not fatal.
pause_all() {
  local p
  for p in "${!PID[@]}"; do [ "$p" = "${1:-}" ] || kill -STOP "${PID[$p]}" 2>/dev/null || echo "($p is gone)"; done
}
resume_all() {
  local p
  for p in "${!PID[@]}"; do kill -CONT "${PID[$p]}" 2>/dev/null || true; done
}

# order A B: prints "A B" on odd runs and "B A" on even ones, so neither
# system always runs first.
order() { if [ $((i % 2)) = 1 ]; then echo "$1 $2"; else echo "$2 $1"; fi; }
has() { [ -n "${PID[$1]:-}" ]; }

if want disk; then
  section "Disk: fsync'd sequential writes in $WORK (every broker paused)"
  command -v fio >/dev/null || apt_install fio || true
  pause_all
  for i in $(seq "$RUNS"); do
    # A failed tool (O_DIRECT on tmpfs, say) reports no rate, which the
    # report leaves out; it does not end the run.
    run dd if=/dev/zero of="$WORK/ddtest" bs=1M count=1024 oflag=direct conv=fdatasync 2>"$WORK/dd.err" || true
    cat "$WORK/dd.err"
    mbs=$(dd_mbs "$WORK/dd.err")
    emit scenario=disk method="dd bs=1M count=1024 oflag=direct conv=fdatasync (one flush at the end)" mb_s="${mbs:-0}"
    run dd if=/dev/zero of="$WORK/ddtest" bs=1M count=512 oflag=dsync 2>"$WORK/dd.err" || true
    cat "$WORK/dd.err"
    mbs=$(dd_mbs "$WORK/dd.err")
    emit scenario=disk method="dd bs=1M count=512 oflag=dsync (each 1 MiB write synced)" mb_s="${mbs:-0}"
    rm -f "$WORK/ddtest"
    if command -v fio >/dev/null; then
      mbs=0
      if run fio --name=seqwrite-fsync --filename="$WORK/fiotest" --rw=write --bs=1M --size=1G \
        --ioengine=sync --fsync=1 --end_fsync=1 --output-format=json --output="$WORK/fio.json"; then
        mbs=$(jq '.jobs[0].write.bw_bytes/1e6|floor' "$WORK/fio.json" || echo 0)
      fi
      emit scenario=disk method="fio --rw=write --bs=1M --fsync=1 (fsync after each 1 MiB write)" mb_s="$mbs"
      rm -f "$WORK/fiotest"
    fi
  done
  resume_all
fi

if want log; then
  section "log: Tern (Kafka) vs NATS JetStream (RUNS=$RUNS)"
  LOG=(-size 1024 -records "$LOG_RECORDS" -duration "$LOG_DURATION" -producers 4 -consumers 2 -timeout 5m)
  for i in $(seq "$RUNS"); do
    for s in $(order tern nats); do
      case $s in
      tern)
        measure tern max p6 "${LOG[@]}" -brokers "$TERN_KAFKA" -partitions 6 log
        measure tern max p1 "${LOG[@]}" -brokers "$TERN_KAFKA" -partitions 1 log
        ;;
      nats) if has nats; then measure nats max stream "${LOG[@]}" -nats-url "nats://127.0.0.1:$NATS_PORT" jslog; fi ;;
      esac
    done
  done
fi

AMQP=(-publishers 2 -consumers 2 -inflight 256 -prefetch 100 -ack-every 1 -records 50000000 -timeout 10m)
if want amqp; then
  section "amqp: Tern vs RabbitMQ, unpaced (RUNS=$RUNS, AMQP_DURATION=$AMQP_DURATION)"
  # "scenario size queue-type": quorum queues are RabbitMQ's replicated,
  # fsync-before-confirm type; Tern accepts the argument and runs its one
  # queue type.
  for i in $(seq "$RUNS"); do
    for shape in "queue 16 classic" "queue 1024 classic" "queue 1024 quorum" "fanout 1024 classic"; do
      read -r scen size qtype <<<"$shape"
      for s in $(order tern rabbitmq); do
        has "$s" || continue
        measure "$s" max "$qtype" "${AMQP[@]}" -amqp-url "${URL[$s]}" -duration "$AMQP_DURATION" -size "$size" -queue-type "$qtype" "$scen"
      done
    done
  done
fi

if want latency; then
  section "latency: 1 KiB queue at 10/50/90 % of the peak (RUNS=$RUNS, LATENCY_DURATION=$LATENCY_DURATION)"
  for i in $(seq "$RUNS"); do
    # Tern runs one queue type; its own peak is measured once per run.
    measure tern latency own "${AMQP[@]}" -duration "$LATENCY_DURATION" -size 1024 -amqp-url "${URL[tern]}" latency
    has rabbitmq || continue
    for qtype in classic quorum; do
      LAT=("${AMQP[@]}" -duration "$LATENCY_DURATION" -size 1024 -queue-type "$qtype")
      before=$(wc -l <"$RESULTS.tmp")
      measure rabbitmq latency "$qtype" "${LAT[@]}" -amqp-url "${URL[rabbitmq]}" latency
      # Tern at the rates RabbitMQ just peaked at (this run's, never an
      # earlier one's): latency at equal load.
      peak=0
      if [ "$(wc -l <"$RESULTS.tmp")" -gt "$before" ]; then
        peak=$(tail -1 "$RESULTS.tmp" | jq -r 'select(.system == "rabbitmq" and .phase == "latency") | .latency_peak_msgs_s // 0')
      fi
      if [ "${peak:-0}" != 0 ]; then
        measure tern latency-same "$qtype" "${LAT[@]}" -amqp-url "${URL[tern]}" -latency-peak "$peak" latency
      fi
    done
  done
fi

if want backlog; then
  section "backlog: $BACKLOG_RECORDS × 1 KiB queued with no consumer, then drained"
  BL=(-publishers 2 -consumers 2 -inflight 256 -prefetch 100 -ack-every 1 -size 1024 -duration 0 -timeout 60m)
  measure tern backlog-ref classic "${BL[@]}" -amqp-url "${URL[tern]}" -records "$BACKLOG_REF_RECORDS" backlog
  measure tern backlog classic "${BL[@]}" -amqp-url "${URL[tern]}" -records "$BACKLOG_RECORDS" -rss-interval 2s backlog
  if has rabbitmq && [ "$RABBIT_BACKLOG_RECORDS" -gt 0 ]; then
    measure rabbitmq backlog-ref classic "${BL[@]}" -amqp-url "${URL[rabbitmq]}" -records "$BACKLOG_REF_RECORDS" backlog
    measure rabbitmq backlog classic "${BL[@]}" -amqp-url "${URL[rabbitmq]}" -records "$RABBIT_BACKLOG_RECORDS" -rss-interval 2s backlog
  fi
fi

emit scenario=env system=machine load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
mv "$RESULTS.tmp" "$RESULTS"
section "Results: $RESULTS ($(wc -l <"$RESULTS") lines)"
if [ "$WRITE_DOCS" = 1 ]; then
  run "$WORK/ternbench" report -md docs/benchmarks.md -charts docs/img "$RESULTS"
else
  run "$WORK/ternbench" report "$RESULTS"
fi
