package group

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func consumerJoin(group, member string, topics ...string) ConsumerHeartbeatRequest {
	return ConsumerHeartbeatRequest{Group: group, MemberID: member, RebalanceTimeoutMs: 30_000,
		SubscribedTopics: topics, Owned: []TopicPartitions{}, Version: 1, ClientID: "c", ClientHost: "h"}
}

func consumerTestConfig(clock *fakeClock) Config {
	cfg := testConfig(clock)
	cat := newTestCatalog()
	cat.set("t1", 2)
	cfg.Topics = cat
	return cfg
}

// TestCoordinatorConsumerHeartbeat: a join is answered once its records
// are durable; on a restart the group comes back from the journal; a
// member that stops heartbeating is fenced by the timer loop.
func TestCoordinatorConsumerHeartbeat(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	j := &memJournal{}
	c := newTestCoordinator(t, consumerTestConfig(clock), j)
	ctx := context.Background()
	r := c.ConsumerHeartbeat(ctx, consumerJoin("g", "m1", "t1"))
	if r.Err != nil || r.MemberEpoch != 1 || !r.HasAssignment || len(r.Assignment) != 1 ||
		!slices.Equal(r.Assignment[0].Partitions, []int32{0, 1}) || r.HeartbeatInterval != 5*time.Second {
		t.Fatalf("join = %+v", r)
	}
	j.mu.Lock()
	n := len(j.recs)
	j.mu.Unlock()
	if n == 0 {
		t.Fatal("answered before anything was journaled")
	}
	// A keepalive changes nothing and writes nothing.
	r = c.ConsumerHeartbeat(ctx, ConsumerHeartbeatRequest{Group: "g", MemberID: "m1", MemberEpoch: 1, RebalanceTimeoutMs: -1, Version: 1, ClientID: "c", ClientHost: "h"})
	if r.Err != nil || r.HasAssignment {
		t.Fatalf("keepalive = %+v", r)
	}
	if j.appends != 1 {
		t.Fatalf("%d appends, want 1", j.appends)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c2 := newTestCoordinator(t, consumerTestConfig(clock), j)
	d := c2.ConsumerDescribe([]string{"g"})[0]
	if d.Err != nil || d.State != StateStable || d.Epoch != 1 || len(d.Members) != 1 || d.Members[0].MemberEpoch != 1 {
		t.Fatalf("after restart: %+v", d)
	}
	// The session restarted with the coordinator: 45 s later the member
	// is fenced by the timer.
	clock.Advance(46 * time.Second)
	c2.fire()
	if d := c2.ConsumerDescribe([]string{"g"})[0]; d.State != StateEmpty || d.Epoch != 2 {
		t.Fatalf("after the session expired: %+v", d)
	}
	if l := c2.List(nil); len(l) != 1 || l[0].Type != GroupTypeConsumer {
		t.Fatalf("list = %+v", l)
	}
}

// TestCoordinatorConsumerJournalFailure: a heartbeat whose records fail to
// persist is answered COORDINATOR_NOT_AVAILABLE, and the next heartbeat
// rewrites the group so a restart sees all of it.
func TestCoordinatorConsumerJournalFailure(t *testing.T) {
	j := &memJournal{}
	c := newTestCoordinator(t, consumerTestConfig(nil), j)
	ctx := context.Background()
	if r := c.ConsumerHeartbeat(ctx, consumerJoin("g", "m1", "t1")); r.Err != nil {
		t.Fatal(r.Err)
	}
	j.mu.Lock()
	j.fail = errors.New("disk on fire")
	j.mu.Unlock()
	if r := c.ConsumerHeartbeat(ctx, consumerJoin("g", "m2", "t1")); !errors.Is(r.Err, ErrCoordinatorNotAvailable) {
		t.Fatalf("join with a failing journal = %+v", r)
	}
	j.mu.Lock()
	j.fail = nil
	j.mu.Unlock()
	if r := c.ConsumerHeartbeat(ctx, ConsumerHeartbeatRequest{Group: "g", MemberID: "m1", MemberEpoch: 1, RebalanceTimeoutMs: -1, Version: 1}); r.Err != nil {
		t.Fatal(r.Err)
	}
	before := c.ConsumerDescribe([]string{"g"})[0]
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := newTestCoordinator(t, consumerTestConfig(nil), j)
	after := c2.ConsumerDescribe([]string{"g"})[0]
	if after.Epoch != before.Epoch || len(after.Members) != 2 || len(before.Members) != 2 {
		t.Fatalf("after restart %+v, before %+v", after, before)
	}
}

func TestConsumerRecordsRoundTrip(t *testing.T) {
	cg := newConsumerGroup()
	cg.epoch, cg.assignmentEpoch = 7, 6
	cg.subscribedMeta = []TopicMeta{{Name: "t1", ID: [16]byte{1}, Partitions: 3}}
	m := &consumerMember{id: "m", instanceID: "i", rackID: "r", clientID: "c", clientHost: "h",
		subscribedTopics: []string{"t1", "t2"}, subscribedRegex: "x.*", rebalanceTimeout: 5 * time.Second, serverAssignor: "range",
		epoch: 6, prevEpoch: 5, state: memberUnrevoked,
		assigned: assignment{{1}: {0, 2}}, pending: assignment{{1}: {1}}}
	cg.setMember(m)
	cg.targets["m"] = assignment{{1}: {0, 2}}
	mach := newMachine(DefaultConfig())
	for _, r := range consumerSnapshot("g", cg) {
		if err := mach.load(r); err != nil {
			t.Fatal(err)
		}
	}
	mach.finishLoad(time.Unix(0, 0))
	got := mach.groups["g"].consumer
	gm := got.members["m"]
	if got.epoch != 7 || got.assignmentEpoch != 6 || !slices.Equal(got.subscribedMeta, cg.subscribedMeta) ||
		!gm.metadataEqual(m) || !gm.assignmentEqual(m) || !got.targets["m"].equal(cg.targets["m"]) ||
		got.static["i"] != "m" || got.ownerEpoch([16]byte{1}, 1) != 6 {
		t.Fatalf("loaded %+v member %+v", got, gm)
	}
}

// FuzzDecodeConsumerRecord checks that no consumer record bytes make the
// decoders panic.
func FuzzDecodeConsumerRecord(f *testing.F) {
	cg := newConsumerGroup()
	cg.subscribedMeta = []TopicMeta{{Name: "t", ID: [16]byte{1}, Partitions: 1}}
	cg.setMember(&consumerMember{id: "m", subscribedTopics: []string{"t"}, assigned: assignment{{1}: {0}}, pending: assignment{}})
	cg.targets["m"] = assignment{{1}: {0}}
	for _, r := range consumerSnapshot("g", cg) {
		f.Add(r.Key, r.Value)
	}
	f.Fuzz(func(t *testing.T, key, value []byte) {
		m := newMachine(DefaultConfig())
		_ = m.load(JournalRecord{Key: key, Value: value})
		m.finishLoad(time.Unix(0, 0))
	})
}
