package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// Consumer groups of the KIP-848 protocol, driven by franz-go in its
// "next-gen" mode (kgo.ServerSideBalancer): the broker assigns partitions
// and moves them incrementally.

// fastGroups makes consumer-protocol members heartbeat every 100 ms, so
// reconciliation takes a fraction of a second instead of Kafka's 5 s
// intervals.
func fastGroups(c *config.Config) {
	c.Group.ConsumerHeartbeatInterval = 100 * time.Millisecond
	c.Group.ConsumerSessionTimeout = 10 * time.Second
}

// nextGen are the options of a consumer-protocol member.
func nextGen(balancer kgo.GroupBalancer) []kgo.Opt {
	return []kgo.Opt{kgo.ServerSideBalancer(), kgo.Balancers(balancer)}
}

func newTBClient(tb testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	tb.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return cl
}

// received is one record as a member processed it.
type received struct {
	partition int32
	offset    int64
	at        time.Time
}

// cgMember is a group member that polls in a goroutine of its own,
// records what it processes and when, marks it for autocommit, and
// commits before it lets partitions go.
type cgMember struct {
	cl   *kgo.Client
	stop chan struct{}
	done chan struct{}

	mu            sync.Mutex
	got           []received
	owned         map[int32]bool
	firstAssigned time.Time
}

func startCGMember(tb testing.TB, addr, groupID, topic string, extra ...kgo.Opt) *cgMember {
	tb.Helper()
	m := &cgMember{owned: map[int32]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	opts := append([]kgo.Opt{
		kgo.ConsumerGroup(groupID),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(time.Second),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(100 * time.Millisecond),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range a[topic] {
				m.owned[p] = true
			}
			if len(a[topic]) > 0 && m.firstAssigned.IsZero() {
				m.firstAssigned = time.Now()
			}
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
			if err := cl.CommitMarkedOffsets(ctx); err != nil {
				tb.Logf("commit before revoking: %v", err)
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range r[topic] {
				delete(m.owned, p)
			}
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range l[topic] {
				delete(m.owned, p)
			}
		}),
	}, extra...)
	m.cl = newTBClient(tb, addr, opts...)
	go m.loop()
	return m
}

func (m *cgMember) loop() {
	defer close(m.done)
	for {
		select {
		case <-m.stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		fs := m.cl.PollFetches(ctx)
		cancel()
		now := time.Now()
		m.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			m.got = append(m.got, received{r.Partition, r.Offset, now})
			m.cl.MarkCommitRecords(r)
		})
		m.mu.Unlock()
		m.cl.AllowRebalance()
	}
}

// close stops polling, then leaves the group (committing first, in the
// revoke callback).
func (m *cgMember) close() {
	select {
	case <-m.stop:
		return
	default:
	}
	close(m.stop)
	<-m.done
	m.cl.Close()
}

func (m *cgMember) ownedSorted() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int32
	for p := range m.owned {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func (m *cgMember) records() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.got)
}

// waitFor polls cond every 10 ms until it holds or ctx ends.
func waitFor(tb testing.TB, ctx context.Context, what string, cond func() bool) {
	tb.Helper()
	for !cond() {
		if ctx.Err() != nil {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// steadyProducer produces one record every interval, round robin over the
// topic's partitions, until stopped; it returns how many it produced.
func steadyProducer(tb testing.TB, addr, topic string, interval time.Duration) (stop func() int64) {
	prod := newTBClient(tb, addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.ProducerLinger(0))
	var n atomic.Int64
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				prod.Produce(context.Background(), &kgo.Record{Value: []byte("x")}, func(_ *kgo.Record, err error) {
					if err == nil {
						n.Add(1)
					}
				})
			}
		}
	}()
	return func() int64 {
		close(quit)
		<-done
		if err := prod.Flush(context.Background()); err != nil {
			tb.Errorf("flush: %v", err)
		}
		prod.Close()
		return n.Load()
	}
}

