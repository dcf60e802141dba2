package crash_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/testbroker"
)

// Compaction under SIGKILL: the broker runs an eager cleaner (a pass as
// soon as the previous one ends, tiny segments) over a compacted topic
// while idempotent acks=all producers keep rewriting a fixed set of keys,
// each key's versions increasing. It is killed at random moments, so kills
// land inside passes — while cleaned segments are written, renamed into
// place, or checkpointed — and restarted on the same directory. Replaying
// the topic from the start must then give, for every key acknowledged at
// least once, a value at least as new as its newest acknowledged version:
// compaction may drop what is superseded, never a key's latest state.

const (
	compactTopic      = "compacted"
	compactPartitions = 2
	keysPerProducer   = 200
	compactProducers  = 3
)

// compactFlags make the cleaner run continuously.
var compactFlags = append([]string{"--log.cleaner.backoff", "10ms"}, brokerFlags...)

// versions is the ledger of a compaction run: per key, the newest
// version acknowledged, and the newest version read back so far.
type versions struct {
	mu    sync.Mutex
	acked map[string]int
	seen  map[string]int
}

// compactValue names the key and version, padded to 100-300 bytes so the
// active segment holds fewer records than there are keys: most keys' latest
// versions are in sealed segments, which the cleaner rewrites.
func compactValue(key string, v int) []byte {
	return fmt.Appendf(nil, "%s v=%09d|%s", key, v, strings.Repeat("x", 100+(v*37)%200))
}

func parseVersion(value []byte) (int, bool) {
	_, rest, ok := strings.Cut(string(value), " v=")
	if !ok || len(rest) < 9 {
		return 0, false
	}
	var v int
	_, err := fmt.Sscanf(rest[:9], "%d", &v)
	return v, err == nil
}

// rewriteKeys runs one producer over its keys until stop closes: version
// after version of every key.
func rewriteKeys(t *testing.T, addr string, id int, vs *versions, stop <-chan struct{}, wg *sync.WaitGroup) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(compactTopic),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.MaxBufferedRecords(2*inFlightPerProducer), kgo.DialTimeout(2*time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		sem := make(chan struct{}, inFlightPerProducer)
		var promises sync.WaitGroup
		defer promises.Wait()
		vs.mu.Lock()
		base := 0
		for k := range keysPerProducer {
			base = max(base, vs.acked[fmt.Sprintf("p%d-k%03d", id, k)])
		}
		vs.mu.Unlock()
		for v := base + 1; ; v++ {
			for k := range keysPerProducer {
				// A quarter of the keys per round: a key's latest version
				// often lies well before the active segment.
				if (k*7+v)%4 != 0 {
					continue
				}
				select {
				case <-stop:
					return
				case sem <- struct{}{}:
				}
				key := fmt.Sprintf("p%d-k%03d", id, k)
				promises.Add(1)
				cl.Produce(context.Background(), &kgo.Record{Key: []byte(key), Value: compactValue(key, v)}, func(_ *kgo.Record, err error) {
					defer promises.Done()
					<-sem
					if err != nil {
						return
					}
					vs.mu.Lock()
					vs.acked[key] = max(vs.acked[key], v)
					vs.mu.Unlock()
				})
			}
		}
	}()
	return cl
}

