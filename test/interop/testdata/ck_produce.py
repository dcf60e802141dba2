"""confluent-kafka Producer with delivery callbacks.

    ck_produce.py --bootstrap HOST:PORT --topic T --count N [--start S]
                  [--tag TAG] [--pad P] [--idempotent] [--compression C]
                  [--sasl MECH:USER:PASS]

Message i (S <= i < S+N) has key "k<i>" and value "v<i>-<TAG>" followed by P
bytes of "x" (compressible padding). With --idempotent the producer sets
enable.idempotence=true and acks=all; --compression sets compression.type;
--sasl connects over SASL_PLAINTEXT.
Prints one JSON object: every delivery report in callback order (with the
error, if any) and the number of messages still undelivered after flush.
"""
import argparse
import json
import sys

from confluent_kafka import Producer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--sasl", default="", help="MECHANISM:USER:PASSWORD over SASL_PLAINTEXT")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--tag", default="ck")
    ap.add_argument("--pad", type=int, default=0)
    ap.add_argument("--idempotent", action="store_true")
    ap.add_argument("--compression", default="none")
    a = ap.parse_args()

    conf = {
        "bootstrap.servers": a.bootstrap,
        "client.id": "tern-interop-ck-producer",
        "acks": "all",
        "linger.ms": 5,
        "compression.type": a.compression,
        "message.timeout.ms": 30000,
    }
    if a.idempotent:
        conf["enable.idempotence"] = True
    if a.sasl:
        mech, user, password = a.sasl.split(":", 2)
        conf.update({"security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": mech,
                     "sasl.username": user, "sasl.password": password})
    p = Producer(conf)
    reports = []

    def on_delivery(err, msg):
        reports.append({
            "k": msg.key().decode(),
            "v": msg.value().decode(),
            "p": msg.partition(),
            "o": msg.offset(),
            "err": str(err) if err is not None else None,
        })

    pad = "x" * a.pad
    for i in range(a.start, a.start + a.count):
        while True:
            try:
                p.produce(a.topic, key=("k%d" % i).encode(), value=("v%d-%s%s" % (i, a.tag, pad)).encode(),
                          on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(40)
    print(json.dumps({"reports": reports, "undelivered": left}))


if __name__ == "__main__":
    sys.exit(main())
