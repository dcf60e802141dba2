package txn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memJournal keeps records in memory; fail makes the next appends fail.
type memJournal struct {
	mu   sync.Mutex
	recs []Record
	fail int
}

func (j *memJournal) Append(_ context.Context, recs []Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fail > 0 {
		j.fail--
		return errors.New("disk on fire")
	}
	j.recs = append(j.recs, recs...)
	return nil
}

func (j *memJournal) Replay(fn func(Record) error) error {
	for _, r := range j.recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// partitions records what the coordinator asked of the rest of the broker.
type partitions struct {
	mu      sync.Mutex
	next    int64
	markers []string
	offsets []string
	fail    int
}

func (p *partitions) AllocateProducerID(context.Context) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	return p.next, nil
}

func (p *partitions) WriteMarkers(_ context.Context, pid int64, epoch int16, commit bool, parts []Partition) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail > 0 {
		p.fail--
		return errors.New("partition unavailable")
	}
	for _, pt := range parts {
		p.markers = append(p.markers, fmt.Sprintf("%s-%d pid=%d epoch=%d commit=%v", pt.Topic, pt.Partition, pid, epoch, commit))
	}
	return nil
}

func (p *partitions) CommitOffsets(_ context.Context, group string, offs []Offset) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range offs {
		p.offsets = append(p.offsets, fmt.Sprintf("%s %s-%d=%d", group, o.Topic, o.Partition, o.Offset))
	}
	return nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func open(t *testing.T, j *memJournal, p *partitions, clk *clock) *Coordinator {
	t.Helper()
	c, err := New(Config{Now: clk.now, CheckInterval: time.Hour}, j, p)
	if err != nil {
		t.Fatal(err)
	}
	c.Start(context.Background())
	t.Cleanup(c.Close)
	return c
}

func TestCommitAppliesMarkersThenOffsets(t *testing.T) {
	ctx := context.Background()
	j, p, clk := &memJournal{}, &partitions{}, &clock{time.UnixMilli(1000)}
	c := open(t, j, p, clk)
	pid, epoch, err := c.InitProducerID(ctx, "a", 60000, -1, -1)
	if err != nil || pid != 1 || epoch != 0 {
		t.Fatalf("InitProducerID = %d, %d, %v", pid, epoch, err)
	}
	must(t, c.AddPartitions(ctx, "a", pid, epoch, []Partition{{"t", 1}, {"t", 0}, {"t", 1}}))
	must(t, c.Verify(pid, epoch, Partition{"t", 0}))
	if err := c.Verify(pid, epoch, Partition{"u", 0}); !errors.Is(err, ErrInvalidTxnState) {
		t.Fatalf("Verify of a partition not added: %v", err)
	}
	must(t, c.AddOffsets(ctx, "a", pid, epoch, "g"))
	must(t, c.CommitOffsets(ctx, "a", pid, epoch, "g", []Offset{{Topic: "in", Partition: 0, Offset: 5}}))
	if !c.PendingOffset("g", "in", 0) {
		t.Fatal("the offset is not pending before the commit")
	}
	must(t, c.EndTxn(ctx, "a", pid, epoch, true))
	if c.PendingOffset("g", "in", 0) {
		t.Fatal("the offset is still pending after the commit")
	}
	want := []string{"t-0 pid=1 epoch=0 commit=true", "t-1 pid=1 epoch=0 commit=true"}
	if !slices.Equal(p.markers, want) || !slices.Equal(p.offsets, []string{"g in-0=5"}) {
		t.Fatalf("markers %v offsets %v", p.markers, p.offsets)
	}
	if err := c.Verify(pid, epoch, Partition{"t", 0}); !errors.Is(err, ErrInvalidTxnState) {
		t.Fatalf("Verify after the commit: %v", err)
	}
}

