package crash_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ternmq/tern/internal/testbroker"
)

const (
	amqpQueue = "amqp-crash"
	// amqpPublishers publish with confirms in every cycle, each on its
	// own connection.
	amqpPublishers = 2
	// amqpWindow bounds each publisher's unconfirmed messages.
	amqpWindow = 64
	// amqpPrefetch is the crash-time consumer's basic.qos.
	amqpPrefetch = 50
)

// amqpIterations is TERN_CRASH_ITERATIONS, default 2 for the AMQP test.
func amqpIterations(t *testing.T) int {
	t.Helper()
	if os.Getenv("TERN_CRASH_ITERATIONS") == "" {
		return 2
	}
	return iterations(t)
}

// amqpLedger is what the broker confirmed and what consumers acked, by
// message body ("c<cycle>-p<publisher>-s<seq>").
type amqpLedger struct {
	mu        sync.Mutex
	published map[string]bool // sent (confirmed or not)
	confirmed map[string]bool
	acked     map[string]bool // acked by a crash-time consumer (may not have reached the broker)
	ackOrder  map[string]int  // position of each crash-time ack, counted from the test's start
	drained   map[string]bool // acked by a verification drain (a sync method followed)
	nacked    int             // basic.nack, or the channel closed with the confirm outstanding
	pubErr    error
}

func newAMQPLedger() *amqpLedger {
	return &amqpLedger{published: map[string]bool{}, confirmed: map[string]bool{}, acked: map[string]bool{}, ackOrder: map[string]int{}, drained: map[string]bool{}}
}

func (l *amqpLedger) counts() (confirmed, acked int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.confirmed), len(l.acked)
}

// amqpLoad is one cycle's publishers and consumer.
type amqpLoad struct {
	cancel context.CancelFunc
	conns  []*amqp.Connection
	wg     sync.WaitGroup
}

func dialAMQP(t *testing.T, addr string) *amqp.Connection {
	t.Helper()
	conn, err := amqp.DialConfig("amqp://guest:guest@"+addr+"/", amqp.Config{
		Dial:      amqp.DefaultDial(5 * time.Second),
		Heartbeat: 2 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return conn
}

func startAMQPLoad(t *testing.T, addr string, cycle int, l *amqpLedger) *amqpLoad {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ld := &amqpLoad{cancel: cancel}
	for p := range amqpPublishers {
		conn := dialAMQP(t, addr)
		ld.conns = append(ld.conns, conn)
		ch, err := conn.Channel()
		if err == nil {
			err = ch.Confirm(false)
		}
		if err != nil {
			t.Fatalf("publisher %d: channel/confirm.select: %v", p, err)
		}
		ld.wg.Add(1)
		go func() {
			defer ld.wg.Done()
			ld.publish(ctx, ch, cycle, p, l)
		}()
	}
	conn := dialAMQP(t, addr)
	ld.conns = append(ld.conns, conn)
	ch, err := conn.Channel()
	if err == nil {
		err = ch.Qos(amqpPrefetch, 0, false)
	}
	var dels <-chan amqp.Delivery
	if err == nil {
		dels, err = ch.Consume(amqpQueue, fmt.Sprintf("crash-consumer-%d", cycle), false, false, false, false, nil)
	}
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	ld.wg.Add(1)
	go func() {
		defer ld.wg.Done()
		for d := range dels {
			if err := d.Ack(false); err != nil {
				continue
			}
			l.mu.Lock()
			l.acked[string(d.Body)] = true
			l.ackOrder[string(d.Body)] = len(l.ackOrder)
			l.mu.Unlock()
		}
	}()
	return ld
}

// publish sends persistent messages with confirms, at most amqpWindow
// unconfirmed, until ctx ends or the connection fails.
func (ld *amqpLoad) publish(ctx context.Context, ch *amqp.Channel, cycle, p int, l *amqpLedger) {
	type pending struct {
		body string
		dc   *amqp.DeferredConfirmation
	}
	var window []pending
	settle := func(pd pending) bool {
		ok, err := pd.dc.WaitContext(ctx)
		if err != nil {
			return false
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if ok {
			l.confirmed[pd.body] = true
		} else {
			l.nacked++
		}
		return true
	}
	for seq := 0; ; seq++ {
		if ctx.Err() != nil {
			return
		}
		if len(window) >= amqpWindow {
			if !settle(window[0]) {
				return
			}
			window = window[1:]
		}
		body := fmt.Sprintf("c%d-p%d-s%d", cycle, p, seq)
		l.mu.Lock()
		l.published[body] = true
		l.mu.Unlock()
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", amqpQueue, false, false, amqp.Publishing{
			DeliveryMode: amqp.Persistent,
			ContentType:  "text/plain",
			Body:         []byte(body),
		})
		if err != nil {
			l.mu.Lock()
			if l.pubErr == nil {
				l.pubErr = err
			}
			l.mu.Unlock()
			return
		}
		window = append(window, pending{body, dc})
	}
}

// halt stops the load once the broker is dead: the clients notice the
// closed sockets; the connections are closed and the goroutines waited
// for.
func (ld *amqpLoad) halt(t *testing.T) {
	t.Helper()
	ld.cancel()
	for _, c := range ld.conns {
		_ = c.Close()
	}
	done := make(chan struct{})
	go func() { ld.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeTimeout):
		t.Fatalf("AMQP clients did not stop within %v after the kill", closeTimeout)
	}
}

