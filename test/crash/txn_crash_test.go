package crash_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/testbroker"
)

// txnProducerEnv makes the test binary a transactional producer that
// opens a transaction, writes to it, says so and waits to be killed.
const txnProducerEnv = "TERN_CRASH_TXN_PRODUCER"

func TestMain(m *testing.M) {
	if addr := os.Getenv(txnProducerEnv); addr != "" {
		if err := openTransactionAndWait(addr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func openTransactionAndWait(addr string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("crash-abandoned"),
		kgo.TransactionTimeout(2*time.Second), kgo.DefaultProduceTopic(txnTopic))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		return err
	}
	for i := range 10 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("abandoned-" + strconv.Itoa(i))}).FirstErr(); err != nil {
			return err
		}
	}
	fmt.Println("OPEN")
	time.Sleep(time.Hour) // the parent kills us here
	return nil
}

const txnTopic = "txn-crash"

var txnBrokerFlags = append([]string{"--transaction.timeout.check.interval", "100ms"}, brokerFlags...)

// txnLedger is what the transactional producer knows of its rounds.
type txnLedger struct {
	mu sync.Mutex
	// outcome of each round: "commit" or "abort" when the broker
	// acknowledged its EndTxn, "unknown" when the kill came first.
	outcome map[int]string
	size    map[int]int
}

// TestTransactionsSurviveSIGKILL: a transactional producer commits and
// aborts rounds while the broker is SIGKILLed. After each restart a
// read_committed consumer must see every acknowledged commit whole, no
// record of an aborted round, and each round whose end the kill cut off
// either whole or not at all; nothing may stay pending (the last stable
// offset reaches the log end once the producer's timeout passed).
func TestTransactionsSurviveSIGKILL(t *testing.T) {
	noLeaks(t)
	p := testbroker.StartProcess(t, t.TempDir(), txnBrokerFlags...)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	admCl, err := kgo.NewClient(kgo.SeedBrokers(p.Addr))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kadm.NewClient(admCl).CreateTopic(ctx, 3, 1, nil, txnTopic); err != nil {
		t.Fatal(err)
	}
	admCl.Close()
	l := &txnLedger{outcome: map[int]string{}, size: map[int]int{}}
	sd := seed(t)
	rng := rand.New(rand.NewPCG(sd, 1))
	t.Logf("seed %d (TERN_CRASH_SEED)", sd)
	round := 0
	for cycle := 1; cycle <= iterations(t); cycle++ {
		cl, err := kgo.NewClient(kgo.SeedBrokers(p.Addr), kgo.TransactionalID("crash-tx"),
			kgo.TransactionTimeout(2*time.Second), kgo.DefaultProduceTopic(txnTopic),
			kgo.RecordDeliveryTimeout(5*time.Second), kgo.RetryTimeout(3*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		// The producer's calls end with the broker: the kill cancels them.
		cycleCtx, cancelCycle := context.WithCancel(ctx)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				round++
				r := round
				if err := runRound(cycleCtx, cl, r, l); err != nil {
					return // the broker is gone
				}
			}
		}()
		if !waitFor(20*time.Second, func() bool { l.mu.Lock(); defer l.mu.Unlock(); return len(l.outcome) > cycle*3 }) {
			t.Fatalf("cycle %d: no transactions completed", cycle)
		}
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond) // land anywhere in a round
		p.Kill()
		close(stop)
		cancelCycle()
		<-done
		closed := make(chan struct{})
		go func() { cl.Close(); close(closed) }()
		p.Start()
		<-closed
		restarted := time.Now()
		visible := checkTxnLog(t, ctx, p.Addr, l)
		t.Logf("cycle %d: %d rounds so far; the round cut off by the kill is %s; stable %v after the restart",
			cycle, round, visible, time.Since(restarted).Round(10*time.Millisecond))
	}
	if err := p.Stop(); err != nil {
		t.Errorf("final SIGTERM: %v", err)
	}
}

// runRound is one transaction: 20 records, committed on even rounds.
func runRound(ctx context.Context, cl *kgo.Client, r int, l *txnLedger) error {
	if err := cl.BeginTransaction(); err != nil {
		return err
	}
	l.mu.Lock()
	l.outcome[r], l.size[r] = "unknown", 20
	l.mu.Unlock()
	for i := range 20 {
		cl.Produce(ctx, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: fmt.Appendf(nil, "r%d-%d", r, i)}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	commit := r%2 == 0
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		return err
	}
	l.mu.Lock()
	l.outcome[r] = map[bool]string{true: "commit", false: "abort"}[commit]
	l.mu.Unlock()
	return nil
}

