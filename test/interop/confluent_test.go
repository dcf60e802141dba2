package interop_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// ckReport is one delivery report of ck_produce.py.
type ckReport struct {
	rec
	Err *string `json:"err"`
}

type ckProduceOut struct {
	Reports     []ckReport `json:"reports"`
	Undelivered int        `json:"undelivered"`
}

type ckConsumeOut struct {
	Records []rec    `json:"records"`
	Errors  []string `json:"errors"`
}

// ckProduce runs ck_produce.py and checks that every message was
// delivered without error, with contiguous increasing offsets per
// partition starting at from[p]. It returns the delivered records by
// partition, in delivery order.
func ckProduce(t *testing.T, addr, topic string, want map[string]string, from map[int32]int64, args ...string) map[int32][]rec {
	t.Helper()
	var out ckProduceOut
	runPy(t, 60*time.Second, &out, "ck_produce.py", append([]string{"--bootstrap", addr, "--topic", topic}, args...)...)
	var recs []rec
	var errs []string
	for _, r := range out.Reports {
		if r.Err != nil {
			errs = append(errs, fmt.Sprintf("%s: %s", r.Key, *r.Err))
		}
		recs = append(recs, r.rec)
	}
	if len(errs) > 0 || out.Undelivered != 0 {
		t.Fatalf("confluent-kafka producer: %d delivery errors %v, %d undelivered after flush", len(errs), head(errs), out.Undelivered)
	}
	byPart := checkExactlyOnce(t, "delivery reports", recs, want)
	checkContiguous(t, "delivery reports", byPart, from)
	return byPart
}

// ckConsume runs ck_consume.py in group (args are more flags) and checks it saw exactly want,
// with no consumer errors, each partition in delivery order.
func ckConsume(t *testing.T, addr, topic, group string, want map[string]string, sent map[int32][]rec, args ...string) {
	t.Helper()
	var out ckConsumeOut
	runPy(t, 60*time.Second, &out, "ck_consume.py", append([]string{"--bootstrap", addr, "--topic", topic, "--group", group, "--expect", fmt.Sprint(len(want))}, args...)...)
	if len(out.Errors) > 0 {
		t.Errorf("confluent-kafka consumer reported errors: %v", head(out.Errors))
	}
	got := checkExactlyOnce(t, "confluent-kafka consumer", out.Records, want)
	checkSameOrder(t, "confluent-kafka consumer", got, sent)
}

// TestConfluentIdempotentProduceConsume produces N keyed messages with
// enable.idempotence=true and acks=all (InitProducerId, sequence numbers),
// checks every delivery report (no error, per-partition offsets contiguous
// from 0 in delivery order, matching franz-go's end offsets), consumes them
// back with a group consumer exactly once in the same per-partition order,
// and checks the committed offsets.
func TestConfluentIdempotentProduceConsume(t *testing.T) {
	interop(t)
	needPython(t, "confluent_kafka")
	b := startBroker(t)
	adm := admin(t, b.Addr)
	const topic, group, parts, n = "ck-idem", "ck-idem-g", 3, 600
	createTopic(t, adm, topic, parts)

	want := wantKV("ck", 0, n)
	sent := ckProduce(t, b.Addr, topic, want, map[int32]int64{}, "--count", fmt.Sprint(n), "--tag", "ck", "--idempotent")
	ends := endOffsets(t, adm, topic)
	if got := perPartitionCounts(sent); !equalCounts(got, ends) || len(got) != parts {
		t.Fatalf("delivered per partition %v, franz-go end offsets %v", got, ends)
	}
	ckConsume(t, b.Addr, topic, group, want, sent)
	if cm := committed(t, adm, group, topic); !equalCounts(cm, ends) {
		t.Fatalf("after the consumer closed, committed offsets %v, want the end offsets %v", cm, ends)
	}
}

// TestConfluentCompression produces with compression.type zstd and lz4
// (idempotent, compressible values) and consumes back exactly once.
func TestConfluentCompression(t *testing.T) {
	interop(t)
	needPython(t, "confluent_kafka")
	b := startBroker(t)
	adm := admin(t, b.Addr)
	for _, codec := range []string{"zstd", "lz4"} {
		t.Run(codec, func(t *testing.T) {
			topic, group, n, pad := "ck-"+codec, "ck-"+codec+"-g", 200, 400
			createTopic(t, adm, topic, 2)
			want := map[string]string{}
			for k, v := range wantKV(codec, 0, n) {
				want[k] = v + strings.Repeat("x", pad)
			}
			sent := ckProduce(t, b.Addr, topic, want, map[int32]int64{},
				"--count", fmt.Sprint(n), "--tag", codec, "--pad", fmt.Sprint(pad), "--compression", codec, "--idempotent")
			ckConsume(t, b.Addr, topic, group, want, sent)
		})
	}
}