// TestPreparedTransactionCompletesAfterRestart: a crash after the commit
// point (PrepareCommit durable) but before the markers: the next start
// writes them and applies the offsets.
func TestPreparedTransactionCompletesAfterRestart(t *testing.T) {
	ctx := context.Background()
	j, p, clk := &memJournal{}, &partitions{}, &clock{time.UnixMilli(1000)}
	c := open(t, j, p, clk)
	pid, epoch, _ := c.InitProducerID(ctx, "a", 60000, -1, -1)
	must(t, c.AddPartitions(ctx, "a", pid, epoch, []Partition{{"t", 0}}))
	must(t, c.AddOffsets(ctx, "a", pid, epoch, "g"))
	must(t, c.CommitOffsets(ctx, "a", pid, epoch, "g", []Offset{{Topic: "in", Partition: 0, Offset: 7}}))
	p.fail = 1 // the markers fail: the transaction stays PrepareCommit
	if err := c.EndTxn(ctx, "a", pid, epoch, true); !errors.Is(err, ErrCoordinatorNotAvailable) {
		t.Fatalf("EndTxn with failing markers: %v", err)
	}
	c.Close()

	p2 := &partitions{next: 10}
	c2 := open(t, j, p2, clk)
	if !slices.Equal(p2.markers, []string{"t-0 pid=1 epoch=0 commit=true"}) || !slices.Equal(p2.offsets, []string{"g in-0=7"}) {
		t.Fatalf("after restart: markers %v offsets %v", p2.markers, p2.offsets)
	}
	d, errs := c2.Describe([]string{"a"})
	if errs[0] != nil || d[0].State != CompleteCommit {
		t.Fatalf("after restart: %+v %v", d, errs)
	}
	// The producer's retry of its EndTxn is answered as it was.
	must(t, c2.EndTxn(ctx, "a", pid, epoch, true))
}

func TestTimeoutAbortsWithBumpedEpoch(t *testing.T) {
	ctx := context.Background()
	j, p, clk := &memJournal{}, &partitions{}, &clock{time.UnixMilli(1000)}
	c := open(t, j, p, clk)
	pid, epoch, _ := c.InitProducerID(ctx, "a", 1000, -1, -1)
	must(t, c.AddPartitions(ctx, "a", pid, epoch, []Partition{{"t", 0}}))
	clk.t = clk.t.Add(999 * time.Millisecond)
	if n := c.AbortTimedOut(ctx); n != 0 {
		t.Fatalf("aborted %d before the timeout", n)
	}
	clk.t = clk.t.Add(2 * time.Millisecond)
	if n := c.AbortTimedOut(ctx); n != 1 {
		t.Fatalf("aborted %d after the timeout, want 1", n)
	}
	if !slices.Equal(p.markers, []string{"t-0 pid=1 epoch=1 commit=false"}) {
		t.Fatalf("markers %v: want an abort with the bumped epoch", p.markers)
	}
	if err := c.EndTxn(ctx, "a", pid, epoch, true); !errors.Is(err, ErrProducerFenced) {
		t.Fatalf("the timed-out producer's commit: %v", err)
	}
	// KIP-360: the producer names its old epoch and is let back in.
	pid2, epoch2, err := c.InitProducerID(ctx, "a", 1000, pid, epoch)
	if err != nil || pid2 != pid || epoch2 != 2 {
		t.Fatalf("InitProducerID after a timeout = %d, %d, %v", pid2, epoch2, err)
	}
	if _, _, err := c.InitProducerID(ctx, "a", 1000, pid, 0); !errors.Is(err, ErrProducerFenced) {
		t.Fatalf("an older epoch again: %v", err)
	}
}

func TestJournalFailureLeavesStateUnchanged(t *testing.T) {
	ctx := context.Background()
	j, p, clk := &memJournal{}, &partitions{}, &clock{time.UnixMilli(1000)}
	c := open(t, j, p, clk)
	pid, epoch, _ := c.InitProducerID(ctx, "a", 60000, -1, -1)
	j.fail = 1
	if err := c.AddPartitions(ctx, "a", pid, epoch, []Partition{{"t", 0}}); !errors.Is(err, ErrCoordinatorNotAvailable) {
		t.Fatalf("AddPartitions with a failing journal: %v", err)
	}
	if err := c.Verify(pid, epoch, Partition{"t", 0}); err == nil {
		t.Fatal("a partition whose add was not durable accepts produce")
	}
}

func TestEpochOverflowTakesANewProducerID(t *testing.T) {
	ctx := context.Background()
	j, p, clk := &memJournal{}, &partitions{}, &clock{time.UnixMilli(1000)}
	c := open(t, j, p, clk)
	pid, _, _ := c.InitProducerID(ctx, "a", 60000, -1, -1)
	c.mu.Lock()
	e := c.txns["a"]
	st := e.st
	st.Epoch = 32766
	e.st = st
	c.mu.Unlock()
	pid2, epoch2, err := c.InitProducerID(ctx, "a", 60000, -1, -1)
	if err != nil || pid2 == pid || epoch2 != 0 {
		t.Fatalf("InitProducerID at the last epoch = %d, %d, %v; want a new id at epoch 0", pid2, epoch2, err)
	}
	if err := c.Verify(pid, 32766, Partition{"t", 0}); err == nil || errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("the old producer id still maps to the transaction: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
