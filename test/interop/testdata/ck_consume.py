"""confluent-kafka Consumer in a group with auto commit.

    ck_consume.py --bootstrap HOST:PORT --topic T --group G --expect N
                  [--idle-secs 2] [--max-secs 40] [--sasl MECH:USER:PASS]

Subscribes with group.id G, auto.offset.reset=earliest and auto commit, and
polls until it has seen N messages and then IDLE seconds pass with nothing
more (so late duplicates are seen too), or MAX seconds pass. close()
commits. Prints one JSON object: every record seen in order, and every
error the consumer reported. --sasl connects over SASL_PLAINTEXT.
"""
import argparse
import json
import sys
import time

from confluent_kafka import Consumer


def sasl_conf(spec):
    if not spec:
        return {}
    mech, user, password = spec.split(":", 2)
    return {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": mech,
            "sasl.username": user, "sasl.password": password}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--sasl", default="", help="MECHANISM:USER:PASSWORD over SASL_PLAINTEXT")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--expect", type=int, required=True)
    ap.add_argument("--idle-secs", type=float, default=2)
    ap.add_argument("--max-secs", type=float, default=40)
    a = ap.parse_args()

    conf = {
        "bootstrap.servers": a.bootstrap,
        "client.id": "tern-interop-ck-consumer",
        "group.id": a.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": True,
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 500,
    }
    conf.update(sasl_conf(a.sasl))
    c = Consumer(conf)
    c.subscribe([a.topic])
    recs, errors = [], []
    deadline = time.time() + a.max_secs
    last = time.time()
    while time.time() < deadline:
        m = c.poll(0.2)
        if m is None:
            if len(recs) >= a.expect and time.time() - last >= a.idle_secs:
                break
            continue
        if m.error():
            errors.append(str(m.error()))
            continue
        last = time.time()
        recs.append({"k": m.key().decode() if m.key() is not None else None,
                     "v": m.value().decode() if m.value() is not None else None,
                     "p": m.partition(), "o": m.offset()})
    c.close()
    print(json.dumps({"records": recs, "errors": errors}))


if __name__ == "__main__":
    sys.exit(main())
