"""pika against Tern's authorization: what a refused client sees.

    pika_refused.py --url amqp://USER:PASS@HOST:PORT/VHOST --queue Q
                    --other-vhost-url amqp://USER:PASS@HOST:PORT/OTHER

On the first URL, declares queue Q, which the user may not configure, and
records the channel's close (pika.exceptions.ChannelClosedByBroker); then,
on the same connection, a passive declare of Q on a new channel, which
needs no permission. On the second URL, a vhost the user has no rights in,
records how connection.open is refused. Prints one JSON object.
"""
import argparse
import json

import pika
import pika.exceptions


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--queue", required=True)
    ap.add_argument("--other-vhost-url", required=True)
    a = ap.parse_args()
    out = {}

    conn = pika.BlockingConnection(pika.URLParameters(a.url))
    ch = conn.channel()
    try:
        ch.queue_declare(a.queue, durable=True)
        out["declare"] = {"refused": False}
    except pika.exceptions.ChannelClosedByBroker as e:
        out["declare"] = {"refused": True, "code": e.reply_code, "text": e.reply_text}
    out["channel_closed"] = ch.is_closed
    ch = conn.channel()
    try:
        ok = ch.queue_declare(a.queue, passive=True)
        out["passive"] = {"ok": True, "messages": ok.method.message_count}
    except pika.exceptions.ChannelClosedByBroker as e:
        out["passive"] = {"ok": False, "code": e.reply_code, "text": e.reply_text}
    out["connection_open"] = conn.is_open
    conn.close()

    try:
        pika.BlockingConnection(pika.URLParameters(a.other_vhost_url)).close()
        out["other_vhost"] = {"refused": False}
    except pika.exceptions.AMQPConnectionError as e:
        # pika reports a connection.close during connection.open as
        # ProbableAccessDeniedError, quoting the broker's code and text.
        out["other_vhost"] = {"refused": True, "error": type(e).__name__, "message": str(e)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
