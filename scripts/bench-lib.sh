# Shared by scripts/bench.sh and bench/compare.sh: printing commands
# before running them, section headers, the machine facts every benchmark
# report starts with, building the binaries under test, and process CPU.
# Source it after setting WORK.

# run prints a command, then runs it.
run() {
  printf '\n$ %s\n' "$*"
  "$@"
}

section() { printf '\n## %s\n' "$*"; }

# machine_facts prints what docs/benchmarks.md records about the machine.
machine_facts() {
  section "Machine ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
  run nproc
  run free -g
  run uname -r
  printf '\n$ lscpu | head\n'; lscpu | head
  run uptime
  run go version
  run df -h "$WORK"
  run git log -1 --format='%h %s'
}

# build_binaries builds tern and ternbench into $WORK.
build_binaries() {
  section "Build"
  run go build -o "$WORK/tern" ./cmd/tern
  run go build -o "$WORK/ternbench" ./cmd/ternbench
}

# cpu_ticks prints the user+system clock ticks a process has used (0 if gone).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# start_tern [flags...]: starts $WORK/tern serve on $WORK/data with the
# flags (logs in $WORK/tern.log), waits until it is ready and sets
# TERN_PID, TERN_KAFKA and TERN_AMQP (the listeners it reports).
start_tern() {
  mkdir -p "$WORK/data"
  # The HTTP listener goes on a free port, so a tern already on :15672
  # cannot make the benchmark fail to start.
  printf '\n$ %s\n' "$WORK/tern serve --data.dir $WORK/data --http.listen 127.0.0.1:0 $*"
  "$WORK/tern" serve --data.dir "$WORK/data" --http.listen 127.0.0.1:0 "$@" >"$WORK/tern.log" 2>&1 &
  TERN_PID=$!
  local ready=
  for _ in $(seq 100); do
    ready=$(grep 'tern is ready' "$WORK/tern.log" || true)
    [ -n "$ready" ] && break
    sleep 0.1
  done
  [ -n "$ready" ] || { cat "$WORK/tern.log"; echo "tern did not start" >&2; exit 1; }
  TERN_KAFKA=$(sed -n 's/.* kafka=\([^ ]*\).*/\1/p' <<<"$ready")
  TERN_AMQP=$(sed -n 's/.* amqp=\([^ ]*\).*/\1/p' <<<"$ready")
}
