package interop_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestConfluentTransactions runs librdkafka's transactional producer
// (Debian's python3-confluent-kafka): a committed and an aborted
// transaction, then consume-transform-produce with
// send_offsets_to_transaction. A read_committed consumer must see the
// committed and transformed records only, a read_uncommitted one the
// aborted ones too, and the group's committed offsets must cover the
// input.
func TestConfluentTransactions(t *testing.T) {
	interop(t)
	needPython(t, "confluent_kafka")
	b := startBroker(t)
	adm := admin(t, b.Addr)
	const in, out, group, n, inputs = "ck-txn-in", "ck-txn-out", "ck-txn-g", 30, 40
	createTopic(t, adm, in, 2)
	createTopic(t, adm, out, 2)
	ctx := ctxT(t, 30*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic(in))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range inputs {
		if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: fmt.Appendf(nil, "in-%d", i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	var res struct {
		Committed, Uncommitted, Errors []string
	}
	runPy(t, 2*time.Minute, &res, "ck_txn.py", "--bootstrap", b.Addr, "--in", in, "--out", out,
		"--group", group, "--count", strconv.Itoa(n), "--inputs", strconv.Itoa(inputs))
	if len(res.Errors) > 0 {
		t.Errorf("confluent-kafka reported errors: %v", head(res.Errors))
	}
	var want, aborted []string
	for i := range n {
		want = append(want, fmt.Sprintf("c-%d", i))
		aborted = append(aborted, fmt.Sprintf("a-%d", i))
	}
	for i := range inputs {
		want = append(want, fmt.Sprintf("t-in-%d", i))
	}
	slices.Sort(want)
	slices.Sort(res.Committed)
	if !slices.Equal(res.Committed, want) {
		t.Errorf("read_committed saw %d records %v\nwant %d %v", len(res.Committed), head(res.Committed), len(want), head(want))
	}
	all := append(slices.Clone(want), aborted...)
	slices.Sort(all)
	slices.Sort(res.Uncommitted)
	if !slices.Equal(res.Uncommitted, all) {
		t.Errorf("read_uncommitted saw %d records, want %d (the aborted ones too)", len(res.Uncommitted), len(all))
	}
	total := int64(0)
	for _, o := range committed(t, adm, group, in) {
		total += o
	}
	if total != inputs {
		t.Errorf("the group's committed offsets sum to %d, want %d", total, inputs)
	}
}
