package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/testbroker"
)

// TestLogScenario runs the log scenario for a few hundred records against
// an in-process broker and checks the JSON line.
func TestLogScenario(t *testing.T) {
	b := testbroker.Start(t)
	r, _, stderr := runOne(t, "-brokers", b.Addr, "-partitions", "3", "-records", "300", "-size", "100",
		"-producers", "2", "-consumers", "2", "-inflight", "16", "-linger", "1ms", "-label", "test", "log")
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
	if !strings.Contains(stderr, "produce MB/s") {
		t.Errorf("no table on stderr:\n%s", stderr)
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
		{[]string{"-ack-every", "200", "-prefetch", "100", "queue"}, 2, "-ack-every"},
		{[]string{"-publishers", "0", "queue"}, 2, "-publishers"},
		{[]string{"-latency-loads", "0.5,2", "latency"}, 2, "-latency-loads"},
		{[]string{"-latency-loads", "x", "latency"}, 2, "-latency-loads"},
		{[]string{"-broker-pid", "1073741824", "backlog"}, 2, "-broker-pid"},
		{[]string{"-fetch-partition-bytes", "4294967296", "log"}, 2, "-fetch-partition-bytes"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("run %v = %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}

// TestAMQPScenarios runs the queue, fanout, backlog and latency scenarios tiny against an
// in-process broker and checks their JSON lines.
func TestAMQPScenarios(t *testing.T) {
	b := testbroker.Start(t)
	for _, tc := range []struct {
		scenario         string
		args             []string
		queues, deliver  int64
		publishers, cons int
	}{
		{"queue", []string{"-publishers", "2", "-consumers", "2", "-ack-every", "1"}, 1, 200, 2, 2},
		{"queue", []string{"-publishers", "1", "-consumers", "3", "-ack-every", "7", "-prefetch", "10"}, 1, 200, 1, 3},
		{"fanout", []string{"-fanout-queues", "3"}, 3, 600, 1, 3},
		{"backlog", []string{"-publishers", "2", "-consumers", "1", "-rate", "2000"}, 1, 200, 2, 1},
		{"latency", []string{"-latency-loads", "0.2,0.5"}, 1, 200, 2, 2},
		{"latency", []string{"-latency-loads", "0.2,0.5", "-latency-peak", "1000"}, 1, 200, 2, 2},
		{"backlog", []string{"-broker-pid", strconv.Itoa(os.Getpid()), "-rss-interval", "10ms"}, 1, 200, 2, 2},
		{"queue", []string{"-queue-type", "quorum"}, 1, 200, 2, 2},
	} {
		t.Run(tc.scenario+strings.Join(tc.args, ""), func(t *testing.T) {
			args := append([]string{"-amqp-url", b.AMQPURL, "-records", "200", "-size", "16",
				"-inflight", "8", "-duration", "30s", "-label", "test"}, tc.args...)
			r, line, stderr := runOne(t, append(args, tc.scenario)...)
			if strings.Contains(line, "guest:guest") || !strings.Contains(r.Brokers, b.AMQPAddr) {
				t.Errorf("broker = %q: want the URL of %s without its password", r.Brokers, b.AMQPAddr)
			}
			if r.Scenario != tc.scenario || r.Size != 16 || r.Label != "test" || int64(r.Queues) != tc.queues ||
				r.Producers != tc.publishers || r.Consumers != tc.cons || r.Inflight != 8 {
				t.Errorf("header fields wrong: %+v", r)
			}
			if r.Records != 200 || r.TargetRecords != 200 || r.ConsumedRecords != tc.deliver {
				t.Errorf("confirmed = %d, delivered = %d; want 200 and %d", r.Records, r.ConsumedRecords, tc.deliver)
			}
			if r.ProduceMsgs <= 0 || r.ConsumeMsgs <= 0 {
				t.Errorf("rates not positive: %+v", r)
			}
			if !(0 < r.P50Ms && r.P50Ms <= r.P99Ms && r.P99Ms <= r.MaxMs) {
				t.Errorf("confirm latency out of order: p50 %v p99 %v max %v", r.P50Ms, r.P99Ms, r.MaxMs)
			}
			if !(0 < r.E2EP50Ms && r.E2EP50Ms <= r.E2EP99Ms && r.E2EP99Ms <= r.E2EP999Ms && r.E2EP999Ms <= r.E2EMaxMs) {
				t.Errorf("e2e latency out of order: %+v", r)
			}
			if !strings.Contains(stderr, "deliver msg/s") {
				t.Errorf("no table on stderr:\n%s", stderr)
			}
			if sampled := slices.Contains(tc.args, "-broker-pid"); sampled != (len(r.RSS) > 0) || sampled != (r.RSSMaxMB > 0) {
				t.Errorf("rss samples %v, max %v; want some exactly when -broker-pid", r.RSS, r.RSSMaxMB)
			}
			if tc.scenario == "latency" {
				if len(r.Latency) != 2 || r.Latency[0].Load != 0.2 || r.Latency[1].Load != 0.5 {
					t.Fatalf("latency levels %+v, want loads 0.2 and 0.5", r.Latency)
				}
				peak := r.Latency[0].PeakMsgs
				for _, l := range r.Latency {
					if l.Rate < 0.99*l.Load*peak || l.Rate > 1.01*l.Load*peak || l.DeliverMsgs <= 0 ||
						!(0 < l.E2EP50Ms && l.E2EP50Ms <= l.E2EP99Ms && l.E2EP99Ms <= l.E2EP999Ms && l.E2EP999Ms <= l.E2EMaxMs) {
						t.Errorf("level %+v (peak %v)", l, peak)
					}
				}
				if given := slices.Contains(tc.args, "-latency-peak"); r.LatencyPeakGiven != given || (given && peak != 1000) || peak != r.LatencyPeakMsgs {
					t.Errorf("peak %v (given %v), levels' peak %v; want 1000 exactly when -latency-peak", r.LatencyPeakMsgs, r.LatencyPeakGiven, peak)
				}
				if !strings.Contains(stderr, "50%") {
					t.Errorf("no latency table on stderr:\n%s", stderr)
				}
			}
		})
	}
}

// runOne runs ternbench with args (bounded to a minute), requires exit
// code 0 and exactly one JSON line on stdout that decodes into a result
// with no unknown fields, and returns it with the raw line and stderr.
func runOne(t *testing.T, args ...string) (result, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("run %v = %d; stderr:\n%s", args, code, stderr.String())
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
	return r, lines[0], stderr.String()
}

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-size", "16", "queue"}, "ternbench -size 16 queue"},
		{[]string{"-amqp-url", "amqp://u:secret@h:5672/", "queue"}, "ternbench -amqp-url amqp://u:xxxxx@h:5672/ queue"},
		{[]string{"--nats-url=nats://u:secret@h:4222", "jslog"}, "ternbench --nats-url=nats://u:xxxxx@h:4222 jslog"},
		{[]string{"-label", "amqp://u:secret@h/", "log"}, "ternbench -label amqp://u:secret@h/ log"},
		{[]string{"-nats-url", "nats://s3cr3t-token@h:4222", "jslog"}, "ternbench -nats-url nats://xxxxx@h:4222 jslog"},
	} {
		if got := commandLine(tc.args); got != tc.want {
			t.Errorf("commandLine(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}
