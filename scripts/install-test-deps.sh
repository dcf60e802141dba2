#!/usr/bin/env bash
# Installs the independent Kafka and AMQP clients that test/interop
# drives, from Debian, only when one is missing:
#   kcat                      (librdkafka's command-line client)
#   python3-kafka             (kafka-python)
#   python3-confluent-kafka   (confluent-kafka-python, on librdkafka)
#   python3-pika              (pika, an AMQP 0-9-1 client)
#   amqp-tools                (amqp-publish, amqp-get, amqp-consume; on
#                              rabbitmq-c)
#   nats-server               (NATS with JetStream, the peer ternbench's
#                              jslog scenario is tested against)
# Idempotent: with everything present it only checks and exits 0. Uses sudo
# only when not root. Exits non-zero with a clear message when it cannot
# install. The Python modules are checked with Debian's /usr/bin/python3,
# the interpreter the tests use (a pyenv or venv python3 on PATH does not
# see Debian's dist-packages).
set -euo pipefail

PACKAGES=(kcat python3-kafka python3-confluent-kafka python3-pika amqp-tools nats-server chromium)
PYTHON=/usr/bin/python3

have_all() {
  command -v kcat >/dev/null 2>&1 &&
    command -v amqp-publish >/dev/null 2>&1 &&
    command -v amqp-get >/dev/null 2>&1 &&
    command -v amqp-consume >/dev/null 2>&1 &&
    { command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; } &&
    command -v chromium >/dev/null 2>&1 &&
    [ -x "$PYTHON" ] &&
    "$PYTHON" -c 'import kafka, confluent_kafka, pika' >/dev/null 2>&1
}

if have_all; then
  exit 0
fi

echo "install-test-deps: kcat, amqp-tools, nats-server or a Python Kafka/AMQP client is missing; installing ${PACKAGES[*]} from Debian" >&2

fail() {
  echo "install-test-deps: $*" >&2
  echo "install-test-deps: install them by hand: apt-get install --no-install-recommends ${PACKAGES[*]}" >&2
  echo "install-test-deps: (or set TERN_SKIP_INTEROP=1 to skip the interop tests)" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: this script needs a Debian-based system"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "not root and sudo is not available"
  SUDO=(sudo -n)
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update || fail "apt-get update failed"
"${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}" ||
  fail "apt-get install ${PACKAGES[*]} failed"

have_all || fail "installed ${PACKAGES[*]}, but kcat, amqp-publish/amqp-get/amqp-consume, nats-server or '$PYTHON -c \"import kafka, confluent_kafka, pika\"' still fails"
echo "install-test-deps: done" >&2
