package interop_test

import (
	"fmt"
	"testing"
	"time"
)

// kafka-python 2.0.2 infers the broker's version from the ApiVersions
// answer (conn.py _infer_broker_version_from_api_versions) unless given
// api_version. Each kafka-python test runs twice: "auto", the case that
// matters (what a user gets), and with api_version=(2,5,0) pinned, to tell
// a bad inference apart from a broken API.
var kafkaPythonModes = []struct {
	name string
	args []string
}{
	{"auto", nil},
	{"api_version=2.5.0", []string{"--api-version", "2.5.0"}},
}

// kpOut is what the kafka-python scripts print.
type kpOut struct {
	APIVersion      []int        `json:"api_version"`
	ResponseVersion int          `json:"response_version"`
	Errors          [][]any      `json:"errors"`
	Topics          []string     `json:"topics"`
	Resources       []kpResource `json:"resources"`
	Records         []rec        `json:"records"`
	Assignment      []int32      `json:"assignment"`
}

type kpResource struct {
	ErrorCode    int    `json:"error_code"`
	ErrorMessage string `json:"error_message"`
	Type         int    `json:"type"`
	Name         string `json:"name"`
	Configs      map[string]struct {
		Value     *string `json:"value"`
		ReadOnly  bool    `json:"read_only"`
		Source    int     `json:"source"`
		Sensitive bool    `json:"sensitive"`
	} `json:"configs"`
}

// noTopicErrors fails unless every (topic, error_code) pair has code 0.
func noTopicErrors(t *testing.T, what string, errs [][]any) {
	t.Helper()
	for _, e := range errs {
		if len(e) < 2 || fmt.Sprint(e[1]) != "0" {
			t.Fatalf("%s: broker answered with error %v", what, e)
		}
	}
}

// TestKafkaPythonAdmin drives KafkaAdminClient through a topic's life:
// create_topics with 4 partitions and topic configs (checked through
// franz-go: partition count and the configs as set), list_topics,
// describe_configs (the set values, reported as topic configs), and
// delete_topics (gone for franz-go and for list_topics).
func TestKafkaPythonAdmin(t *testing.T) {
	interop(t)
	needPython(t, "kafka")
	for _, mode := range kafkaPythonModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			b := startBroker(t)
			adm := admin(t, b.Addr)
			topic := "kp-admin"
			configs := map[string]string{"retention.ms": "3600000", "segment.bytes": "1048576", "cleanup.policy": "delete"}
			kp := func(args ...string) kpOut {
				t.Helper()
				var out kpOut
				runPy(t, 40*time.Second, &out, "kp_admin.py", append(append([]string{"--bootstrap", b.Addr}, mode.args...), args...)...)
				return out
			}

			args := []string{"create", topic, "4"}
			for k, v := range configs {
				args = append(args, k+"="+v)
			}
			out := kp(args...)
			t.Logf("kafka-python api_version %v, CreateTopics v%d", out.APIVersion, out.ResponseVersion)
			noTopicErrors(t, "create_topics", out.Errors)
			if len(out.Errors) != 1 {
				t.Fatalf("create_topics answered for %d topics, want 1: %v", len(out.Errors), out.Errors)
			}

			td, err := adm.ListTopics(ctxT(t, 10*time.Second), topic)
			if err != nil {
				t.Fatal(err)
			}
			if d, ok := td[topic]; !ok || d.Err != nil || len(d.Partitions) != 4 {
				t.Fatalf("after create_topics franz-go sees %s: %+v (present %v), want 4 partitions", topic, d, ok)
			}
			rc, err := adm.DescribeTopicConfigs(ctxT(t, 10*time.Second), topic)
			if err != nil {
				t.Fatal(err)
			}
			c, err := rc.On(topic, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range configs {
				found := false
				for _, e := range c.Configs {
					if e.Key == k {
						found = true
						if e.Value == nil || *e.Value != v {
							t.Errorf("franz-go: config %s = %v, want %s as create_topics set it", k, e.MaybeValue(), v)
						}
					}
				}
				if !found {
					t.Errorf("franz-go: config %s not described", k)
				}
			}

			out = kp("list")
			if !contains(out.Topics, topic) {
				t.Fatalf("list_topics = %v, want %s in it", out.Topics, topic)
			}

			out = kp("describe-configs", topic)
			t.Logf("DescribeConfigs v%d", out.ResponseVersion)
			if len(out.Resources) != 1 {
				t.Fatalf("describe_configs returned %d resources, want 1: %+v", len(out.Resources), out.Resources)
			}
			res := out.Resources[0]
			if res.ErrorCode != 0 || res.Name != topic || res.Type != 2 {
				t.Fatalf("describe_configs resource: code %d (%s), type %d, name %q; want 0, type 2 (topic), %q", res.ErrorCode, res.ErrorMessage, res.Type, res.Name, topic)
			}
			for k, v := range configs {
				e, ok := res.Configs[k]
				if !ok || e.Value == nil || *e.Value != v {
					t.Errorf("describe_configs: %s = %+v (present %v), want %q", k, e, ok, v)
					continue
				}
				// v1+: config_source 1 is DYNAMIC_TOPIC_CONFIG; v0: is_default false.
				if (out.ResponseVersion >= 1 && e.Source != 1) || (out.ResponseVersion == 0 && e.Source != 0) {
					t.Errorf("describe_configs: %s source/is_default = %d, want it reported as a topic override", k, e.Source)
				}
			}
			if len(res.Configs) <= len(configs) {
				t.Errorf("describe_configs returned only %d configs; a describe of all configs should list the defaults too", len(res.Configs))
			}

			out = kp("delete", topic)
			noTopicErrors(t, "delete_topics", out.Errors)
			if len(out.Errors) != 1 {
				t.Fatalf("delete_topics answered for %d topics, want 1: %v", len(out.Errors), out.Errors)
			}
			td, err = adm.ListTopics(ctxT(t, 10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if td.Has(topic) {
				t.Fatalf("after delete_topics franz-go still lists %s", topic)
			}
			out = kp("list")
			if contains(out.Topics, topic) {
				t.Fatalf("after delete_topics list_topics = %v, still has %s", out.Topics, topic)
			}
		})
	}
}

