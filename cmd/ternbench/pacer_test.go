package main

import (
	"context"
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	ctx := context.Background()
	if !newPacer(0).wait(ctx, 1<<40) {
		t.Fatal("an unpaced publisher was held back")
	}
	p := newPacer(1000) // message n is due n ms after start
	if !p.wait(ctx, 0) {
		t.Fatal("message 0 was held back")
	}
	if !p.wait(ctx, 40) {
		t.Fatal("message 40 refused")
	}
	if el := time.Since(p.start); el < 40*time.Millisecond {
		t.Fatalf("message 40 of a 1000 msgs/s pace sent after %v, want >= 40ms", el)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if p.wait(cctx, 1<<20) {
		t.Fatal("wait for a message due in 17 min returned true on a cancelled context")
	}
}
