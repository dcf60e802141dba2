package kafka_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// txnProduce runs one transaction of values to topic and ends it.
func txnProduce(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, commit bool, values ...string) {
	t.Helper()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte(v), Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", v, err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatalf("end transaction (commit %v): %v", commit, err)
	}
}

// consumeAll reads topic from the start until want records arrived or
// the context ends, and returns the values in partition order.
func consumeAll(t *testing.T, ctx context.Context, addr, topic string, level kgo.IsolationLevel, want int) []string {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(level),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	var got []string
	for len(got) < want && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				t.Errorf("fetch: %v", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

// settle consumes a little longer to see that nothing more arrives.
func nothingMore(t *testing.T, addr, topic string, level kgo.IsolationLevel, have int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	if got := consumeAll(t, ctx, addr, topic, level, have+1); len(got) != have {
		t.Fatalf("%v consumer saw %d records, want exactly %d: %v", level, len(got), have, got)
	}
}

func values(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

func TestTransactionCommittedAndAbortedByIsolationLevel(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 60*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "txn"); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addr, kgo.TransactionalID("tx-basic"))
	committed1, aborted, committed2 := values("c1-", 10), values("a-", 10), values("c2-", 5)
	txnProduce(t, ctx, prod, "txn", true, committed1...)
	txnProduce(t, ctx, prod, "txn", false, aborted...)
	txnProduce(t, ctx, prod, "txn", true, committed2...)

	want := append(slices.Clone(committed1), committed2...)
	got := consumeAll(t, ctx, b.Addr, "txn", kgo.ReadCommitted(), len(want))
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("read_committed saw %v\nwant %v", got, want)
	}
	nothingMore(t, b.Addr, "txn", kgo.ReadCommitted(), len(want))
	all := append(slices.Clone(want), aborted...)
	got = consumeAll(t, ctx, b.Addr, "txn", kgo.ReadUncommitted(), len(all))
	if len(got) != len(all) {
		t.Fatalf("read_uncommitted saw %d records, want %d (aborted ones included)", len(got), len(all))
	}
	nothingMore(t, b.Addr, "txn", kgo.ReadUncommitted(), len(all))
}

func TestOpenTransactionHiddenUntilCommit(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 60*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "open"); err != nil {
		t.Fatal(err)
	}
	plain := newClient(t, b.Addr)
	if err := plain.ProduceSync(ctx, &kgo.Record{Topic: "open", Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addr, kgo.TransactionalID("tx-open"))
	if err := prod.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "open", Value: []byte("in-txn")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// A non-transactional record after the open transaction's first one
	// is stable only once the transaction ends.
	if err := plain.ProduceSync(ctx, &kgo.Record{Topic: "open", Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	committedEnd, err := adm.ListCommittedOffsets(ctx, "open")
	if err != nil {
		t.Fatal(err)
	}
	endOffsets, err := adm.ListEndOffsets(ctx, "open")
	if err != nil {
		t.Fatal(err)
	}
	lso, _ := committedEnd.Lookup("open", 0)
	hw, _ := endOffsets.Lookup("open", 0)
	if lso.Offset != 1 || hw.Offset != 3 {
		t.Fatalf("last stable offset %d, high watermark %d; want 1 and 3", lso.Offset, hw.Offset)
	}
	nothingMore(t, b.Addr, "open", kgo.ReadCommitted(), 1)
	if err := prod.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	got := consumeAll(t, ctx, b.Addr, "open", kgo.ReadCommitted(), 3)
	if !slices.Equal(got, []string{"before", "in-txn", "after"}) {
		t.Fatalf("after commit read_committed saw %v", got)
	}
}

func TestZombieProducerIsFenced(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 60*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "fence"); err != nil {
		t.Fatal(err)
	}
	zombie := newClient(t, b.Addr, kgo.TransactionalID("tx-fence"))
	if err := zombie.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := zombie.ProduceSync(ctx, &kgo.Record{Topic: "fence", Value: []byte("zombie-1")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// A new incarnation takes the id over: the zombie's open transaction
	// is aborted and its epoch is stale.
	fresh := newClient(t, b.Addr, kgo.TransactionalID("tx-fence"))
	txnProduce(t, ctx, fresh, "fence", true, "fresh-1")

	err := zombie.ProduceSync(ctx, &kgo.Record{Topic: "fence", Value: []byte("zombie-2")}).FirstErr()
	if err == nil {
		t.Fatal("the zombie produced after being fenced")
	}
	if err := zombie.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Fatal("the zombie committed after being fenced")
	} else if !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Logf("zombie commit refused with %v", err)
	}
	got := consumeAll(t, ctx, b.Addr, "fence", kgo.ReadCommitted(), 1)
	if !slices.Equal(got, []string{"fresh-1"}) {
		t.Fatalf("read_committed saw %v, want only the new producer's record", got)
	}
	nothingMore(t, b.Addr, "fence", kgo.ReadCommitted(), 1)
}

func TestAbandonedTransactionIsAbortedAfterItsTimeout(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) {
		c.Txn.CheckInterval = 50 * time.Millisecond
	}))
	ctx := ctxT(t, 60*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "abandon"); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addr, kgo.TransactionalID("tx-abandon"), kgo.TransactionTimeout(time.Second))
	if err := prod.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "abandon", Value: []byte("lost")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// The producer goes silent. The coordinator aborts after the timeout,
	// and the partition's last stable offset moves past the record.
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := adm.DescribeTransactions(ctx, "tx-abandon")
		if err != nil {
			t.Fatal(err)
		}
		if s := d["tx-abandon"]; s.State == "CompleteAbort" {
			if s.ProducerEpoch != 1 {
				t.Fatalf("timed-out abort left epoch %d, want the bumped 1", s.ProducerEpoch)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("transaction not aborted 10s after a 1s timeout: %+v", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	offs, err := adm.ListCommittedOffsets(ctx, "abandon")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := offs.Lookup("abandon", 0); o.Offset != 2 {
		t.Fatalf("last stable offset %d after the abort, want 2 (record and marker)", o.Offset)
	}
	nothingMore(t, b.Addr, "abandon", kgo.ReadCommitted(), 0)
	if err := prod.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Fatal("a commit after the timeout abort succeeded")
	}
}

func TestTransactionStateSurvivesRestart(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 60*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "restart"); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addr, kgo.TransactionalID("tx-restart"))
	txnProduce(t, ctx, prod, "restart", true, "kept")
	txnProduce(t, ctx, prod, "restart", false, "dropped")
	if err := prod.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "restart", Value: []byte("open")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	prod.Close()
	b.Restart()
	adm = kadm.NewClient(newClient(t, b.Addr))
	d, err := adm.DescribeTransactions(ctx, "tx-restart")
	if err != nil {
		t.Fatal(err)
	}
	if s := d["tx-restart"]; s.State != "Ongoing" || len(s.Topics) != 1 {
		t.Fatalf("after restart: %+v, want the open transaction on restart-0", s)
	}
	// The restarted partition still hides the open and aborted records.
	nothingMore(t, b.Addr, "restart", kgo.ReadCommitted(), 1)
	// A new incarnation aborts what its predecessor left open.
	next := newClient(t, b.Addr, kgo.TransactionalID("tx-restart"))
	txnProduce(t, ctx, next, "restart", true, "after")
	got := consumeAll(t, ctx, b.Addr, "restart", kgo.ReadCommitted(), 2)
	if !slices.Equal(got, []string{"kept", "after"}) {
		t.Fatalf("read_committed after restart saw %v", got)
	}
	nothingMore(t, b.Addr, "restart", kgo.ReadCommitted(), 2)
	lt, err := adm.ListTransactions(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := lt["tx-restart"]; !ok || s.State != "CompleteCommit" {
		t.Fatalf("ListTransactions: %+v", lt)
	}
}

