package amqp

import (
	"sync"
	"testing"
	"time"
)

func appendStr(s string) func([]byte) []byte {
	return func(b []byte) []byte { return append(b, s...) }
}

func TestOutboxTakesEverythingPendingInOrder(t *testing.T) {
	o := newOutbox(1 << 10)
	stop := make(chan struct{})
	for _, s := range []string{"a", "b", "c"} {
		if !o.add(appendStr(s)) {
			t.Fatal("add refused on an open outbox")
		}
	}
	if got := string(o.take(stop)); got != "abc" {
		t.Fatalf("take = %q, want abc", got)
	}
}

func TestOutboxBoundsPendingBytes(t *testing.T) {
	o := newOutbox(4)
	stop := make(chan struct{})
	o.add(appendStr("1234"))
	added := make(chan bool)
	go func() { added <- o.add(appendStr("5")) }()
	select {
	case <-added:
		t.Fatal("add did not wait for room past the limit")
	case <-time.After(50 * time.Millisecond):
	}
	b := o.take(stop)
	if !<-added {
		t.Fatal("add refused after room was made")
	}
	o.done(b)
	if got := string(o.take(stop)); got != "5" {
		t.Fatalf("second take = %q, want 5", got)
	}
}

func TestOutboxCloseReleasesSenders(t *testing.T) {
	o := newOutbox(1)
	o.add(appendStr("x"))
	var wg sync.WaitGroup
	results := make(chan bool, 3)
	for range 3 {
		wg.Go(func() { results <- o.add(appendStr("y")) })
	}
	time.Sleep(20 * time.Millisecond)
	o.close()
	wg.Wait()
	close(results)
	for ok := range results {
		if ok {
			t.Fatal("add after close reported success")
		}
	}
}

func TestOutboxTryAdd(t *testing.T) {
	o := newOutbox(4)
	stop := make(chan struct{})
	if !o.tryAdd(true, appendStr("h")) {
		t.Fatal("idle tryAdd refused on an empty outbox")
	}
	if o.tryAdd(true, appendStr("h")) {
		t.Fatal("idle tryAdd accepted with bytes pending")
	}
	if !o.tryAdd(false, appendStr("123")) {
		t.Fatal("tryAdd refused below the limit")
	}
	if o.tryAdd(false, appendStr("z")) {
		t.Fatal("tryAdd accepted at the limit")
	}
	if got := string(o.take(stop)); got != "h123" {
		t.Fatalf("take = %q, want h123", got)
	}
}

func TestOutboxTakeAfterStop(t *testing.T) {
	o := newOutbox(16)
	stop := make(chan struct{})
	o.add(appendStr("last"))
	close(stop)
	if got := string(o.take(stop)); got != "last" {
		t.Fatalf("take after stop = %q, want what was pending", got)
	}
	if got := o.take(stop); got != nil {
		t.Fatalf("take after stop with nothing pending = %q, want nil", got)
	}
}