// joinLeave is what runJoinLeave observed.
type joinLeave struct {
	// firstAssignment is how long the joining member waited for its
	// first partitions.
	firstAssignment time.Duration
	// maxGap is the longest the steady member went without a record from
	// the partitions it kept, from the join until the group settled after
	// the leave.
	maxGap time.Duration
	// keptDuringJoin and keptDuringLeave count the records the steady
	// member processed from those partitions while the other member was
	// joining (before its first assignment) and while it was leaving.
	keptDuringJoin, keptDuringLeave int
	// duplicates and missing compare everything processed with what was
	// produced.
	duplicates, missing int
}

// runJoinLeave runs a steady member over a 6-partition topic with records
// produced every millisecond, lets a second member join, then leave, and
// checks what was processed. opts select the protocol and balancer.
func runJoinLeave(tb testing.TB, addr, topic string, opts []kgo.Opt) joinLeave {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const parts = 6
	adm := kadm.NewClient(newTBClient(tb, addr))
	defer adm.Close()
	if _, err := adm.CreateTopic(ctx, parts, 1, nil, topic); err != nil {
		tb.Fatal(err)
	}
	groupID := topic + "-group"
	stopProducing := steadyProducer(tb, addr, topic, time.Millisecond)
	a := startCGMember(tb, addr, groupID, topic, opts...)
	defer a.close()
	waitFor(tb, ctx, "the first member to own every partition and consume", func() bool {
		return len(a.ownedSorted()) == parts && len(a.records()) > 200
	})

	joinAt := time.Now()
	b := startCGMember(tb, addr, groupID, topic, opts...)
	defer b.close()
	var bFirst time.Time
	waitFor(tb, ctx, "the second member's first partitions", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		bFirst = b.firstAssigned
		return !bFirst.IsZero()
	})
	waitFor(tb, ctx, "the group to settle with two members", func() bool {
		ao, bo := a.ownedSorted(), b.ownedSorted()
		return len(ao)+len(bo) == parts && len(ao) > 0 && len(bo) > 0 && !slices.ContainsFunc(ao, func(p int32) bool { return slices.Contains(bo, p) })
	})
	kept := a.ownedSorted()
	time.Sleep(300 * time.Millisecond)

	leaveAt := time.Now()
	b.close()
	waitFor(tb, ctx, "the first member to own every partition again", func() bool { return len(a.ownedSorted()) == parts })
	backAt := time.Now()
	time.Sleep(300 * time.Millisecond)

	produced := stopProducing()
	waitFor(tb, ctx, "every record to be processed", func() bool {
		return int64(len(a.records())+len(b.records())) >= produced
	})
	a.close()

	var res joinLeave
	res.firstAssignment = bFirst.Sub(joinAt)
	seen := map[[2]int64]int{}
	for _, r := range append(a.records(), b.records()...) {
		seen[[2]int64{int64(r.partition), r.offset}]++
	}
	for _, n := range seen {
		if n > 1 {
			res.duplicates += n - 1
		}
	}
	res.missing = int(produced) - len(seen)
	last := joinAt
	for _, r := range a.records() {
		if !slices.Contains(kept, r.partition) || r.at.Before(joinAt) || r.at.After(backAt) {
			continue
		}
		res.maxGap = max(res.maxGap, r.at.Sub(last))
		last = r.at
		switch {
		case r.at.Before(bFirst):
			res.keptDuringJoin++
		case !r.at.Before(leaveAt):
			res.keptDuringLeave++
		}
	}
	res.maxGap = max(res.maxGap, backAt.Sub(last))
	return res
}

