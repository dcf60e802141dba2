package broker_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// readIdle reads the topic from the start with the isolation level until
// a poll brings nothing for half a second.
func readIdle(t *testing.T, ctx context.Context, addr, topic string, level kgo.IsolationLevel) []*kgo.Record {
	t.Helper()
	cl := client(t, addr, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(level),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	var out []*kgo.Record
	for idle := 0; idle < 3; {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			t.Fatal(ctx.Err())
		}
		if fs.NumRecords() == 0 {
			idle++
			continue
		}
		idle = 0
		out = append(out, fs.Records()...)
	}
	return out
}

// TestCompactionDropsAbortedTransactions: a compacted topic written by a
// transactional producer (a commit, an abort, a commit) and then by an
// ordinary one. Cleaning removes the aborted records entirely, compacts
// committed transactional records like any others, and both isolation
// levels then read the same table. A transaction open during a pass is
// left alone, and its records go once it aborted.
func TestCompactionDropsAbortedTransactions(t *testing.T) {
	b, adm := startCompacting(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	createTopic(t, ctx, adm, "txtable", map[string]*string{
		"cleanup.policy": kadm.StringPtr("compact"), "segment.bytes": kadm.StringPtr("2048"),
	})
	tx := client(t, b.Addr, kgo.TransactionalID("tx-compact"), kgo.DefaultProduceTopic("txtable"))
	round := func(commit bool, tag string, keys int) {
		if err := tx.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := range keys {
			r := &kgo.Record{Key: fmt.Appendf(nil, "k%02d", i), Value: fmt.Appendf(nil, "%s-%d", tag, i)}
			if err := tx.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	round(true, "a", 20)
	round(false, "b", 30) // k20-k29 exist only in the aborted transaction
	round(true, "c", 10)
	plain := client(t, b.Addr, kgo.DefaultProduceTopic("txtable"))
	fill := func(from, to int) { // pushes what came before into sealed segments
		for i := from; i < to; i++ {
			if err := plain.ProduceSync(ctx, &kgo.Record{Key: []byte("filler"), Value: fmt.Appendf(nil, "f-%d", i)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	fill(0, 100)
	// A transaction still open when the cleaner runs: its records must
	// neither be cleaned nor hide older ones, whatever its outcome.
	if err := tx.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := tx.ProduceSync(ctx, &kgo.Record{Key: fmt.Appendf(nil, "k%02d", i), Value: fmt.Appendf(nil, "d-%d", i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	fill(100, 200)
	// read_committed stops at the open transaction: the filler after it
	// is not readable yet.
	want := map[string]string{"filler": "f-99"}
	for i := range 20 {
		want[fmt.Sprintf("k%02d", i)] = fmt.Sprintf("a-%d", i)
	}
	for i := range 10 {
		want[fmt.Sprintf("k%02d", i)] = fmt.Sprintf("c-%d", i)
	}
	sameState(t, state(t, readIdle(t, ctx, b.Addr, "txtable", kgo.ReadCommitted()), false), want)

	if n := compactNow(t, b); n != 1 {
		t.Fatalf("CompactNow cleaned %d logs, want 1", n)
	}
	if err := tx.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	fill(200, 300)
	want["filler"] = "f-299"
	if n := compactNow(t, b); n != 1 {
		t.Fatalf("second CompactNow cleaned %d logs, want 1", n)
	}
	for _, level := range []kgo.IsolationLevel{kgo.ReadUncommitted(), kgo.ReadCommitted()} {
		recs := readIdle(t, ctx, b.Addr, "txtable", level)
		for _, r := range recs {
			if v := string(r.Value); strings.HasPrefix(v, "b-") || strings.HasPrefix(v, "d-") {
				t.Fatalf("%v: aborted record %s=%s survived compaction", level, r.Key, r.Value)
			}
		}
		got := map[string]string{}
		seen := map[string]int{}
		for _, r := range recs {
			got[string(r.Key)] = string(r.Value)
			seen[string(r.Key)]++
		}
		sameState(t, got, want)
		for k, n := range seen {
			if n > 1 && k != "filler" { // the filler's last versions may sit in the active segment
				t.Errorf("%v: key %s read %d times after compaction", level, k, n)
			}
		}
	}
}
