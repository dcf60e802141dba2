"""kafka-python KafkaProducer: send COUNT keyed messages with acks='all'.

    kp_produce.py --bootstrap HOST:PORT --topic T --count N [--start S]
                  [--tag TAG] [--api-version 2.5.0]

Message i (S <= i < S+N) has key "k<i>" and value "v<i>-<TAG>". Each send's
record metadata is awaited; prints one JSON object: the api_version
kafka-python used and every record with the partition and offset the broker
acknowledged, in send order.
"""
import argparse
import json
import sys

from kafka import KafkaProducer


def api_version(s):
    return tuple(int(x) for x in s.split(".")) if s else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--tag", default="kp")
    ap.add_argument("--api-version", type=api_version, default=None)
    a = ap.parse_args()

    kw = {
        "bootstrap_servers": a.bootstrap,
        "client_id": "tern-interop-producer",
        "acks": "all",
        "linger_ms": 5,
        "request_timeout_ms": 20000,
    }
    if a.api_version:
        kw["api_version"] = a.api_version
    p = KafkaProducer(**kw)
    futures = []
    for i in range(a.start, a.start + a.count):
        k, v = "k%d" % i, "v%d-%s" % (i, a.tag)
        futures.append((k, v, p.send(a.topic, key=k.encode(), value=v.encode())))
    p.flush(timeout=30)
    recs = []
    for k, v, f in futures:
        md = f.get(timeout=30)
        recs.append({"k": k, "v": v, "p": md.partition, "o": md.offset})
    out = {"api_version": list(p.config["api_version"]), "records": recs}
    p.close(timeout=10)
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
