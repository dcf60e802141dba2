package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/testbroker"
)

// TestLogScenario runs the log scenario for a few hundred records against
// an in-process broker and checks the JSON line.
func TestLogScenario(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	args := []string{"-brokers", b.Addr, "-partitions", "3", "-records", "300", "-size", "100",
		"-producers", "2", "-consumers", "2", "-inflight", "16", "-linger", "1ms", "-label", "test", "log"}
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d; stderr:\n%s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one JSON line, got %d:\n%s", len(lines), stdout.String())
	}
	var r result
	dec := json.NewDecoder(strings.NewReader(lines[0]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("parse %q: %v", lines[0], err)
	}
	if r.Scenario != "log" || r.Brokers != b.Addr || r.Partitions != 3 || r.Size != 100 || r.Label != "test" {
		t.Errorf("header fields wrong: %+v", r)
	}
	if r.Records != 300 || r.ConsumedRecords != 300 || r.TargetRecords != 300 {
		t.Errorf("records = %d, consumed = %d, target = %d; want 300 each", r.Records, r.ConsumedRecords, r.TargetRecords)
	}
	if r.ProduceMBs <= 0 || r.ProduceMsgs <= 0 || r.ConsumeMBs <= 0 {
		t.Errorf("rates not positive: %+v", r)
	}
	if !(0 < r.P50Ms && r.P50Ms <= r.P99Ms && r.P99Ms <= r.P999Ms && r.P999Ms <= r.MaxMs) {
		t.Errorf("latency quantiles out of order: p50 %v p99 %v p99.9 %v max %v", r.P50Ms, r.P99Ms, r.P999Ms, r.MaxMs)
	}
	if !strings.Contains(stderr.String(), "produce MB/s") {
		t.Errorf("no table on stderr:\n%s", stderr.String())
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "Scenarios:"},
		{[]string{"nosuch"}, 2, "unknown scenario"},
		{[]string{"-partitions", "0", "log"}, 2, "-partitions"},
		{[]string{"-batch-bytes", "10", "log"}, 2, "-batch-bytes"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("run %v = %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}