// TestConsumerGroupJoinAndLeaveWithoutPause: a member joins and later
// leaves a consumer group while records are produced every millisecond.
// Every record is processed exactly once (members commit before they let
// partitions go, and partitions move only after that), and the steady
// member never stops receiving records from the partitions it keeps: it
// processes some while the newcomer waits for its first partitions and
// while the leaver's partitions come back.
func TestConsumerGroupJoinAndLeaveWithoutPause(t *testing.T) {
	for _, bal := range []struct {
		name string
		b    kgo.GroupBalancer
	}{{"range", kgo.RangeBalancer()}, {"uniform", kgo.StickyBalancer()}} {
		t.Run(bal.name, func(t *testing.T) {
			b := testbroker.Start(t, testbroker.WithConfig(fastGroups))
			res := runJoinLeave(t, b.Addr, "steady-"+bal.name, nextGen(bal.b))
			t.Logf("first assignment after %v, longest gap of the steady member %v, records from kept partitions during join %d, during leave %d",
				res.firstAssignment, res.maxGap, res.keptDuringJoin, res.keptDuringLeave)
			if res.duplicates != 0 || res.missing != 0 {
				t.Errorf("%d records processed twice, %d never", res.duplicates, res.missing)
			}
			if res.keptDuringJoin == 0 || res.keptDuringLeave == 0 {
				t.Errorf("the steady member paused: %d records from its kept partitions during the join, %d during the leave",
					res.keptDuringJoin, res.keptDuringLeave)
			}
			adm := kadm.NewClient(newClient(t, b.Addr))
			described, err := adm.DescribeConsumerGroups(context.Background(), "steady-"+bal.name+"-group")
			if err != nil {
				t.Fatal(err)
			}
			if g := described["steady-"+bal.name+"-group"]; g.State != "Empty" || len(g.Members) != 0 {
				t.Errorf("after the members left: state %s with %d members, want Empty", g.State, len(g.Members))
			}
		})
	}
}

// TestConsumerGroupDescribedByAdmin: kadm lists the group as a consumer
// group, describes its members, epochs and assignments through
// ConsumerGroupDescribe, and reads its committed offsets; the classic
// DescribeGroups answers as Kafka does for a group of the other type.
func TestConsumerGroupDescribedByAdmin(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(fastGroups))
	ctx := ctxT(t, 60*time.Second)
	const topic, groupID = "described", "described-group"
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 4, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	for range 40 {
		prod.Produce(ctx, &kgo.Record{Value: []byte("v")}, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	m1 := startCGMember(t, b.Addr, groupID, topic, nextGen(kgo.RangeBalancer())...)
	m2 := startCGMember(t, b.Addr, groupID, topic, nextGen(kgo.RangeBalancer())...)
	t.Cleanup(m1.close)
	t.Cleanup(m2.close)
	waitFor(t, ctx, "both members to own 2 partitions and everything consumed", func() bool {
		return len(m1.ownedSorted()) == 2 && len(m2.ownedSorted()) == 2 && len(m1.records())+len(m2.records()) == 40
	})
	var g kadm.DescribedConsumerGroup
	waitFor(t, ctx, "a Stable description", func() bool {
		described, err := adm.DescribeConsumerGroups(ctx, groupID)
		if err != nil {
			t.Fatal(err)
		}
		g = described[groupID]
		return g.State == "Stable"
	})
	if g.Err != nil || g.AssignorName != "range" || len(g.Members) != 2 || g.Epoch != g.AssignmentEpoch {
		t.Fatalf("described %+v", g)
	}
	if got := g.AssignedPartitions()[topic]; len(got) != 4 {
		t.Fatalf("assigned partitions %v, want all 4", got)
	}
	for _, m := range g.Members {
		if m.MemberEpoch != g.Epoch || m.ClientHost == "" || !slices.Equal(m.SubscribedTopics, []string{topic}) ||
			len(m.Assignment[topic]) != 2 || len(m.TargetAssignment[topic]) != 2 {
			t.Fatalf("member %+v", m)
		}
	}

	listed, err := adm.ListGroupsByType(ctx, []string{"consumer"})
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := listed[groupID]; !ok || l.State != "Stable" || l.ProtocolType != "consumer" {
		t.Fatalf("consumer groups listed %v", listed)
	}
	if classic, err := adm.ListGroupsByType(ctx, []string{"classic"}); err != nil || len(classic) != 0 {
		t.Fatalf("classic groups listed %v, %v", classic, err)
	}
	if byState, err := adm.ListGroups(ctx, "stable"); err != nil || len(byState) != 1 {
		t.Fatalf("stable groups listed %v, %v", byState, err)
	}

	// DescribeGroups is for classic groups: Kafka 4 answers Dead, and from
	// v6 GROUP_ID_NOT_FOUND.
	dg, err := adm.DescribeGroups(ctx, groupID)
	if err != nil {
		t.Fatal(err)
	}
	if d := dg[groupID]; d.State != "Dead" || !errors.Is(d.Err, kerr.GroupIDNotFound) || d.ErrMessage != "Group "+groupID+" is not a classic group." {
		t.Fatalf("DescribeGroups of a consumer group: %+v", d)
	}

	for _, m := range []*cgMember{m1, m2} {
		if err := m.cl.CommitMarkedOffsets(ctx); err != nil {
			t.Fatal(err)
		}
	}
	offsets, err := adm.FetchOffsets(ctx, groupID)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	offsets.Each(func(o kadm.OffsetResponse) { total += o.At })
	if total != 40 {
		t.Fatalf("committed offsets sum to %d, want 40", total)
	}
}

// rawHeartbeat is a ConsumerGroupHeartbeat v1.
func rawHeartbeat(groupID, member string, epoch int32, topics []string, owned map[[16]byte][]int32) *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Group, req.MemberID, req.MemberEpoch = groupID, member, epoch
	if epoch == 0 {
		req.RebalanceTimeoutMillis = 30_000
		req.SubscribedTopicNames = topics
	}
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	for id, ps := range owned {
		t := kmsg.NewConsumerGroupHeartbeatRequestTopic()
		t.TopicID, t.Partitions = id, ps
		req.Topics = append(req.Topics, t)
	}
	return req
}

