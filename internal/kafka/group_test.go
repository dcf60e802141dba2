package kafka_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/testbroker"
)

// member is one consumer of a group, recording what it processed.
type member struct {
	cl       *kgo.Client
	mu       sync.Mutex
	assigned map[int32]bool
	records  []*kgo.Record
}

func startMember(t *testing.T, addr, groupID, topic string, extra ...kgo.Opt) *member {
	m := &member{assigned: map[int32]bool{}}
	opts := append([]kgo.Opt{
		kgo.ConsumerGroup(groupID),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(6 * time.Second),
		kgo.HeartbeatInterval(200 * time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range a[topic] {
				m.assigned[p] = true
			}
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
			cl.CommitMarkedOffsets(ctx)
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range r[topic] {
				delete(m.assigned, p)
			}
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range l[topic] {
				delete(m.assigned, p)
			}
		}),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(100 * time.Millisecond),
		kgo.BlockRebalanceOnPoll(),
	}, extra...)
	m.cl = newClient(t, addr, opts...)
	return m
}

func (m *member) poll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	fs := m.cl.PollFetches(ctx)
	m.mu.Lock()
	fs.EachRecord(func(r *kgo.Record) {
		m.records = append(m.records, r)
		m.cl.MarkCommitRecords(r)
	})
	m.mu.Unlock()
	m.cl.AllowRebalance()
}

func (m *member) owned() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int32
	for p := range m.assigned {
		out = append(out, p)
	}
	return out
}

// waitBalanced polls every member until their assignments partition the
// topic's partitions exactly and each member has at least min of them.
func waitBalanced(t *testing.T, ctx context.Context, parts int, minEach int, ms ...*member) {
	t.Helper()
	for {
		seen := map[int32]int{}
		ok := true
		for _, m := range ms {
			m.poll(ctx)
			o := m.owned()
			if len(o) < minEach {
				ok = false
			}
			for _, p := range o {
				seen[p]++
			}
		}
		if ok && len(seen) == parts {
			for _, n := range seen {
				ok = ok && n == 1
			}
			if ok {
				return
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("group never balanced: %v", seen)
		}
	}
}

// TestGroupRebalancesAsMembersJoinAndLeave runs a 3-member group over a
// 6-partition topic: members join one by one, one leaves, and through it
// all every record is consumed, and committed offsets reach the end.
func TestGroupRebalancesAsMembersJoinAndLeave(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 90*time.Second)
	const topic, groupID, parts = "events", "workers", 6
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, parts, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	produce := func(from, to int) {
		for i := from; i < to; i++ {
			prod.Produce(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}, nil)
		}
		if err := prod.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	produce(0, 600)

	m1 := startMember(t, b.Addr, groupID, topic)
	waitBalanced(t, ctx, parts, parts, m1)
	m2 := startMember(t, b.Addr, groupID, topic)
	waitBalanced(t, ctx, parts, 1, m1, m2)
	m3 := startMember(t, b.Addr, groupID, topic)
	waitBalanced(t, ctx, parts, 2, m1, m2, m3)
	produce(600, 1200)

	// m2 leaves cleanly; the other two take over its partitions.
	for _, m := range []*member{m1, m2, m3} {
		m.poll(ctx)
	}
	m2.cl.CommitMarkedOffsets(ctx)
	m2.cl.Close()
	waitBalanced(t, ctx, parts, 1, m1, m3)
	produce(1200, 1800)

	// Drain: every value must have been processed by someone. A value may
	// be seen twice only around a rebalance (at-least-once).
	seen := map[string]int{}
	for len(seen) < 1800 {
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of 1800 distinct records", len(seen))
		}
		for _, m := range []*member{m1, m3} {
			m.poll(ctx)
		}
		seen = map[string]int{}
		for _, m := range []*member{m1, m2, m3} {
			m.mu.Lock()
			for _, r := range m.records {
				seen[string(r.Value)]++
			}
			m.mu.Unlock()
		}
	}
	for _, m := range []*member{m1, m3} {
		if err := m.cl.CommitMarkedOffsets(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Committed offsets reach the end of every partition.
	offsets, err := adm.FetchOffsets(ctx, groupID)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		o, ok := offsets.Lookup(topic, e.Partition)
		if !ok || o.At != e.Offset {
			t.Errorf("partition %d: committed %v, end %d", e.Partition, o.At, e.Offset)
		}
	})
	described, err := adm.DescribeGroups(ctx, groupID)
	if err != nil {
		t.Fatal(err)
	}
	if g := described[groupID]; g.State != "Stable" || len(g.Members) != 2 {
		t.Fatalf("group %s with %d members, want Stable with 2", g.State, len(g.Members))
	}
}

