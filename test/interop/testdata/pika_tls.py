"""Connect to Tern over TLS with pika, log in with a password or with
EXTERNAL (a client certificate), publish one confirmed message and get it
back. Prints one JSON line: {"body": ...} or {"error": <exception name>}."""
import argparse
import json
import ssl

import pika

p = argparse.ArgumentParser()
p.add_argument("--host", default="localhost")
p.add_argument("--port", type=int, required=True)
p.add_argument("--ca", required=True)
p.add_argument("--cert")
p.add_argument("--key")
p.add_argument("--user", default="guest")
p.add_argument("--password", default="guest")
p.add_argument("--external", action="store_true")
p.add_argument("--queue", default="pika-tls-q")
a = p.parse_args()

ctx = ssl.create_default_context(cafile=a.ca)
if a.cert:
    ctx.load_cert_chain(a.cert, a.key)
creds = pika.credentials.ExternalCredentials() if a.external else pika.PlainCredentials(a.user, a.password)
params = pika.ConnectionParameters(
    host=a.host, port=a.port, credentials=creds,
    ssl_options=pika.SSLOptions(ctx, server_hostname="localhost"),
    connection_attempts=1, socket_timeout=10)
try:
    conn = pika.BlockingConnection(params)
except Exception as e:  # the test checks which refusal it was
    print(json.dumps({"error": type(e).__name__, "detail": str(e)}))
    raise SystemExit(0)
ch = conn.channel()
ch.confirm_delivery()
ch.queue_declare(queue=a.queue, auto_delete=True)
ch.basic_publish(exchange="", routing_key=a.queue, body=b"over tls")
method, props, body = ch.basic_get(queue=a.queue, auto_ack=True)
print(json.dumps({"body": body.decode() if body else None}))
conn.close()
