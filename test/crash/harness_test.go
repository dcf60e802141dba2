// Package crash_test kills a real tern process (the binary, run by
// testbroker.StartProcess) with SIGKILL while franz-go producers write to
// it, restarts it on the same data directory, and checks the log against
// a ledger of everything the broker acknowledged:
//
//   - every acknowledged record is present, at exactly its acknowledged
//     partition and offset;
//   - per producer and partition, sequence numbers increase (order holds);
//   - no record appears twice (idempotent producers, torn-tail recovery);
//   - offsets are contiguous from 0 to the end of each partition;
//   - what a consumer read back after one restart is still there, byte for
//     byte, after the next;
//   - with a consumer group: committed offsets acknowledged before a kill
//     never go backwards, and never point past the recovered log end.
//
// A SIGKILL does not drop the page cache, so these tests prove that the
// broker acknowledges only what it has written, that recovery keeps every
// complete batch and cuts only torn tails, and that idempotent state
// survives restarts; they cannot prove that fsync happened (that needs a
// power cut, simulated by the storage package's VFS tests).
//
// TERN_CRASH_ITERATIONS sets the number of kill/restart cycles (default 3)
// and TERN_CRASH_SEED the seed of the random delays and record sizes (a
// failure prints the seed). scripts/crash-loop.sh runs a long soak.
package crash_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/testbroker"
)

const (
	topic      = "crash"
	partitions = 3
	groupName  = "crash-group"
	// producersPerCycle concurrent producers, each a separate client
	// (its own producer ID), are started in every cycle.
	producersPerCycle = 4
	// inFlightPerProducer bounds the records a producer has buffered or
	// in flight, so a dead broker cannot make Produce block.
	inFlightPerProducer = 512
	// perProducerRate paces each producer (records per second) so a long
	// soak keeps the log, the ledger and each read-back bounded.
	perProducerRate = 10000
	paceTick        = 5 * time.Millisecond
	// closeTimeout bounds every client Close and every goroutine wait.
	closeTimeout = 20 * time.Second
)

// brokerFlags are the flags every crash test gives tern serve: the
// default durability (fsync before ack), and group timings short enough
// that a new member can join quickly after a restart.
var brokerFlags = []string{
	"--fsync", "always",
	"--group.initial.rebalance.delay", "0s",
	"--group.min.session.timeout", "100ms",
	"--shutdown.timeout", "5s",
}

func iterations(t *testing.T) int {
	t.Helper()
	s := os.Getenv("TERN_CRASH_ITERATIONS")
	if s == "" {
		return 3
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("TERN_CRASH_ITERATIONS=%q: want a positive integer", s)
	}
	return n
}

func seed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("TERN_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("TERN_CRASH_SEED=%q: %v", s, err)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}

// ---- records ----

// recID names one record: the producer that wrote it (unique across the
// whole test, not only the cycle) and its sequence number there.
type recID struct {
	producer, seq int
}

func (r recID) String() string { return fmt.Sprintf("p%d/s%d", r.producer, r.seq) }

// headerLen is the length of the fixed "p=000000 s=000000000|" prefix.
const headerLen = 21

// encode is the value of record id: a fixed header naming it, then pad
// bytes so batches have varied sizes.
func encode(id recID, pad int) []byte {
	v := make([]byte, 0, headerLen+pad)
	v = fmt.Appendf(v, "p=%06d s=%09d|", id.producer, id.seq)
	for i := range pad {
		v = append(v, byte('a'+(id.seq+i)%26))
	}
	return v
}

func decode(v []byte) (recID, error) {
	if len(v) < headerLen || string(v[:2]) != "p=" || string(v[8:11]) != " s=" || v[20] != '|' {
		return recID{}, fmt.Errorf("value %q is not a crash-test record", trim(v))
	}
	p, err1 := strconv.Atoi(string(v[2:8]))
	s, err2 := strconv.Atoi(string(v[11:20]))
	if err1 != nil || err2 != nil {
		return recID{}, fmt.Errorf("value %q is not a crash-test record", trim(v))
	}
	id := recID{p, s}
	if want := encode(id, len(v)-headerLen); string(want) != string(v) {
		return recID{}, fmt.Errorf("record %v: value corrupted: %q", id, trim(v))
	}
	return id, nil
}

func trim(v []byte) []byte {
	if len(v) > 64 {
		return v[:64]
	}
	return v
}

// ---- ledger ----

type loc struct {
	partition int32
	offset    int64
}

func (l loc) String() string { return fmt.Sprintf("partition %d offset %d", l.partition, l.offset) }

type ackInfo struct {
	at    loc
	cycle int
}

// ledger is the test's record of what the broker promised, across every
// cycle of one test.
type ledger struct {
	mu       sync.Mutex
	sent     int
	acked    map[recID]ackInfo
	failed   int
	firstErr error
	// logs is each partition's content as verified after the last restart.
	logs [partitions][]recID
	// consumed holds what group members fetched: it was below the high
	// watermark, so it must survive.
	consumed map[loc]recID
	// commits is the highest offset per partition whose commit the broker
	// acknowledged, and the cycle it was acknowledged in.
	commits     map[int32]int64
	commitCount int
}

func newLedger() *ledger {
	return &ledger{acked: map[recID]ackInfo{}, consumed: map[loc]recID{}, commits: map[int32]int64{}}
}

func (l *ledger) ackCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *ledger) commitsSoFar() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.commitCount
}