// TestConsumerGroupHeartbeatErrors drives the protocol by hand for the
// answers a client library never provokes: invalid requests, fenced
// epochs, offset commits and fetches with stale member epochs, and a
// client of the other protocol arriving at a group.
func TestConsumerGroupHeartbeatErrors(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(fastGroups))
	ctx := ctxT(t, 30*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	created, err := adm.CreateTopic(ctx, 2, 1, nil, "hb")
	if err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, b.Addr)
	hb := func(req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
		return c.roundTrip(req, 1).(*kmsg.ConsumerGroupHeartbeatResponse)
	}

	bad := rawHeartbeat("g", "", 0, []string{"hb"}, nil)
	if r := hb(bad); r.ErrorCode != kerr.InvalidRequest.Code || deref(r.ErrorMessage) != "MemberId can't be empty." {
		t.Fatalf("empty member id: %v %q", kerr.ErrorForCode(r.ErrorCode), deref(r.ErrorMessage))
	}
	sticky := rawHeartbeat("g", "m1", 0, []string{"hb"}, nil)
	sticky.ServerAssignor = kmsg.StringPtr("sticky")
	if r := hb(sticky); r.ErrorCode != kerr.UnsupportedAssignor.Code {
		t.Fatalf("unknown assignor: %v", kerr.ErrorForCode(r.ErrorCode))
	}

	r := hb(rawHeartbeat("g", "m1", 0, []string{"hb"}, nil))
	if r.ErrorCode != 0 || r.MemberEpoch != 1 || r.Assignment == nil || len(r.Assignment.Topics) != 1 ||
		r.Assignment.Topics[0].TopicID != created.ID || len(r.Assignment.Topics[0].Partitions) != 2 || r.HeartbeatIntervalMillis != 100 {
		t.Fatalf("join: %+v", r)
	}
	if r := hb(rawHeartbeat("g", "m1", 7, nil, map[[16]byte][]int32{created.ID: {0, 1}})); r.ErrorCode != kerr.FencedMemberEpoch.Code {
		t.Fatalf("epoch from the future: %v", kerr.ErrorForCode(r.ErrorCode))
	}

	commit := func(version int16, groupID, member string, epoch int32) int16 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Group, req.MemberID, req.Generation = groupID, member, epoch
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = "hb"
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Offset = 1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return c.roundTrip(req, version).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
	}
	for _, tc := range []struct {
		name    string
		version int16
		group   string
		member  string
		epoch   int32
		want    *kerr.Error
	}{
		{"current epoch", 9, "g", "m1", 1, nil},
		{"stale epoch", 9, "g", "m1", 0, kerr.StaleMemberEpoch},
		{"unknown member", 9, "g", "zz", 1, kerr.UnknownMemberID},
		{"consumer member below v9", 8, "g", "m1", 1, kerr.UnsupportedVersion},
		{"no such group, v9", 9, "nosuch", "m1", 1, kerr.GroupIDNotFound},
		{"no such group, v8", 8, "nosuch", "m1", 1, kerr.IllegalGeneration},
	} {
		want := int16(0)
		if tc.want != nil {
			want = tc.want.Code
		}
		if got := commit(tc.version, tc.group, tc.member, tc.epoch); got != want {
			t.Errorf("commit %s: %v, want %v", tc.name, kerr.ErrorForCode(got), tc.want)
		}
	}
	fetch := func(member string, epoch int32) *kmsg.OffsetFetchResponseGroup {
		req := kmsg.NewPtrOffsetFetchRequest()
		g := kmsg.NewOffsetFetchRequestGroup()
		g.Group, g.MemberID, g.MemberEpoch = "g", kmsg.StringPtr(member), epoch
		req.Groups = append(req.Groups, g)
		return &c.roundTrip(req, 9).(*kmsg.OffsetFetchResponse).Groups[0]
	}
	if g := fetch("m1", 1); g.ErrorCode != 0 || len(g.Topics) != 1 || g.Topics[0].Partitions[0].Offset != 1 {
		t.Fatalf("fetch with the current epoch: %+v", g)
	}
	if g := fetch("m1", 3); g.ErrorCode != kerr.StaleMemberEpoch.Code {
		t.Fatalf("fetch with a stale epoch: %v", kerr.ErrorForCode(g.ErrorCode))
	}

	// A classic member cannot join the consumer group while it has members.
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.ProtocolType, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = "g", "consumer", 10_000, 10_000
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name = "range"
	join.Protocols = append(join.Protocols, p)
	if jr := c.roundTrip(join, 9).(*kmsg.JoinGroupResponse); jr.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("classic join of a consumer group: %v", kerr.ErrorForCode(jr.ErrorCode))
	}
	// Nor a consumer member a classic group with members.
	classic := newClient(t, b.Addr, kgo.ConsumerGroup("classic"), kgo.ConsumeTopics("hb"))
	waitFor(t, ctx, "the classic group to be stable", func() bool {
		l, err := adm.ListGroups(ctx, "stable")
		_, ok := l["classic"]
		return err == nil && ok
	})
	if r := hb(rawHeartbeat("classic", "m9", 0, []string{"hb"}, nil)); r.ErrorCode != kerr.GroupIDNotFound.Code ||
		deref(r.ErrorMessage) != "Cannot upgrade classic group classic to consumer group because the online upgrade is disabled." {
		t.Fatalf("consumer join of a classic group: %v %q", kerr.ErrorForCode(r.ErrorCode), deref(r.ErrorMessage))
	}
	classic.Close()

	// Leaving empties the group; it stays, Empty, with its offsets.
	if r := hb(rawHeartbeat("g", "m1", -1, nil, nil)); r.ErrorCode != 0 || r.MemberEpoch != -1 {
		t.Fatalf("leave: %+v", r)
	}
	d := c.roundTrip(&kmsg.ConsumerGroupDescribeRequest{Groups: []string{"g", "nosuch"}}, 1).(*kmsg.ConsumerGroupDescribeResponse)
	if d.Groups[0].State != "Empty" || d.Groups[0].Epoch != 2 || d.Groups[1].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("described after the leave: %+v", d.Groups)
	}
}