// checkTxnLog waits until no transaction is pending, then reads the
// topic read_committed and checks every round against the ledger.
func checkTxnLog(t *testing.T, ctx context.Context, addr string, l *txnLedger) string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(txnTopic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	// The kill may have left the round in flight open: it is aborted (or,
	// if past its commit point, completed) within the 2 s timeout.
	if !waitFor(30*time.Second, func() bool {
		stable, err1 := adm.ListCommittedOffsets(ctx, txnTopic)
		hw, err2 := adm.ListEndOffsets(ctx, txnTopic)
		if err1 != nil || err2 != nil {
			return false
		}
		same := true
		hw.Each(func(o kadm.ListedOffset) {
			if s, _ := stable.Lookup(o.Topic, o.Partition); s.Offset != o.Offset {
				same = false
			}
		})
		return same
	}) {
		stable, _ := adm.ListCommittedOffsets(ctx, txnTopic)
		hw, _ := adm.ListEndOffsets(ctx, txnTopic)
		lt, _ := adm.DescribeTransactions(ctx, "crash-tx")
		t.Fatalf("a transaction stayed open 30s after the restart: the last stable offset never reached the log end\nstable %v\nend %v\ntransactions %+v", stable, hw, lt)
	}
	// Read until three polls in a row bring nothing: everything below the
	// last stable offset has been delivered by then.
	seen := map[int]int{}
	for idle := 0; idle < 3 && ctx.Err() == nil; {
		pctx, pcancel := context.WithTimeout(ctx, 300*time.Millisecond)
		fs := cl.PollFetches(pctx)
		pcancel()
		if fs.NumRecords() == 0 {
			idle++
			continue
		}
		idle = 0
		fs.EachRecord(func(r *kgo.Record) {
			var rd, i int
			if _, err := fmt.Sscanf(string(r.Value), "r%d-%d", &rd, &i); err != nil {
				t.Errorf("unexpected record %q", r.Value)
				return
			}
			seen[rd]++
		})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cut, last := "none", 0
	for r, outcome := range l.outcome {
		n := seen[r]
		if outcome == "unknown" && r > last {
			cut, last = fmt.Sprintf("round %d with %d of %d records visible", r, n, l.size[r]), r
		}
		switch {
		case outcome == "commit" && n != l.size[r]:
			t.Errorf("round %d was committed but %d of %d records are visible", r, n, l.size[r])
		case outcome == "abort" && n != 0:
			t.Errorf("round %d was aborted but %d records are visible", r, n)
		case outcome == "unknown" && n != 0 && n != l.size[r]:
			t.Errorf("round %d (cut off by the kill) is half visible: %d of %d", r, n, l.size[r])
		}
	}
	return cut
}

// TestAbandonedTransactionOfKilledProducer: a producer process opens a
// transaction, writes to it and is SIGKILLed. The broker aborts the
// transaction once its timeout passes: read_committed consumers never see
// its records and the last stable offset moves past them.
func TestAbandonedTransactionOfKilledProducer(t *testing.T) {
	p := testbroker.StartProcess(t, t.TempDir(), txnBrokerFlags...)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, txnTopic); err != nil {
		t.Fatal(err)
	}
	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), txnProducerEnv+"="+p.Addr)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "OPEN" {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("producer process said %q, %v", line, err)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	killed := time.Now()

	d, err := adm.DescribeTransactions(ctx, "crash-abandoned")
	if err != nil {
		t.Fatal(err)
	}
	if s := d["crash-abandoned"]; s.State != "Ongoing" {
		t.Fatalf("right after the kill the transaction is %q, want Ongoing", s.State)
	}
	if !waitFor(20*time.Second, func() bool {
		d, err := adm.DescribeTransactions(ctx, "crash-abandoned")
		return err == nil && d["crash-abandoned"].State == "CompleteAbort"
	}) {
		t.Fatal("the killed producer's transaction was not aborted within 20s of a 2s timeout")
	}
	t.Logf("aborted %v after the kill (timeout 2s, checked every 100ms)", time.Since(killed).Round(10*time.Millisecond))
	stable, err := adm.ListCommittedOffsets(ctx, txnTopic)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := stable.Lookup(txnTopic, 0); o.Offset != 11 {
		t.Fatalf("last stable offset %d, want 11 (ten records and the abort marker)", o.Offset)
	}
	rc, err := kgo.NewClient(kgo.SeedBrokers(p.Addr), kgo.ConsumeTopics(txnTopic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	pctx, pcancel := context.WithTimeout(ctx, time.Second)
	defer pcancel()
	fs := rc.PollFetches(pctx)
	if n := fs.NumRecords(); n != 0 {
		t.Fatalf("read_committed saw %d records of the aborted transaction", n)
	}
	if err := fs.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
}