// ---- producers ----

// fleet is one cycle's producers.
type fleet struct {
	t        *testing.T
	clients  []*kgo.Client
	stop     chan struct{}
	loops    sync.WaitGroup // producer goroutines
	promises sync.WaitGroup // records whose promise has not run yet
}

func startProducers(t *testing.T, addr string, cycle int, l *ledger, seed uint64) *fleet {
	t.Helper()
	f := &fleet{t: t, stop: make(chan struct{})}
	for i := range producersPerCycle {
		pid := cycle*100 + i
		rng := rand.New(rand.NewPCG(seed, uint64(pid)))
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(addr),
			kgo.DefaultProduceTopic(topic),
			kgo.RequiredAcks(kgo.AllISRAcks()), // the default, with idempotency on
			kgo.ProducerLinger(time.Duration(rng.IntN(3))*time.Millisecond),
			kgo.ProducerBatchMaxBytes(int32(16<<10+rng.IntN(48<<10))),
			kgo.MaxBufferedRecords(2*inFlightPerProducer),
			kgo.DialTimeout(2*time.Second),
			kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
		)
		if err != nil {
			t.Fatal(err)
		}
		f.clients = append(f.clients, cl)
		f.loops.Add(1)
		go f.produce(cl, pid, rng, l)
	}
	return f
}

func (f *fleet) produce(cl *kgo.Client, pid int, rng *rand.Rand, l *ledger) {
	defer f.loops.Done()
	sem := make(chan struct{}, inFlightPerProducer)
	tick := time.NewTicker(paceTick)
	defer tick.Stop()
	const perTick = int(perProducerRate * paceTick / time.Second)
	for seq := 0; ; seq++ {
		if seq%perTick == 0 && seq > 0 {
			select {
			case <-f.stop:
				return
			case <-tick.C:
			}
		}
		select {
		case <-f.stop:
			return
		case sem <- struct{}{}:
		}
		id := recID{pid, seq}
		cycle := pid / 100
		l.mu.Lock()
		l.sent++
		l.mu.Unlock()
		f.promises.Add(1)
		cl.Produce(context.Background(), &kgo.Record{Value: encode(id, rng.IntN(512))}, func(r *kgo.Record, err error) {
			defer f.promises.Done()
			<-sem
			l.mu.Lock()
			defer l.mu.Unlock()
			if err != nil {
				l.failed++
				if l.firstErr == nil {
					l.firstErr = err
				}
				return
			}
			l.acked[id] = ackInfo{loc{r.Partition, r.Offset}, cycle}
		})
	}
}

// halt stops producing, closes every client (failing what is still
// buffered: not acknowledged) and waits for every promise.
func (f *fleet) halt() {
	f.t.Helper()
	close(f.stop)
	waitOrFail(f.t, "producer loops", f.loops.Wait)
	for _, cl := range f.clients {
		waitOrFail(f.t, "producer Close", cl.Close)
	}
	waitOrFail(f.t, "produce promises", f.promises.Wait)
}