func TestGroupTransactSessionExactlyOnce(t *testing.T) {
	t.Run("classic", func(t *testing.T) { groupTransactSession(t) })
	// KIP-848: TxnOffsetCommit carries the member epoch.
	t.Run("consumer-protocol", func(t *testing.T) {
		groupTransactSession(t, kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer()))
	})
}

func groupTransactSession(t *testing.T, groupOpts ...kgo.Opt) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 90*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "eos-in"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "eos-out"); err != nil {
		t.Fatal(err)
	}
	const n = 300
	in := newClient(t, b.Addr, kgo.DefaultProduceTopic("eos-in"))
	for i := range n {
		in.Produce(ctx, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte(strconv.Itoa(i))}, nil)
	}
	if err := in.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sess, err := kgo.NewGroupTransactSession(append([]kgo.Opt{
		kgo.SeedBrokers(b.Addr),
		kgo.TransactionalID("tx-eos"),
		kgo.ConsumerGroup("eos-group"),
		kgo.ConsumeTopics("eos-in"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DefaultProduceTopic("eos-out"),
	}, groupOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	done, round := 0, 0
	for done < n && ctx.Err() == nil {
		fs := sess.PollRecords(ctx, 25)
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		var recs []*kgo.Record
		fs.EachRecord(func(r *kgo.Record) {
			recs = append(recs, &kgo.Record{Key: r.Key, Value: []byte("out-" + string(r.Value))})
		})
		for _, r := range recs {
			sess.Produce(ctx, r, nil)
		}
		// Every third round aborts: its input must be processed again.
		commit := round%3 != 2
		round++
		committed, err := sess.End(ctx, kgo.TransactionEndTry(commit))
		if err != nil {
			t.Fatalf("end: %v", err)
		}
		if committed && commit {
			done += len(recs)
		}
	}
	got := consumeAll(t, ctx, b.Addr, "eos-out", kgo.ReadCommitted(), n)
	slices.Sort(got)
	got = slices.Compact(got)
	if len(got) != n {
		t.Fatalf("output has %d distinct records, want %d", len(got), n)
	}
	nothingMore(t, b.Addr, "eos-out", kgo.ReadCommitted(), n)
	offs, err := adm.FetchOffsets(ctx, "eos-group")
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	offs.Each(func(o kadm.OffsetResponse) { total += o.At })
	if total != n {
		t.Fatalf("committed offsets sum to %d, want %d", total, n)
	}
	if round < 6 {
		t.Fatalf("only %d rounds: the aborted rounds were not exercised", round)
	}
	wantType := "classic"
	if len(groupOpts) > 0 {
		wantType = "consumer"
	}
	for _, l := range b.Node().Broker.Groups.List(nil) {
		if l.Group == "eos-group" && l.Type != wantType {
			t.Fatalf("eos-group is a %s group, want %s", l.Type, wantType)
		}
	}
}
