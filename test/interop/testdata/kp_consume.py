"""kafka-python KafkaConsumer in a group with auto commit.

    kp_consume.py --bootstrap HOST:PORT --topic T --group G --expect N
                  [--idle-ms 2000] [--max-secs 40] [--api-version 2.5.0]

Subscribes with group_id G, auto_offset_reset='earliest',
enable_auto_commit=True and consumer_timeout_ms=IDLE, and iterates until it
has seen N messages and then IDLE ms pass with nothing more (so duplicates
arriving late are seen too), or MAX seconds pass. close() commits the
consumed positions. Prints one JSON object: the api_version used and every
record seen, in the order seen.
"""
import argparse
import json
import sys
import time

from kafka import KafkaConsumer


def api_version(s):
    return tuple(int(x) for x in s.split(".")) if s else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--expect", type=int, required=True)
    ap.add_argument("--idle-ms", type=int, default=2000)
    ap.add_argument("--max-secs", type=float, default=40)
    ap.add_argument("--api-version", type=api_version, default=None)
    a = ap.parse_args()

    kw = {
        "bootstrap_servers": a.bootstrap,
        "client_id": "tern-interop-consumer",
        "group_id": a.group,
        "auto_offset_reset": "earliest",
        "enable_auto_commit": True,
        "consumer_timeout_ms": a.idle_ms,
        "session_timeout_ms": 10000,
        "heartbeat_interval_ms": 1000,
        "request_timeout_ms": 20000,
    }
    if a.api_version:
        kw["api_version"] = a.api_version
    c = KafkaConsumer(a.topic, **kw)
    recs = []
    deadline = time.time() + a.max_secs
    # Each pass of the iterator ends after IDLE ms without a message. Until
    # N are seen an idle pass may just be the group join; go on until the
    # deadline.
    while True:
        for m in c:
            recs.append({"k": m.key.decode() if m.key is not None else None,
                         "v": m.value.decode() if m.value is not None else None,
                         "p": m.partition, "o": m.offset})
            if time.time() > deadline:
                break
        if len(recs) >= a.expect or time.time() > deadline:
            break
    out = {
        "api_version": list(c.config["api_version"]),
        "assignment": sorted(tp.partition for tp in c.assignment()),
        "records": recs,
    }
    c.close(autocommit=True)
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