// TestKafkaPythonProduceConsumeGroup produces N messages with acks='all'
// and checks the record metadata (every partition's offsets contiguous
// from 0 in send order, matching franz-go's end offsets); consumes them in
// a group with auto commit and checks each exactly once in per-partition
// order and the committed offsets at the end; then produces M more, starts
// a second consumer in the same group and checks it resumes from the
// committed offsets: exactly the M new messages, nothing old.
func TestKafkaPythonProduceConsumeGroup(t *testing.T) {
	interop(t)
	needPython(t, "kafka")
	for _, mode := range kafkaPythonModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			b := startBroker(t)
			adm := admin(t, b.Addr)
			const topic, group, parts, n, more = "kp-orders", "kp-group", 3, 300, 60
			createTopic(t, adm, topic, parts)
			common := append([]string{"--bootstrap", b.Addr, "--topic", topic}, mode.args...)

			var prod kpOut
			runPy(t, 60*time.Second, &prod, "kp_produce.py", append(common, "--count", fmt.Sprint(n), "--tag", "kp")...)
			t.Logf("kafka-python api_version %v", prod.APIVersion)
			// Below 0.11 kafka-python would send the old message formats,
			// which Tern (as Kafka 4) refuses: a wrong inference from
			// ApiVersions would show here first.
			if len(prod.APIVersion) < 2 || prod.APIVersion[0] == 0 && prod.APIVersion[1] < 11 {
				t.Errorf("kafka-python settled on api_version %v from Tern's ApiVersions; it needs >= 0.11 for record batches v2", prod.APIVersion)
			}
			want := wantKV("kp", 0, n)
			sent := checkExactlyOnce(t, "record metadata", prod.Records, want)
			checkContiguous(t, "record metadata", sent, map[int32]int64{})
			ends := endOffsets(t, adm, topic)
			if got := perPartitionCounts(sent); !equalCounts(got, ends) {
				t.Fatalf("acknowledged per partition %v, franz-go end offsets %v", got, ends)
			}

			var c1 kpOut
			runPy(t, 60*time.Second, &c1, "kp_consume.py", append(common, "--group", group, "--expect", fmt.Sprint(n))...)
			got := checkExactlyOnce(t, "consumer 1", c1.Records, want)
			checkSameOrder(t, "consumer 1", got, sent)
			if cm := committed(t, adm, group, topic); !equalCounts(cm, ends) {
				t.Fatalf("after consumer 1 closed, committed offsets %v, want the end offsets %v", cm, ends)
			}

			var prod2 kpOut
			runPy(t, 60*time.Second, &prod2, "kp_produce.py", append(common, "--count", fmt.Sprint(more), "--start", fmt.Sprint(n), "--tag", "kp2")...)
			want2 := wantKV("kp2", n, more)
			sent2 := checkExactlyOnce(t, "record metadata (second batch)", prod2.Records, want2)
			checkContiguous(t, "record metadata (second batch)", sent2, ends)

			var c2 kpOut
			runPy(t, 60*time.Second, &c2, "kp_consume.py", append(common, "--group", group, "--expect", fmt.Sprint(more))...)
			got2 := checkExactlyOnce(t, "consumer 2 (same group, after consumer 1 committed)", c2.Records, want2)
			checkSameOrder(t, "consumer 2", got2, sent2)
			ends2 := endOffsets(t, adm, topic)
			if cm := committed(t, adm, group, topic); !equalCounts(cm, ends2) {
				t.Fatalf("after consumer 2 closed, committed offsets %v, want the end offsets %v", cm, ends2)
			}
		})
	}
}

// checkSameOrder checks that each partition was consumed exactly in the
// order (and at the offsets) the producer was acknowledged.
func checkSameOrder(t *testing.T, who string, got, sent map[int32][]rec) {
	t.Helper()
	for p, rs := range sent {
		g := got[p]
		if len(g) != len(rs) {
			t.Fatalf("%s: partition %d: consumed %d records, %d were acknowledged there", who, p, len(g), len(rs))
		}
		for i := range rs {
			if g[i] != rs[i] {
				t.Fatalf("%s: partition %d record %d: consumed %+v, acknowledged %+v", who, p, i, g[i], rs[i])
			}
		}
	}
	for p := range got {
		if _, ok := sent[p]; !ok {
			t.Fatalf("%s: consumed from partition %d, nothing was acknowledged there", who, p)
		}
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