// waitOrFail runs fn and fails the test if it takes longer than
// closeTimeout (leaving fn running: a hang is a bug to report).
func waitOrFail(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeTimeout):
		t.Errorf("%s did not finish within %v", what, closeTimeout)
	}
}

// ---- consumer group ----

// member is one cycle's consumer group member: it consumes the topic and
// synchronously commits what it polled, recording each acknowledged
// commit in the ledger.
type member struct {
	t        *testing.T
	cl       *kgo.Client
	cancel   context.CancelFunc
	done     chan struct{}
	assigned chan struct{} // closed on the first assignment
}

func startMember(t *testing.T, addr string, l *ledger) *member {
	t.Helper()
	assigned := make(chan struct{})
	var once sync.Once
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			once.Do(func() { close(assigned) })
		}),
		kgo.ConsumerGroup(groupName),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.SessionTimeout(2*time.Second),
		kgo.HeartbeatInterval(200*time.Millisecond),
		kgo.RebalanceTimeout(3*time.Second),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.DialTimeout(2*time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{t: t, cl: cl, cancel: cancel, done: make(chan struct{}), assigned: assigned}
	go m.run(ctx, l)
	return m
}

func (m *member) run(ctx context.Context, l *ledger) {
	defer close(m.done)
	for ctx.Err() == nil {
		fs := m.cl.PollFetches(ctx)
		l.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			if id, err := decode(r.Value); err == nil {
				l.consumed[loc{r.Partition, r.Offset}] = id
			}
		})
		l.mu.Unlock()
		offsets := m.cl.UncommittedOffsets()
		if len(offsets) == 0 {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		m.cl.CommitOffsetsSync(cctx, offsets, func(_ *kgo.Client, req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err != nil || resp == nil {
				return
			}
			asked := map[int32]int64{}
			for _, rt := range req.Topics {
				for _, rp := range rt.Partitions {
					asked[rp.Partition] = rp.Offset
				}
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			for _, rt := range resp.Topics {
				for _, rp := range rt.Partitions {
					off, ok := asked[rp.Partition]
					if rt.Topic != topic || rp.ErrorCode != 0 || !ok {
						continue
					}
					l.commitCount++
					if prev, ok := l.commits[rp.Partition]; !ok || off > prev {
						l.commits[rp.Partition] = off
					}
				}
			}
		})
		cancel()
	}
}

// halt stops the member. The broker may be dead: leaving the group gets
// a short deadline, then Close.
func (m *member) halt() {
	m.t.Helper()
	m.cancel()
	waitOrFail(m.t, "group member poll loop", func() { <-m.done })
	waitOrFail(m.t, "group member Close", func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		m.cl.LeaveGroupContext(ctx)
		m.cl.Close()
	})
}

// ---- broker output ----

// runs keeps the output of every run of the broker process, so a failure
// shows the run that was killed as well as the one that recovered.
type runs struct {
	p    *testbroker.Process
	past []string
}

// watch dumps every run's output, and the seed, if t fails.
func watch(t *testing.T, p *testbroker.Process, seed uint64) *runs {
	r := &runs{p: p}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for i, out := range r.past {
			t.Logf("---- broker run %d output ----\n%s", i+1, out)
		}
		t.Logf("---- broker run %d (last) output ----\n%s", len(r.past)+1, p.Output())
		t.Logf("reproduce with TERN_CRASH_SEED=%d (timing still varies)", seed)
	})
	return r
}

func (r *runs) save() { r.past = append(r.past, r.p.Output()) }

// ---- verification ----

// problems reports the first few problems of each kind, then counts.
type problems struct {
	t      *testing.T
	byKind map[string]int
}

const shownPerKind = 5

func (p *problems) add(kind, format string, args ...any) {
	p.t.Helper()
	if p.byKind == nil {
		p.byKind = map[string]int{}
	}
	p.byKind[kind]++
	if p.byKind[kind] <= shownPerKind {
		p.t.Errorf("%s: %s", kind, fmt.Sprintf(format, args...))
	}
}

