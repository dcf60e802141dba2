"""pika (AMQP 0-9-1) round trip against Tern.

    pika_roundtrip.py --url amqp://guest:guest@HOST:PORT/ --prefix P --count N
                      [--max-secs 40]

Runs, on one BlockingConnection, and records what it saw:

  confirm   declares durable queue P-q, enables publisher confirms and
            publishes N persistent messages (body "m<i>-pika", content_type
            text/plain, headers {"i": i, "tag": "pika"}, correlation_id
            "c<i>", message_id "id<i>") to the default exchange; pika raises
            on a nack or an unroutable message. Then consumes with
            basic_qos(prefetch_count=10) and manual acks until N messages
            arrived and the queue stayed empty for a moment, recording each
            with its properties and the most deliveries unacked at once.
  get       publishes 2 messages to P-get, basic_get twice (acking) and
            once more on the empty queue.
  topic     declares topic exchange P-x bound to P-t1 by "a.*" and P-t2 by
            "#.z", publishes "a.b", "a.z", "b.z", "a.b.c" and drains both
            queues with basic_get.
  requeue   publishes one message to P-rq, consumes it, basic_nack with
            requeue=True, and records the redelivered flag of the first and
            second delivery (acking the second).

Prints one JSON object.
"""
import argparse
import json
import time

import pika


def props_of(p):
    return {
        "content_type": p.content_type,
        "headers": p.headers,
        "correlation_id": p.correlation_id,
        "message_id": p.message_id,
        "delivery_mode": p.delivery_mode,
    }


def drain_get(ch, q):
    out = []
    while True:
        m, p, body = ch.basic_get(q, auto_ack=True)
        if m is None:
            return out
        out.append(body.decode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--max-secs", type=float, default=40)
    a = ap.parse_args()
    deadline = time.time() + a.max_secs
    params = pika.URLParameters(a.url)
    params.socket_timeout = 10
    params.blocked_connection_timeout = 10
    conn = pika.BlockingConnection(params)
    ch = conn.channel()
    res = {}

    # confirm + consume with prefetch
    q = a.prefix + "-q"
    ok = ch.queue_declare(q, durable=True)
    res["declare_ok"] = {"queue": ok.method.queue,
                         "message_count": ok.method.message_count,
                         "consumer_count": ok.method.consumer_count}
    ch.confirm_delivery()
    for i in range(a.count):
        ch.basic_publish(
            exchange="", routing_key=q, body=("m%d-pika" % i).encode(),
            properties=pika.BasicProperties(
                content_type="text/plain", delivery_mode=2,
                headers={"i": i, "tag": "pika"},
                correlation_id="c%d" % i, message_id="id%d" % i),
            mandatory=True)
    res["confirmed"] = a.count
    ok = ch.queue_declare(q, durable=True, passive=True)
    res["count_after_publish"] = ok.method.message_count

    cch = conn.channel()
    cch.basic_qos(prefetch_count=10)
    got, pending, state = [], [], {"max_unacked": 0}

    def on_msg(c, m, p, body):
        pending.append(m.delivery_tag)
        state["max_unacked"] = max(state["max_unacked"], len(pending))
        d = props_of(p)
        d["body"] = body.decode()
        d["redelivered"] = m.redelivered
        got.append(d)

    tag = cch.basic_consume(q, on_msg, auto_ack=False)
    idle_since = None
    while time.time() < deadline:
        conn.process_data_events(time_limit=0.1)
        if pending:
            # ack in a batch after seeing as many as prefetch allows
            for t in pending:
                cch.basic_ack(t)
            pending.clear()
            idle_since = None
            continue
        if len(got) >= a.count:
            if idle_since is None:
                idle_since = time.time()
            elif time.time() - idle_since > 1.0:
                break
    cch.basic_cancel(tag)
    res["consumed"] = got
    res["max_unacked"] = state["max_unacked"]
    ok = ch.queue_declare(q, durable=True, passive=True)
    res["count_after_consume"] = ok.method.message_count

    # basic_get
    gq = a.prefix + "-get"
    ch.queue_declare(gq, durable=True)
    for b in ("g0", "g1"):
        ch.basic_publish("", gq, b.encode(), pika.BasicProperties(delivery_mode=2))
    gets = []
    for _ in range(3):
        m, p, body = ch.basic_get(gq, auto_ack=False)
        if m is None:
            gets.append(None)
            continue
        gets.append({"body": body.decode(), "message_count": m.message_count,
                     "redelivered": m.redelivered})
        ch.basic_ack(m.delivery_tag)
    res["gets"] = gets

    # topic exchange
    x = a.prefix + "-x"
    ch.exchange_declare(x, exchange_type="topic", durable=True)
    t1, t2 = a.prefix + "-t1", a.prefix + "-t2"
    ch.queue_declare(t1)
    ch.queue_declare(t2)
    ch.queue_bind(t1, x, routing_key="a.*")
    ch.queue_bind(t2, x, routing_key="#.z")
    for rk in ("a.b", "a.z", "b.z", "a.b.c"):
        ch.basic_publish(x, rk, rk.encode())
    res["topic"] = {"a.*": drain_get(ch, t1), "#.z": drain_get(ch, t2)}

    # nack with requeue
    rq = a.prefix + "-rq"
    ch.queue_declare(rq)
    ch.basic_publish("", rq, b"again")
    rch = conn.channel()
    rch.basic_qos(prefetch_count=1)
    seen = []
    for method, p, body in rch.consume(rq, inactivity_timeout=5):
        if method is None:
            break
        seen.append({"body": body.decode(), "redelivered": method.redelivered})
        if len(seen) == 1:
            rch.basic_nack(method.delivery_tag, requeue=True)
        else:
            rch.basic_ack(method.delivery_tag)
            break
    rch.cancel()
    res["requeue"] = seen
    ok = ch.queue_declare(rq, passive=True)
    res["requeue_left"] = ok.method.message_count

    conn.close()
    print(json.dumps(res))


if __name__ == "__main__":
    main()
