package main

import (
	"context"
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	ctx := context.Background()
	if _, ok := newPacer(0).wait(ctx, 1<<40); !ok {
		t.Fatal("an unpaced publisher was held back")
	}
	p := newPacer(1000) // message n is due n ms after start
	if _, ok := p.wait(ctx, 0); !ok {
		t.Fatal("message 0 was held back")
	}
	due, ok := p.wait(ctx, 40)
	if !ok {
		t.Fatal("message 40 refused")
	}
	if el := time.Since(p.start); el < 40*time.Millisecond {
		t.Fatalf("message 40 of a 1000 msgs/s pace sent after %v, want >= 40ms", el)
	}
	if want := p.start.Add(40 * time.Millisecond); !due.Equal(want) {
		t.Fatalf("message 40 due at %v, want %v (start + 40ms)", due, want)
	}
	// A publisher that falls behind gets past-due times at once: its
	// latency counts from them (coordinated omission).
	late := newPacer(1000)
	late.start = late.start.Add(-time.Second)
	if due, ok := late.wait(ctx, 10); !ok || time.Since(due) < 900*time.Millisecond {
		t.Fatalf("late message: due %v ago, ok=%v; want ~990ms ago at once", time.Since(due), ok)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, ok := p.wait(cctx, 1<<20); ok {
		t.Fatal("wait for a message due in 17 min returned true on a cancelled context")
	}
}