// TestCommittedOffsetsSurviveRestart commits, restarts the broker, and
// checks a new member of the group resumes where the old one stopped.
func TestCommittedOffsetsSurviveRestart(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 60*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "resume"); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addr, kgo.DefaultProduceTopic("resume"))
	for i := 0; i < 100; i++ {
		prod.Produce(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	m := startMember(t, b.Addr, "resumers", "resume")
	for len(m.records) < 100 {
		if ctx.Err() != nil {
			t.Fatal("did not consume 100 records")
		}
		m.poll(ctx)
	}
	if err := m.cl.CommitMarkedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	m.cl.Close()
	before, err := adm.FetchOffsets(ctx, "resumers")
	if err != nil {
		t.Fatal(err)
	}

	b.Restart()

	after, err := kadm.NewClient(newClient(t, b.Addr)).FetchOffsets(ctx, "resumers")
	if err != nil {
		t.Fatal(err)
	}
	before.Each(func(o kadm.OffsetResponse) {
		a, ok := after.Lookup(o.Topic, o.Partition)
		if !ok || a.At != o.At {
			t.Errorf("%s-%d: committed %d before restart, %v after", o.Topic, o.Partition, o.At, a.At)
		}
	})
	prod2 := newClient(t, b.Addr, kgo.DefaultProduceTopic("resume"))
	if err := prod2.ProduceSync(ctx, &kgo.Record{Value: []byte("new")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	m2 := startMember(t, b.Addr, "resumers", "resume")
	for len(m2.records) == 0 {
		if ctx.Err() != nil {
			t.Fatal("resumed member saw nothing")
		}
		m2.poll(ctx)
	}
	if len(m2.records) != 1 || string(m2.records[0].Value) != "new" {
		t.Fatalf("resumed member saw %d records, first %q; want only the new one", len(m2.records), m2.records[0].Value)
	}
}

// TestStaticMemberRejoinsWithoutRebalance restarts a static member
// (group.instance.id) within its session: it gets its partitions back
// and the other member's generation does not change.
func TestStaticMemberRejoinsWithoutRebalance(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 60*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 4, 1, nil, "static"); err != nil {
		t.Fatal(err)
	}
	// An eager balancer: with cooperative-sticky, a member that closes
	// while it owes a rejoin leaves the group on purpose.
	eager := kgo.Balancers(kgo.RangeBalancer())
	a := startMember(t, b.Addr, "statics", "static", kgo.InstanceID("a"), eager)
	bm := startMember(t, b.Addr, "statics", "static", kgo.InstanceID("b"), eager)
	waitBalanced(t, ctx, 4, 1, a, bm)
	gen := func() int32 {
		_, g := a.cl.GroupMetadata()
		return g
	}
	before := gen()
	owned := bm.owned()
	// A static member's Close does not send LeaveGroup; a restart with the
	// same instance id replaces it in place.
	bm.cl.Close()
	b2 := startMember(t, b.Addr, "statics", "static", kgo.InstanceID("b"), eager)
	waitBalanced(t, ctx, 4, 1, a, b2)
	if after := gen(); after != before {
		t.Fatalf("generation moved from %d to %d: the static rejoin rebalanced", before, after)
	}
	if got := b2.owned(); len(got) != len(owned) {
		t.Fatalf("restarted static member owns %v, before %v", got, owned)
	}
}
