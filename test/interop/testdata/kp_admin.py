"""kafka-python KafkaAdminClient against a broker, one action per run.

    kp_admin.py --bootstrap HOST:PORT [--api-version 2.5.0] ACTION ...

Actions:
    create TOPIC PARTITIONS [name=value ...]   create_topics with topic configs
    list                                       list_topics
    describe-configs TOPIC                     describe_configs of the topic
    delete TOPIC                               delete_topics

Prints one JSON object on stdout: the action's result and the api_version
kafka-python settled on (auto-detected from ApiVersions unless given).
Errors the broker returns in a response are reported in the JSON (kafka-python
2.0.2 does not raise on per-topic error codes); exceptions exit non-zero.
"""
import argparse
import json
import sys

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic


def api_version(s):
    return tuple(int(x) for x in s.split(".")) if s else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--api-version", type=api_version, default=None)
    ap.add_argument("action", choices=["create", "list", "describe-configs", "delete"])
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()

    kw = {"bootstrap_servers": a.bootstrap, "client_id": "tern-interop-admin", "request_timeout_ms": 20000}
    if a.api_version:
        kw["api_version"] = a.api_version
    adm = KafkaAdminClient(**kw)
    out = {"api_version": list(adm.config["api_version"])}
    try:
        if a.action == "create":
            topic, partitions = a.args[0], int(a.args[1])
            configs = dict(kv.split("=", 1) for kv in a.args[2:])
            resp = adm.create_topics(
                [NewTopic(name=topic, num_partitions=partitions, replication_factor=1, topic_configs=configs)],
                timeout_ms=10000,
            )
            out["response_version"] = resp.API_VERSION
            # topic_errors: (topic, error_code[, error_message]) tuples
            out["errors"] = [[e[0], e[1]] + ([e[2]] if len(e) > 2 else []) for e in resp.topic_errors]
        elif a.action == "list":
            out["topics"] = sorted(adm.list_topics())
        elif a.action == "describe-configs":
            topic = a.args[0]
            resps = adm.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            resources = []
            for resp in resps:
                for res in resp.resources:
                    # (error_code, error_message, resource_type, resource_name, config_entries)
                    entries = {}
                    for e in res[4]:
                        # (name, value, read_only, is_default|config_source, is_sensitive, ...)
                        entries[e[0]] = {"value": e[1], "read_only": bool(e[2]), "source": e[3], "sensitive": bool(e[4])}
                    resources.append({"error_code": res[0], "error_message": res[1], "type": res[2], "name": res[3], "configs": entries})
                out["response_version"] = resp.API_VERSION
            out["resources"] = resources
        elif a.action == "delete":
            topic = a.args[0]
            resp = adm.delete_topics([topic], timeout_ms=10000)
            out["response_version"] = resp.API_VERSION
            out["errors"] = [[e[0], e[1]] for e in resp.topic_error_codes]
    finally:
        adm.close()
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