// TestConsumerGroupFollowsTopicChanges: partitions added to a subscribed
// topic, and a subscribed topic created after the members joined, are
// assigned without restarting anyone.
func TestConsumerGroupFollowsTopicChanges(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) {
		fastGroups(c)
		c.AutoCreateTopics = false
	}))
	ctx := ctxT(t, 60*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "grows"); err != nil {
		t.Fatal(err)
	}
	const groupID = "follows"
	m := startCGMember(t, b.Addr, groupID, "grows", append(nextGen(kgo.StickyBalancer()), kgo.ConsumeTopics("grows", "later"))...)
	t.Cleanup(m.close)
	waitFor(t, ctx, "the member to own both partitions", func() bool { return len(m.ownedSorted()) == 2 })
	if _, err := adm.CreatePartitions(ctx, 2, "grows"); err != nil { // 2 more
		t.Fatal(err)
	}
	waitFor(t, ctx, "the new partitions to be assigned", func() bool { return len(m.ownedSorted()) == 4 })
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "later"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the new topic to be assigned", func() bool {
		described, err := adm.DescribeConsumerGroups(ctx, groupID)
		g := described[groupID]
		return err == nil && len(g.AssignedPartitions()["later"]) == 3
	})
}

// TestConsumerGroupRegexSubscription: a member subscribing with a regular
// expression (ConsumerGroupHeartbeat v1) is assigned every matching topic.
func TestConsumerGroupRegexSubscription(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(fastGroups))
	ctx := ctxT(t, 60*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	for _, topic := range []string{"metrics-cpu", "metrics-mem", "logs"} {
		if _, err := adm.CreateTopic(ctx, 2, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	const groupID = "by-regex"
	m := newClient(t, b.Addr, append(nextGen(kgo.RangeBalancer()), kgo.ConsumerGroup(groupID),
		kgo.ConsumeRegex(), kgo.ConsumeTopics("metrics-.*"))...)
	go m.PollFetches(ctx) // joins the group
	waitFor(t, ctx, "the matching topics to be assigned", func() bool {
		described, err := adm.DescribeConsumerGroups(ctx, groupID)
		if err != nil {
			return false
		}
		g := described[groupID]
		a := g.AssignedPartitions()
		return g.State == "Stable" && len(a["metrics-cpu"]) == 2 && len(a["metrics-mem"]) == 2 && len(a["logs"]) == 0 &&
			len(g.Members) == 1 && g.Members[0].SubscribedTopicRegex != nil
	})
}

// TestConsumerGroupSurvivesRestart: after a restart the group is still a
// consumer group with its epoch, members and offsets, and its member
// carries on with its partitions.
func TestConsumerGroupSurvivesRestart(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(fastGroups))
	ctx := ctxT(t, 60*time.Second)
	const topic, groupID = "durable", "durable-group"
	adm := kadm.NewClient(newClient(t, b.Addr))
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	prod := newClient(t, b.Addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	produce := func(n int) {
		for range n {
			prod.Produce(ctx, &kgo.Record{Value: []byte("v")}, nil)
		}
		if err := prod.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	produce(30)
	m := startCGMember(t, b.Addr, groupID, topic, append(nextGen(kgo.RangeBalancer()), kgo.SessionTimeout(10*time.Second))...)
	t.Cleanup(m.close)
	waitFor(t, ctx, "everything consumed", func() bool { return len(m.records()) == 30 })
	if err := m.cl.CommitMarkedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := adm.DescribeConsumerGroups(ctx, groupID)
	if err != nil {
		t.Fatal(err)
	}

	b.Restart()
	after, err := adm.DescribeConsumerGroups(ctx, groupID)
	if err != nil {
		t.Fatal(err)
	}
	g := after[groupID]
	if g.Err != nil || g.Epoch != before[groupID].Epoch || len(g.Members) != 1 || len(g.Members[0].Assignment[topic]) != 3 {
		t.Fatalf("after restart %+v, before %+v", g, before[groupID])
	}
	offsets, err := adm.FetchOffsets(ctx, groupID)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	offsets.Each(func(o kadm.OffsetResponse) { total += o.At })
	if total != 30 {
		t.Fatalf("committed offsets sum to %d after restart, want 30", total)
	}
	produce(30)
	waitFor(t, ctx, "the member to carry on after the restart", func() bool { return len(m.records()) == 60 })
	if fmt.Sprint(m.ownedSorted()) != "[0 1 2]" {
		t.Fatalf("owned %v after the restart", m.ownedSorted())
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
