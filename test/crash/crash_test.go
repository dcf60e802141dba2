package crash_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/testbroker"
)

// recoveryMarkers are the storage package's warnings when it recovers a
// log instead of trusting a clean shutdown (internal/storage/recovery.go),
// and its truncation line (truncate.go). Matched in lower case.
var recoveryMarkers = []string{"truncat", "recover", "cut torn", "rebuilding"}

// tornTail is the warning logged when recovery cuts a torn batch.
const tornTail = "storage: cut torn or corrupt tail"

// startBroker runs the tern binary on a fresh directory and creates the
// test topic.
func startBroker(t *testing.T) *testbroker.Process {
	t.Helper()
	p := testbroker.StartProcess(t, t.TempDir(), brokerFlags...)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Addr), kgo.DialTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	return p
}

// TestAckedRecordsSurviveSIGKILL kills the broker with SIGKILL while four
// idempotent acks=all producers write to it, restarts it on the same
// directory and checks that every acknowledged record is where it was
// acknowledged, in order, once, with no offset gap; TERN_CRASH_ITERATIONS
// times on the same directory. The group variant also runs a consumer
// group member that commits what it reads: an acknowledged commit must
// survive.
func TestAckedRecordsSurviveSIGKILL(t *testing.T) {
	t.Run("producers", func(t *testing.T) { killCycles(t, false) })
	t.Run("with-group", func(t *testing.T) { killCycles(t, true) })
}

func killCycles(t *testing.T, withGroup bool) {
	noLeaks(t)
	n, sd := iterations(t), seed(t)
	t.Logf("seed %d (TERN_CRASH_SEED), %d iterations (TERN_CRASH_ITERATIONS)", sd, n)
	rng := rand.New(rand.NewPCG(sd, 0))
	p := startBroker(t)
	runs := watch(t, p, sd)
	l := newLedger()
	began := time.Now()
	totalCuts := 0
	for cycle := 1; cycle <= n; cycle++ {
		acksBefore, commitsBefore := l.ackCount(), l.commitsSoFar()
		var m *member
		if withGroup {
			// Join before producing: after a restart the group waits
			// for the killed member, and the log need not grow meanwhile.
			m = startMember(t, p.Addr, l)
			select {
			case <-m.assigned:
			case <-time.After(30 * time.Second):
				t.Errorf("cycle %d: group member got no assignment within 30s", cycle)
			}
		}
		f := startProducers(t, p.Addr, cycle, l, sd)
		// Load is flowing (and, with a group, commits are) before the
		// countdown starts, so every cycle kills a busy broker.
		if !waitFor(20*time.Second, func() bool { return l.ackCount() > acksBefore }) {
			t.Errorf("cycle %d: no record acknowledged within 20s", cycle)
		}
		if withGroup && !waitFor(20*time.Second, func() bool { return l.commitsSoFar() > commitsBefore }) {
			t.Errorf("cycle %d: no offset commit acknowledged within 20s", cycle)
		}
		delay := time.Duration(200+rng.IntN(601)) * time.Millisecond
		time.Sleep(delay)

		p.Kill()
		runs.save()
		f.halt()
		if m != nil {
			m.halt()
		}
		if t.Failed() {
			t.Fatalf("cycle %d: stopping before restart", cycle)
		}

		p.Start()
		st := verify(t, p.Addr, l, withGroup)
		cuts := strings.Count(p.Output(), tornTail)
		totalCuts += cuts
		l.mu.Lock()
		sent, failed := l.sent, l.failed
		firstErr := l.firstErr
		l.mu.Unlock()
		t.Logf("cycle %d: killed after %v of load; log ends %v; %d records in the log, %d acknowledged (all present), %d present but never acknowledged; %d sent, %d failed; torn tails cut on recovery: %d; committed %v",
			cycle, delay, st.ends, st.records, st.acked, st.unacked, sent, failed, cuts, st.committed)
		if t.Failed() {
			t.Fatalf("cycle %d of %d (seed %d) failed; first produce error seen: %v", cycle, n, sd, firstErr)
		}
		if countLines(p.Output(), "level=ERROR") > 0 {
			t.Errorf("cycle %d: broker logged an error after recovery", cycle)
		}
	}
	if err := p.Stop(); err != nil {
		t.Errorf("final SIGTERM: %v", err)
	}
	t.Logf("%d kills survived in %v; %d records acknowledged, none lost; %d torn tails cut", n, time.Since(began).Round(time.Millisecond), l.ackCount(), totalCuts)
}

// TestCleanShutdownOnSIGTERM stops the broker with SIGTERM under the same
// load: it must exit 0 within its shutdown timeout, keep every
// acknowledged record, and reopen without any recovery (no torn tail cut,
// no index rebuilt, clean-shutdown marker accepted).
func TestCleanShutdownOnSIGTERM(t *testing.T) {
	noLeaks(t)
	sd := seed(t)
	rng := rand.New(rand.NewPCG(sd, 1))
	p := startBroker(t)
	runs := watch(t, p, sd)
	l := newLedger()
	const shutdownTimeout = 5 * time.Second // brokerFlags
	for cycle := 1; cycle <= 2; cycle++ {
		acksBefore := l.ackCount()
		f := startProducers(t, p.Addr, cycle, l, sd)
		if !waitFor(20*time.Second, func() bool { return l.ackCount() > acksBefore }) {
			t.Errorf("cycle %d: no record acknowledged within 20s", cycle)
		}
		time.Sleep(time.Duration(200+rng.IntN(601)) * time.Millisecond)

		began := time.Now()
		err := p.Stop()
		took := time.Since(began)
		if err != nil {
			t.Fatalf("cycle %d: SIGTERM under load: %v", cycle, err)
		}
		if took > shutdownTimeout+2*time.Second {
			t.Errorf("cycle %d: SIGTERM took %v, shutdown timeout is %v", cycle, took, shutdownTimeout)
		}
		if !strings.Contains(p.Output(), "shutdown complete") {
			t.Errorf("cycle %d: no \"shutdown complete\" after SIGTERM", cycle)
		}
		runs.save()
		f.halt()

		p.Start()
		for line := range strings.Lines(p.Output()) {
			low := strings.ToLower(line)
			for _, m := range recoveryMarkers {
				if strings.Contains(low, m) {
					t.Errorf("cycle %d: restart after a clean SIGTERM recovered the log: %s", cycle, strings.TrimSpace(line))
					break
				}
			}
		}
		st := verify(t, p.Addr, l, false)
		t.Logf("cycle %d: SIGTERM exited 0 in %v; %d records, %d acknowledged (all present), %d present but never acknowledged",
			cycle, took.Round(time.Millisecond), st.records, st.acked, st.unacked)
		if t.Failed() {
			t.FailNow()
		}
	}
	if err := p.Stop(); err != nil {
		t.Errorf("final SIGTERM: %v", err)
	}
}