func (p *problems) summary() {
	p.t.Helper()
	for _, kind := range slices.Sorted(maps.Keys(p.byKind)) {
		if n := p.byKind[kind]; n > shownPerKind {
			p.t.Errorf("%s: %d in all (first %d shown)", kind, n, shownPerKind)
		}
	}
}

// verifyStats summarises one verification.
type verifyStats struct {
	records      int // records in the log
	unacked      int // present although never acknowledged
	acked        int // acknowledged so far, over every cycle
	committed    map[int32]int64
	ends         [partitions]int64
	recoveryCuts int
}

// verify reads every partition from offset 0 with a fresh client and
// checks it against the ledger; on success it becomes the new reference
// log.
func verify(t *testing.T, addr string, l *ledger, withGroup bool) verifyStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var st verifyStats
	bad := &problems{t: t}
	defer bad.summary()

	admCl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DialTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		t.Fatalf("list start offsets after restart: %v", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("list end offsets after restart: %v", err)
	}
	for p := range int32(partitions) {
		s, ok1 := starts.Lookup(topic, p)
		e, ok2 := ends.Lookup(topic, p)
		if !ok1 || !ok2 {
			t.Fatalf("partition %d missing from ListOffsets after restart", p)
		}
		if s.Offset != 0 {
			bad.add("log start moved", "partition %d starts at %d, want 0 (nothing deletes records)", p, s.Offset)
		}
		st.ends[p] = e.Offset
	}

	// Read everything up to the end offsets.
	cons, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {
			0: kgo.NewOffset().At(0), 1: kgo.NewOffset().At(0), 2: kgo.NewOffset().At(0),
		}}),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.DialTimeout(2*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var logs [partitions][]recID
	var valid [partitions][]bool // false where the value did not decode
	remaining := func() bool {
		for p := range partitions {
			if int64(len(logs[p])) < st.ends[p] {
				return true
			}
		}
		return false
	}
	for remaining() {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read back timed out: read %d/%d, %d/%d, %d/%d records of partitions 0, 1, 2",
				len(logs[0]), st.ends[0], len(logs[1]), st.ends[1], len(logs[2]), st.ends[2])
		}
		fs.EachError(func(tp string, p int32, err error) {
			t.Logf("read back %s/%d: fetch error (retrying): %v", tp, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			p := r.Partition
			if p < 0 || p >= partitions {
				bad.add("unknown partition", "record from partition %d", p)
				return
			}
			want := int64(len(logs[p]))
			if r.Offset < want {
				bad.add("offset repeated", "partition %d: offset %d served twice", p, r.Offset)
				return
			}
			for ; want < r.Offset; want++ {
				bad.add("offset gap", "partition %d: offset %d missing (next record is at %d)", p, want, r.Offset)
				logs[p] = append(logs[p], recID{-1, -1})
				valid[p] = append(valid[p], false)
			}
			id, err := decode(r.Value)
			if err != nil {
				bad.add("bad value", "%s: %v", loc{p, r.Offset}, err)
			}
			logs[p] = append(logs[p], id)
			valid[p] = append(valid[p], err == nil)
		})
	}

	l.mu.Lock()
	defer l.mu.Unlock()

	// (c) no duplicates, (b) order per producer and partition.
	seen := map[recID]loc{}
	type prodPart struct {
		producer  int
		partition int32
	}
	last := map[prodPart]loc{}
	lastSeq := map[prodPart]int{}
	for p := range int32(partitions) {
		for off, id := range logs[p] {
			if !valid[p][off] {
				continue
			}
			here := loc{p, int64(off)}
			st.records++
			if prev, ok := seen[id]; ok {
				bad.add("duplicate", "record %v at %s and again at %s", id, prev, here)
				continue
			}
			seen[id] = here
			k := prodPart{id.producer, p}
			if prevLoc, ok := last[k]; ok && id.seq <= lastSeq[k] {
				bad.add("order", "producer %d, partition %d: seq %d at offset %d after seq %d at offset %d",
					id.producer, p, id.seq, off, lastSeq[k], prevLoc.offset)
			}
			last[k], lastSeq[k] = here, id.seq
		}
	}

	// (a) every acknowledged record at exactly its acknowledged offset.
	ackedIDs := make([]recID, 0, len(l.acked))
	for id := range l.acked {
		ackedIDs = append(ackedIDs, id)
	}
	slices.SortFunc(ackedIDs, func(a, b recID) int {
		if a.producer != b.producer {
			return a.producer - b.producer
		}
		return a.seq - b.seq
	})
	for _, id := range ackedIDs {
		a := l.acked[id]
		p, off := a.at.partition, a.at.offset
		switch {
		case p < 0 || p >= partitions:
			bad.add("acked record lost", "record %v acknowledged in cycle %d at bad partition %d", id, a.cycle, p)
		case off >= int64(len(logs[p])):
			where := "not in the log"
			if got, ok := seen[id]; ok {
				where = "found at " + got.String()
			}
			bad.add("acked record lost", "record %v acknowledged in cycle %d at %s, past the recovered end %d; %s",
				id, a.cycle, a.at, len(logs[p]), where)
		case logs[p][off] != id:
			where := "not in the log"
			if got, ok := seen[id]; ok {
				where = "found at " + got.String()
			}
			bad.add("acked record lost", "record %v acknowledged in cycle %d at %s; that offset holds %v; the record is %s",
				id, a.cycle, a.at, logs[p][off], where)
		}
	}
	st.acked = len(l.acked)
	st.unacked = st.records
	for id := range seen {
		if _, ok := l.acked[id]; ok {
			st.unacked--
		}
	}

	// What an earlier read-back or a group member saw stays.
	for p := range partitions {
		prev := l.logs[p]
		if len(prev) > len(logs[p]) {
			bad.add("verified log shrank", "partition %d had %d records after the last restart, now %d", p, len(prev), len(logs[p]))
		}
		for off := range min(len(prev), len(logs[p])) {
			if prev[off] != logs[p][off] {
				bad.add("verified log changed", "partition %d offset %d: was %v, now %v", p, off, prev[off], logs[p][off])
			}
		}
	}
	for at, id := range l.consumed {
		if at.offset >= int64(len(logs[at.partition])) || logs[at.partition][at.offset] != id {
			got := "past the end"
			if at.offset < int64(len(logs[at.partition])) {
				got = logs[at.partition][at.offset].String()
			}
			bad.add("consumed record lost", "group member fetched %v at %s; now %s", id, at, got)
		}
	}

	// Committed offsets never go backwards, nor past the log end.
	if withGroup {
		l.mu.Unlock()
		committed, err := adm.FetchOffsets(ctx, groupName)
		if err == nil {
			err = committed.Error()
		}
		l.mu.Lock()
		if err != nil {
			t.Fatalf("fetch committed offsets after restart: %v", err)
		}
		st.committed = map[int32]int64{}
		for p := range int32(partitions) {
			got := int64(-1)
			if o, ok := committed.Lookup(topic, p); ok {
				got = o.At
			}
			st.committed[p] = got
			if want, ok := l.commits[p]; ok && got < want {
				bad.add("commit went backwards", "group %s partition %d: commit of %d was acknowledged, after restart the committed offset is %d",
					groupName, p, want, got)
			}
			if got > st.ends[p] {
				bad.add("commit past end", "group %s partition %d: committed %d, log end %d", groupName, p, got, st.ends[p])
			}
		}
	}

	if !t.Failed() {
		l.logs = logs
	}
	return st
}

// countLines counts lines of out containing any of subs.
func countLines(out string, subs ...string) int {
	n := 0
	for line := range strings.Lines(out) {
		for _, s := range subs {
			if strings.Contains(line, s) {
				n++
				break
			}
		}
	}
	return n
}

// noLeaks fails t if goroutines started during it are still running
// after its other cleanups (registered later, so run earlier) are done.
func noLeaks(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		if waitFor(5*time.Second, func() bool { return runtime.NumGoroutine() <= base }) {
			return
		}
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines at the start, %d after the test:\n%s", base, runtime.NumGoroutine(), buf)
	})
}

// waitFor polls cond every 10ms for at most d.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