// amqpDrain consumes everything in the queue with a fresh consumer,
// acking it, until nothing arrives for a second, then checks with a
// passive declare (after the acks, on the same channel) that the queue is
// empty. It returns how many times each body was delivered.
func amqpDrain(t *testing.T, addr string) map[string]int {
	t.Helper()
	conn := dialAMQP(t, addr)
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Qos(1000, 0, false); err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclarePassive(amqpQueue, true, false, false, false, nil)
	if err != nil {
		t.Fatalf("queue %s after restart: %v", amqpQueue, err)
	}
	dels, err := ch.Consume(amqpQueue, "crash-drain", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	n := 0
	deadline := time.After(60 * time.Second)
loop:
	for {
		select {
		case d, ok := <-dels:
			if !ok {
				t.Fatalf("drain: deliveries closed after %d messages", n)
			}
			got[string(d.Body)]++
			n++
			if err := d.Ack(false); err != nil {
				t.Fatalf("drain: ack: %v", err)
			}
		case <-time.After(time.Second):
			break loop
		case <-deadline:
			t.Fatalf("drain: still receiving after 60s (%d messages)", n)
		}
	}
	if n < q.Messages {
		t.Errorf("drain: queue reported %d messages after restart, consumer got %d", q.Messages, n)
	}
	if err := ch.Cancel("crash-drain", false); err != nil {
		t.Fatalf("drain: cancel: %v", err)
	}
	q, err = ch.QueueDeclarePassive(amqpQueue, true, false, false, false, nil)
	if err != nil {
		t.Fatalf("drain: passive declare: %v", err)
	}
	if q.Messages != 0 {
		t.Errorf("drain: %d messages left in %s after acking all %d delivered", q.Messages, amqpQueue, n)
	}
	return got
}

// TestAMQPConfirmedMessagesSurviveSIGKILL runs the tern binary (fsync
// always), declares a durable queue, and per cycle runs 2 publishers of
// persistent messages with publisher confirms and 1 consumer (prefetch
// 50, manual acks), SIGKILLs the broker after 300-800 ms of load,
// restarts it on the same directory and drains the queue with a fresh
// consumer. Every confirmed message that no consumer acked must be there
// (none lost), no message may be there twice, and every body must be one
// that was published. Acked messages that come back (at-least-once: an
// ack in flight at the kill, or an ack not yet durable) are counted and
// logged, not failed. TERN_CRASH_ITERATIONS cycles (default 2).
func TestAMQPConfirmedMessagesSurviveSIGKILL(t *testing.T) {
	noLeaks(t)
	n, sd := amqpIterations(t), seed(t)
	t.Logf("seed %d (TERN_CRASH_SEED), %d iterations (TERN_CRASH_ITERATIONS)", sd, n)
	rng := rand.New(rand.NewPCG(sd, 1))
	p := testbroker.StartProcess(t, t.TempDir(), brokerFlags...)
	runs := watch(t, p, sd)

	func() {
		conn := dialAMQP(t, p.AMQPAddr)
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch.QueueDeclare(amqpQueue, true, false, false, false, nil); err != nil {
			t.Fatalf("declare %s: %v", amqpQueue, err)
		}
	}()

	l := newAMQPLedger()
	for cycle := 1; cycle <= n; cycle++ {
		confBefore, ackBefore := l.counts()
		ld := startAMQPLoad(t, p.AMQPAddr, cycle, l)
		if !waitFor(20*time.Second, func() bool { c, a := l.counts(); return c > confBefore && a > ackBefore }) {
			c, a := l.counts()
			t.Errorf("cycle %d: within 20s: %d confirmed (%d before), %d acked (%d before); want both to grow", cycle, c, confBefore, a, ackBefore)
		}
		delay := time.Duration(300+rng.IntN(501)) * time.Millisecond
		time.Sleep(delay)
		p.Kill()
		runs.save()
		ld.halt(t)
		if t.Failed() {
			t.Fatalf("cycle %d: stopping before restart", cycle)
		}

		p.Start()
		got := amqpDrain(t, p.AMQPAddr)

		l.mu.Lock()
		var lost, dups, unknown, ackedBack, drainedBack []string
		unconfirmedPresent := 0
		for body, c := range got {
			if !l.published[body] {
				unknown = append(unknown, body)
				continue
			}
			if c > 1 {
				dups = append(dups, fmt.Sprintf("%s x%d", body, c))
			}
			switch {
			case l.drained[body]:
				drainedBack = append(drainedBack, body)
			case l.acked[body]:
				ackedBack = append(ackedBack, body)
			case !l.confirmed[body]:
				unconfirmedPresent++
			}
		}
		for body := range l.confirmed {
			if !l.acked[body] && !l.drained[body] && got[body] == 0 {
				lost = append(lost, body)
			}
		}
		for body := range got {
			l.drained[body] = true
		}
		// How far back the oldest returned ack was: acks sent after it
		// (an ack can only be lost in flight if few acks followed it).
		oldest := 0
		for _, body := range ackedBack {
			oldest = max(oldest, len(l.ackOrder)-1-l.ackOrder[body])
		}
		confirmed, acked, published, nacked, pubErr := len(l.confirmed), len(l.acked), len(l.published), l.nacked, l.pubErr
		l.mu.Unlock()
		sort.Strings(lost)
		sort.Strings(dups)
		sort.Strings(unknown)
		sort.Strings(ackedBack)
		sort.Strings(drainedBack)

		t.Logf("cycle %d: killed after %v of load; so far %d published, %d confirmed, %d settled unconfirmed (basic.nack, or the connection lost before the confirm), %d acked by the crash-time consumer; drained %d distinct after restart: %d confirmed-unacked lost, %d duplicated, %d unknown, %d acked-but-returned (crash-time consumer), %d returned after a verified drain ack, %d present but never confirmed; first publish error: %v",
			cycle, delay, published, confirmed, nacked, acked, len(got), len(lost), len(dups), len(unknown), len(ackedBack), len(drainedBack), unconfirmedPresent, pubErr)
		if len(ackedBack) > 0 {
			t.Logf("cycle %d: acked messages that came back (allowed, at-least-once; the oldest had %d acks sent after it): %v", cycle, oldest, headN(ackedBack))
		}
		if len(drainedBack) > 0 {
			t.Logf("cycle %d: messages acked by the previous drain (ack followed by a synchronous queue.declare on the same channel) that came back: %v", cycle, headN(drainedBack))
		}
		if len(lost) > 0 {
			t.Errorf("cycle %d: %d confirmed, never acked messages missing after restart: %v", cycle, len(lost), headN(lost))
		}
		if len(dups) > 0 {
			t.Errorf("cycle %d: %d messages in the queue more than once after restart (publishers never retry): %v", cycle, len(dups), headN(dups))
		}
		if len(unknown) > 0 {
			t.Errorf("cycle %d: %d bodies never published (corrupt?): %v", cycle, len(unknown), headN(unknown))
		}
		if c := countLines(p.Output(), "level=ERROR"); c > 0 {
			t.Errorf("cycle %d: broker logged %d errors after recovery", cycle, c)
		}
		if t.Failed() {
			t.Fatalf("cycle %d of %d (seed %d) failed", cycle, n, sd)
		}
	}
	if err := p.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

func headN(s []string) string {
	if len(s) > 10 {
		return strings.Join(s[:10], " ") + " ... (" + strconv.Itoa(len(s)) + ")"
	}
	return strings.Join(s, " ")
}
