"""confluent-kafka (librdkafka) transactions against a broker.

    ck_txn.py --bootstrap HOST:PORT --in IN --out OUT --group G --count N --inputs M

One transactional producer: a transaction of N records "c-<i>" committed,
one of N records "a-<i>" aborted, then a consume-transform-produce
transaction: a read_committed group consumer reads the M records of IN,
each is produced to OUT as "t-<value>", and the consumer's offsets are
sent to the transaction (send_offsets_to_transaction) before it commits.
Then OUT is read from the start by a read_committed and a
read_uncommitted consumer until idle.
Prints one JSON object: {"committed": [...], "uncommitted": [...],
"errors": [...]}.
"""
import argparse
import json
import time
import uuid

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition


def read_all(bootstrap, topic, isolation, idle_s=2.0, limit_s=30.0):
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "ck-txn-reader-" + uuid.uuid4().hex,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": isolation,
    })
    c.subscribe([topic])
    out, errors = [], []
    last, start = time.time(), time.time()
    while time.time() - last < idle_s and time.time() - start < limit_s:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            if not m.error().code() == -191:  # _PARTITION_EOF
                errors.append(str(m.error()))
            continue
        out.append(m.value().decode())
        last = time.time()
    c.close()
    return out, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--in", dest="inp", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--inputs", type=int, required=True)
    a = ap.parse_args()
    errors = []

    p = Producer({
        "bootstrap.servers": a.bootstrap,
        "transactional.id": "ck-txn-" + a.out,
        "transaction.timeout.ms": 60000,
    })
    p.init_transactions(30)

    for tag, commit in (("c", True), ("a", False)):
        p.begin_transaction()
        for i in range(a.count):
            p.produce(a.out, key=str(i).encode(), value=("%s-%d" % (tag, i)).encode())
        p.flush(30)
        if commit:
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)

    c = Consumer({
        "bootstrap.servers": a.bootstrap,
        "group.id": a.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
    })
    c.subscribe([a.inp])
    p.begin_transaction()
    got, deadline = 0, time.time() + 30
    while got < a.inputs and time.time() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            errors.append(str(m.error()))
            continue
        p.produce(a.out, key=m.key(), value=b"t-" + m.value())
        got += 1
    p.flush(30)
    try:
        p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 30)
        p.commit_transaction(30)
    except KafkaException as e:
        errors.append("consume-transform-produce: %s" % e)
    c.close()
    if got < a.inputs:
        errors.append("read %d of %d inputs" % (got, a.inputs))

    committed, e1 = read_all(a.bootstrap, a.out, "read_committed")
    uncommitted, e2 = read_all(a.bootstrap, a.out, "read_uncommitted")
    print(json.dumps({"committed": committed, "uncommitted": uncommitted, "errors": errors + e1 + e2}))


if __name__ == "__main__":
    main()