// TestCompactionSurvivesSIGKILL is described at the top of the file.
func TestCompactionSurvivesSIGKILL(t *testing.T) {
	noLeaks(t)
	n, sd := iterations(t), seed(t)
	t.Logf("seed %d (TERN_CRASH_SEED), %d iterations (TERN_CRASH_ITERATIONS)", sd, n)
	rng := rand.New(rand.NewPCG(sd, 7))
	p := testbroker.StartProcess(t, t.TempDir(), compactFlags...)
	runs := watch(t, p, sd)
	func() {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		cl, err := kgo.NewClient(kgo.SeedBrokers(p.Addr))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		resp, err := kadm.NewClient(cl).CreateTopic(ctx, compactPartitions, 1, map[string]*string{
			"cleanup.policy":            kadm.StringPtr("compact"),
			"segment.bytes":             kadm.StringPtr("32768"),
			"min.cleanable.dirty.ratio": kadm.StringPtr("0.01"),
		}, compactTopic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatalf("create topic: %v", err)
		}
	}()
	vs := &versions{acked: map[string]int{}, seen: map[string]int{}}
	cleanedTotal, finishedSwaps, midPass := 0, 0, 0
	// Beyond the asked iterations, go on (up to maxCycles) until a kill
	// has landed inside a pass: its files are then on disk at the kill.
	const maxCycles = 30
	for cycle := 1; cycle <= n || (midPass == 0 && cycle <= maxCycles); cycle++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var clients []*kgo.Client
		for i := range compactProducers {
			clients = append(clients, rewriteKeys(t, p.Addr, i, vs, stop, &wg))
		}
		// Kill once the cleaner is busy: it has cleaned this run already.
		if !waitFor(30*time.Second, func() bool { return strings.Count(p.Output(), "log cleaner: cleaned log") >= 2 }) {
			t.Errorf("cycle %d: the cleaner cleaned nothing within 30s", cycle)
		}
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		p.Kill()
		cleaned := strings.Count(p.Output(), "log cleaner: cleaned log")
		cleanedTotal += cleaned
		leftovers := 0
		for part := range compactPartitions {
			for _, pat := range []string{"*.cleaned", "*.swap"} {
				m, _ := filepath.Glob(filepath.Join(p.Dir, fmt.Sprintf("%s-%d", compactTopic, part), pat))
				leftovers += len(m)
			}
		}
		if leftovers > 0 {
			midPass++
		}
		runs.save()
		close(stop)
		for _, cl := range clients {
			waitOrFail(t, "producer Close", cl.Close)
		}
		waitOrFail(t, "producers", wg.Wait)

		p.Start()
		finished := strings.Count(p.Output(), "finished an interrupted segment swap")
		finishedSwaps += finished
		// As recovered, then once the cleaner has gone over every
		// partition again with no producer writing: that pass reaches
		// every key whose latest version is sealed.
		verifyCompacted(t, p.Addr, vs)
		if !waitFor(30*time.Second, func() bool {
			for part := range compactPartitions {
				if !strings.Contains(p.Output(), fmt.Sprintf("log=%s-%d", compactTopic, part)) {
					return false
				}
			}
			return true
		}) {
			t.Errorf("cycle %d: the cleaner did not clean every partition after the restart", cycle)
		}
		records, keys := verifyCompacted(t, p.Addr, vs)
		t.Logf("cycle %d: %d passes cleaned a log before the kill, which left %d files of a pass in progress; on restart %d interrupted swaps finished; %d records hold %d keys, none behind its last acknowledged version",
			cycle, cleaned, leftovers, finished, records, keys)
		if t.Failed() {
			t.Fatalf("cycle %d of %d (seed %d) failed", cycle, n, sd)
		}
		if countLines(p.Output(), "level=ERROR") > 0 {
			t.Errorf("cycle %d: broker logged an error after recovery", cycle)
		}
	}
	if err := p.Stop(); err != nil {
		t.Errorf("final SIGTERM: %v", err)
	}
	t.Logf("kills under compaction survived: %d cleaning passes, %d kills inside a pass, %d swaps finished by recovery", cleanedTotal, midPass, finishedSwaps)
	if midPass == 0 {
		t.Logf("no kill landed inside a pass in %d cycles (timing); the storage and compact packages crash every step deterministically", maxCycles)
	}
}

// verifyCompacted replays the topic from the start with a fresh client:
// every acknowledged key must be there, at a version at least its last
// acknowledged one and never older than what an earlier replay saw.
func verifyCompacted(t *testing.T, addr string, vs *versions) (records, keys int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DialTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, compactTopic)
	if err != nil {
		t.Fatal(err)
	}
	offsets := map[int32]kgo.Offset{}
	want := map[int32]int64{}
	for part := range int32(compactPartitions) {
		e, _ := ends.Lookup(compactTopic, part)
		offsets[part] = kgo.NewOffset().At(0)
		want[part] = e.Offset
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DialTimeout(2*time.Second),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{compactTopic: offsets}))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	latest := map[string]int{}
	last := map[int32]int64{}
	done := func() bool {
		for part, end := range want {
			if end > 0 && last[part] < end-1 {
				return false
			}
		}
		return true
	}
	for part := range want {
		last[part] = -1
	}
	for !done() {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("replay stopped at %v, ends %v", last, want)
		}
		fs.EachError(func(_ string, part int32, err error) { t.Fatalf("fetch partition %d: %v", part, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset <= last[r.Partition] {
				t.Fatalf("partition %d: offset %d after %d", r.Partition, r.Offset, last[r.Partition])
			}
			last[r.Partition] = r.Offset
			records++
			v, ok := parseVersion(r.Value)
			if !ok || !strings.HasPrefix(string(r.Value), string(r.Key)+" ") {
				t.Fatalf("partition %d offset %d: record %q=%q is not one the test wrote", r.Partition, r.Offset, r.Key, r.Value)
			}
			latest[string(r.Key)] = v
		})
	}
	vs.mu.Lock()
	defer vs.mu.Unlock()
	bad := &problems{t: t}
	defer bad.summary()
	for key, acked := range vs.acked {
		got, ok := latest[key]
		switch {
		case !ok:
			bad.add("key lost", "%s acknowledged at version %d is gone", key, acked)
		case got < acked:
			bad.add("key went back", "%s at version %d, acknowledged %d", key, got, acked)
		case got < vs.seen[key]:
			bad.add("key went back", "%s at version %d, an earlier replay read %d", key, got, vs.seen[key])
		}
		vs.seen[key] = max(vs.seen[key], got)
	}
	return records, len(latest)
}
