package group

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// memJournal is an in-memory Journal (the real one is the broker's storage
// log); it can be told to fail appends.
type memJournal struct {
	mu      sync.Mutex
	recs    []JournalRecord
	fail    error
	appends int
}

func (j *memJournal) Append(ctx context.Context, recs []JournalRecord) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.appends++
	if j.fail != nil {
		return j.fail
	}
	for _, r := range recs {
		j.recs = append(j.recs, JournalRecord{Key: slices.Clone(r.Key), Value: slices.Clone(r.Value)})
	}
	return nil
}

func (j *memJournal) Replay(fn func(JournalRecord) error) error {
	j.mu.Lock()
	recs := slices.Clone(j.recs)
	j.mu.Unlock()
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func testConfig(clock *fakeClock) Config {
	cfg := DefaultConfig()
	cfg.InitialRebalanceDelay = 0
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if clock != nil {
		cfg.Now = clock.Now
	}
	return cfg
}

func newTestCoordinator(t *testing.T, cfg Config, j Journal) *Coordinator {
	t.Helper()
	c, err := NewCoordinator(cfg, j)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func joinReq(group, member, client string) JoinRequest {
	return JoinRequest{
		Group: group, MemberID: member, ClientID: client, ProtocolType: "consumer",
		Protocols:      []Protocol{{Name: "range", Metadata: subscription("t1")}},
		SessionTimeout: 10 * time.Second, RebalanceTimeout: 30 * time.Second,
	}
}

// formGroup joins and syncs a single-member group and returns its member id.
func formGroup(t *testing.T, c *Coordinator, group string) string {
	t.Helper()
	ctx := context.Background()
	jr := c.Join(ctx, joinReq(group, "", "c"))
	if jr.Err != nil {
		t.Fatalf("join: %v", jr.Err)
	}
	sr := c.Sync(ctx, SyncRequest{Group: group, MemberID: jr.MemberID, Generation: jr.Generation,
		Assignments: map[string][]byte{jr.MemberID: []byte("all")}})
	if sr.Err != nil || string(sr.Assignment) != "all" {
		t.Fatalf("sync: %+v", sr)
	}
	return jr.MemberID
}

func TestCoordinatorJoinSyncCommitFetch(t *testing.T) {
	j := &memJournal{}
	c := newTestCoordinator(t, testConfig(nil), j)
	ctx := context.Background()
	id := formGroup(t, c, "g")
	if err := c.Heartbeat("g", id, "", 1); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	gerr, errs := c.CommitOffsets(ctx, "g", id, "", 1, []OffsetCommit{{Topic: "t1", Partition: 0, Offset: 5, LeaderEpoch: 2, Metadata: "m"}})
	if gerr != nil || errs[0] != nil {
		t.Fatalf("commit: %v %v", gerr, errs)
	}
	got, err := c.FetchOffsets("g", map[string][]int32{"t1": {0, 1}})
	want := []CommittedOffset{{"t1", 0, 5, 2, "m"}, {"t1", 1, -1, -1, ""}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("fetch = %v, %v; want %v", got, err, want)
	}
	d := c.Describe([]string{"g", "nope"})
	if d[0].State != StateStable || len(d[0].Members) != 1 || d[1].State != StateDead || d[1].Err != nil {
		t.Fatalf("describe = %+v", d)
	}
	if l := c.List([]string{"stable"}); len(l) != 1 || l[0].Group != "g" {
		t.Fatalf("list = %+v", l)
	}
	if errs := c.DeleteGroups([]string{"g"}); !errors.Is(errs[0], ErrNonEmptyGroup) {
		t.Fatalf("delete = %v", errs)
	}
	gerr, lerrs := c.Leave("g", []LeaveMember{{MemberID: id}})
	if gerr != nil || lerrs[0] != nil {
		t.Fatalf("leave: %v %v", gerr, lerrs)
	}
	if errs := c.DeleteGroups([]string{"g"}); errs[0] != nil {
		t.Fatalf("delete = %v", errs)
	}
	if got, _ := c.FetchOffsets("g", nil); len(got) != 0 {
		t.Fatalf("offsets after delete: %v", got)
	}
}

func TestCoordinatorMemberIDRequired(t *testing.T) {
	c := newTestCoordinator(t, testConfig(nil), &memJournal{})
	r := joinReq("g", "", "client")
	r.RequireKnownMemberID = true
	resp := c.Join(context.Background(), r)
	if !errors.Is(resp.Err, ErrMemberIDRequired) || resp.MemberID == "" {
		t.Fatalf("join = %+v", resp)
	}
	r.MemberID = resp.MemberID
	if resp := c.Join(context.Background(), r); resp.Err != nil || resp.MemberID != r.MemberID || resp.Generation != 1 {
		t.Fatalf("rejoin = %+v", resp)
	}
}

// TestCoordinatorRestart checks that offsets and group membership survive
// a new Coordinator over the same journal, and that a deleted group stays
// deleted.
func TestCoordinatorRestart(t *testing.T) {
	j := &memJournal{}
	clock := &fakeClock{now: time.Unix(1000, 0)}
	c, err := NewCoordinator(testConfig(clock), j)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := formGroup(t, c, "g")
	if gerr, _ := c.CommitOffsets(ctx, "g", id, "", 1, []OffsetCommit{{Topic: "t1", Partition: 3, Offset: 42, LeaderEpoch: -1}}); gerr != nil {
		t.Fatal(gerr)
	}
	if gerr, _ := c.CommitOffsets(ctx, "gone", "", "", -1, []OffsetCommit{{Topic: "t1", Partition: 0, Offset: 1}}); gerr != nil {
		t.Fatal(gerr)
	}
	if errs := c.DeleteGroups([]string{"gone"}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	c.Close()

	c2 := newTestCoordinator(t, testConfig(clock), j)
	if got, _ := c2.FetchOffsets("g", nil); !slices.Equal(got, []CommittedOffset{{"t1", 3, 42, -1, ""}}) {
		t.Fatalf("offsets after restart: %v", got)
	}
	if l := c2.List(nil); len(l) != 1 || l[0].State != StateStable {
		t.Fatalf("groups after restart: %+v", l)
	}
	if err := c2.Heartbeat("g", id, "", 1); err != nil {
		t.Fatalf("heartbeat after restart: %v", err)
	}
	sr := c2.Sync(ctx, SyncRequest{Group: "g", MemberID: id, Generation: 1})
	if string(sr.Assignment) != "all" {
		t.Fatalf("assignment after restart: %+v", sr)
	}
	// The member does not come back: its session expires on the timer.
	clock.Advance(11 * time.Second)
	c2.fire()
	if d := c2.Describe([]string{"g"}); d[0].State != StateEmpty {
		t.Fatalf("state after session expiry: %+v", d[0])
	}
}

func TestCoordinatorCorruptJournal(t *testing.T) {
	j := &memJournal{recs: []JournalRecord{{Key: []byte{0, 9, 0}}}}
	if _, err := NewCoordinator(testConfig(nil), j); !errors.Is(err, ErrCorruptRecord) {
		t.Fatalf("err = %v", err)
	}
}

func TestCoordinatorAppendFailure(t *testing.T) {
	j := &memJournal{}
	c := newTestCoordinator(t, testConfig(nil), j)
	ctx := context.Background()
	id := formGroup(t, c, "g")
	j.mu.Lock()
	j.fail = errors.New("disk on fire")
	j.mu.Unlock()
	gerr, errs := c.CommitOffsets(ctx, "g", id, "", 1, []OffsetCommit{{Topic: "t", Offset: 1}})
	if gerr != nil || !errors.Is(errs[0], ErrCoordinatorNotAvailable) {
		t.Fatalf("commit = %v %v", gerr, errs)
	}
	if got, _ := c.FetchOffsets("g", nil); len(got) != 0 {
		t.Fatalf("failed commit visible: %v", got)
	}
}

// TestCoordinatorTimerLoop uses the real clock: the loop must fire the
// rebalance timeout of a member that never rejoins.
func TestCoordinatorTimerLoop(t *testing.T) {
	cfg := testConfig(nil)
	cfg.MinSessionTimeout = time.Millisecond
	c := newTestCoordinator(t, cfg, &memJournal{})
	ctx := context.Background()
	r := joinReq("g", "", "a")
	r.SessionTimeout, r.RebalanceTimeout = time.Second, 20*time.Millisecond
	a := c.Join(ctx, r)
	c.Sync(ctx, SyncRequest{Group: "g", MemberID: a.MemberID, Generation: 1})
	// b joins; a never rejoins: after a's rebalance timeout, b is alone.
	r.ClientID = "b"
	start := time.Now()
	b := c.Join(ctx, r)
	if b.Err != nil || b.Generation != 2 || b.LeaderID != b.MemberID || len(b.Members) != 1 {
		t.Fatalf("join = %+v", b)
	}
	if el := time.Since(start); el < 15*time.Millisecond || el > 5*time.Second {
		t.Fatalf("rebalance took %v", el)
	}
}

func TestCoordinatorJoinContextCancel(t *testing.T) {
	cfg := testConfig(nil)
	cfg.InitialRebalanceDelay = time.Hour // the join phase never ends by itself
	c := newTestCoordinator(t, cfg, &memJournal{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	resp := c.Join(ctx, joinReq("g", "", "a"))
	if !errors.Is(resp.Err, context.DeadlineExceeded) {
		t.Fatalf("join = %+v", resp)
	}
	c.mu.Lock()
	n := len(c.joinWaiters)
	c.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d join waiters left", n)
	}
	// The member still counts as joined (Kafka semantics): the group is
	// preparing with one member.
	if d := c.Describe([]string{"g"}); d[0].State != StatePreparingRebalance || len(d[0].Members) != 1 {
		t.Fatalf("describe = %+v", d[0])
	}
}

func TestCoordinatorCloseUnblocksAndStops(t *testing.T) {
	before := runtime.NumGoroutine()
	cfg := testConfig(nil)
	cfg.InitialRebalanceDelay = time.Hour
	c, err := NewCoordinator(cfg, &memJournal{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan JoinResponse)
	go func() { done <- c.Join(context.Background(), joinReq("g", "", "a")) }()
	// Wait until the join is registered.
	for {
		c.mu.Lock()
		n := len(c.joinWaiters)
		c.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	c.Close()
	if resp := <-done; !errors.Is(resp.Err, ErrCoordinatorNotAvailable) {
		t.Fatalf("join after close = %+v", resp)
	}
	if err := c.Heartbeat("g", "x", "", 0); !errors.Is(err, ErrCoordinatorNotAvailable) {
		t.Fatalf("heartbeat after close = %v", err)
	}
	c.Close() // idempotent
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("goroutines: %d before, %d after Close", before, n)
	}
}

// TestCoordinatorConcurrent runs many groups' members at once under -race:
// each joins, syncs, heartbeats, commits and leaves.
func TestCoordinatorConcurrent(t *testing.T) {
	j := &memJournal{}
	c := newTestCoordinator(t, testConfig(nil), j)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const groups, members = 4, 3
	var wg sync.WaitGroup
	for g := range groups {
		for m := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				group := fmt.Sprintf("g%d", g)
				r := joinReq(group, "", fmt.Sprintf("c%d", m))
				for {
					jr := c.Join(ctx, r)
					if jr.Err != nil {
						t.Errorf("join: %v", jr.Err)
						return
					}
					r.MemberID = jr.MemberID
					var assign map[string][]byte
					if jr.LeaderID == jr.MemberID {
						assign = map[string][]byte{}
						for _, mm := range jr.Members {
							assign[mm.MemberID] = []byte(mm.MemberID)
						}
					}
					sr := c.Sync(ctx, SyncRequest{Group: group, MemberID: jr.MemberID, Generation: jr.Generation, Assignments: assign})
					if errors.Is(sr.Err, ErrRebalanceInProgress) {
						continue
					}
					if sr.Err != nil {
						t.Errorf("sync: %v", sr.Err)
						return
					}
					if err := c.Heartbeat(group, jr.MemberID, "", jr.Generation); errors.Is(err, ErrRebalanceInProgress) || errors.Is(err, ErrIllegalGeneration) {
						continue
					}
					gerr, _ := c.CommitOffsets(ctx, group, jr.MemberID, "", jr.Generation, []OffsetCommit{{Topic: "t", Partition: int32(m), Offset: 1}})
					if gerr != nil && !errors.Is(gerr, ErrRebalanceInProgress) && !errors.Is(gerr, ErrIllegalGeneration) {
						t.Errorf("commit: %v", gerr)
					}
					c.Describe([]string{group})
					c.List(nil)
					c.FetchOffsets(group, nil)
					c.Leave(group, []LeaveMember{{MemberID: jr.MemberID}})
					return
				}
			}()
		}
	}
	wg.Wait()
	if l := c.List([]string{StateStable, StateCompletingRebalance, StatePreparingRebalance}); len(l) != 0 {
		t.Fatalf("groups not empty: %+v", l)
	}
}
