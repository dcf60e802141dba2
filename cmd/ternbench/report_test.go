package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// compareLines are a small compare run: three log runs per system, one
// AMQP shape where Tern meets 3× and one where it does not, a latency
// comparison, a backlog and the disk.
func compareLines(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	add := func(v any) {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	add(map[string]any{"scenario": "env", "system": "tern", "version": "tern abc123", "detail": "--fsync always",
		"machine": "2 vCPUs", "disk": "ext4", "date": "2026-11-24T03:00Z", "load_before": "0.1 0.2 0.3", "commands": "bench/compare.sh"})
	add(map[string]any{"scenario": "env", "system": "rabbitmq", "version": "RabbitMQ 3.10.8", "detail": "defaults"})
	for i, mb := range []float64{400, 300, 500} {
		add(record{result: result{Scenario: "log", ProduceMBs: mb, ConsumeMBs: 2.5 * mb, P50Ms: 8, P99Ms: 20}, System: "tern", Phase: "max", Variant: "p6"})
		add(record{result: result{Scenario: "log", ProduceMBs: mb + 100, ConsumeMBs: mb, P50Ms: 7, P99Ms: 18}, System: "tern", Phase: "max", Variant: "p1"})
		add(record{result: result{Scenario: "jslog", ProduceMBs: 150 + float64(i), ConsumeMBs: 300}, System: "nats", Phase: "max", Variant: "stream"})
		add(map[string]any{"scenario": "disk", "method": "fio fsync=1", "mb_s": 600})
		add(map[string]any{"scenario": "disk", "method": "dd conv=fdatasync", "mb_s": 1600})
		add(map[string]any{"scenario": "disk", "method": "unparsed"}) // no rate: left out, not "met"
	}
	for _, v := range []struct {
		variant    string
		tern, peer float64
		tdel, rdel float64
		scenario   string
	}{{"classic", 60000, 15000, 48000, 15000, "queue"}, {"quorum", 60000, 27000, 48000, 19000, "queue"}} {
		add(record{result: result{Scenario: v.scenario, Size: 1024, ProduceMsgs: v.tern, ConsumeMsgs: v.tdel}, System: "tern", Phase: "max", Variant: v.variant})
		add(record{result: result{Scenario: v.scenario, Size: 1024, ProduceMsgs: v.peer, ConsumeMsgs: v.rdel}, System: "rabbitmq", Phase: "max", Variant: v.variant})
	}
	lv := func(p99 ...float64) []latencyLevel {
		var ls []latencyLevel
		for i, f := range []float64{0.1, 0.5, 0.9} {
			ls = append(ls, latencyLevel{Load: f, Rate: f * 10000, E2EP50Ms: 1, E2EP99Ms: p99[i], E2EP999Ms: 2 * p99[i]})
		}
		return ls
	}
	add(record{result: result{Scenario: "latency", Latency: lv(10, 12, 40), LatencyPeakMsgs: 10000}, System: "rabbitmq", Phase: "latency", Variant: "classic"})
	add(record{result: result{Scenario: "latency", Latency: lv(2, 4, 6), LatencyPeakMsgs: 10000, LatencyPeakGiven: true}, System: "tern", Phase: "latency-same", Variant: "classic"})
	add(record{result: result{Scenario: "latency", Latency: lv(100, 900, 1000), LatencyPeakMsgs: 10000}, System: "rabbitmq", Phase: "latency", Variant: "quorum"})
	add(record{result: result{Scenario: "latency", Latency: lv(2, 950, 6), LatencyPeakMsgs: 10000, LatencyPeakGiven: true}, System: "tern", Phase: "latency-same", Variant: "quorum"})
	add(record{result: result{Scenario: "backlog", Records: 200000, ConsumeMsgs: 50000}, System: "tern", Phase: "backlog-ref", Variant: "classic"})
	add(record{result: result{Scenario: "latency", LatencyPeakMsgs: 40000}, System: "tern", Phase: "latency", Variant: "own"})
	// RabbitMQ's backlog without RSS samples: no RSS figure, not a 0.
	add(record{result: result{Scenario: "backlog", Records: 1000, ProduceS: 1, ProduceMsgs: 1000, ConsumeMsgs: 1000}, System: "rabbitmq", Phase: "backlog", Variant: "classic"})
	add(record{result: result{Scenario: "backlog", Records: 10000000, ProduceS: 100, ProduceMsgs: 100000, ConsumeMsgs: 45000,
		RSSMaxMB: 150, RSS: []rssSample{{0, 10}, {50, 120}, {100, 140}, {150, 150}}}, System: "tern", Phase: "backlog", Variant: "classic"})
	add(map[string]any{"scenario": "env", "system": "machine", "load_after": "2.0 1.5 1.0"})
	return b.Bytes()
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "compare.jsonl")
	if err := os.WriteFile(results, compareLines(t), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"report", results}, &stdout, &stderr); code != 0 {
		t.Fatalf("report = %d: %s", code, stderr.String())
	}
	md := stdout.String()
	for _, want := range []string{
		// 60000/15000 publish but 48000/15000 = 3.2 deliver: both ≥ 3.
		"| queue 1 KiB (RabbitMQ classic): ≥ 3× RabbitMQ's msg/s | publish 4.00×, deliver 3.20× | **met** |",
		// quorum: 2.22× publish: not met.
		"| queue 1 KiB (RabbitMQ quorum): ≥ 3× RabbitMQ's msg/s | publish 2.22×, deliver 2.53× | **NOT met** |",
		"| queue 1 KiB: e2e p99 at 50 % load ≤ RabbitMQ classic's | 4.0 vs 12.0 ms at 5000 msg/s",
		"| queue 1 KiB: e2e p99 at 50 % load ≤ RabbitMQ quorum's | 950.0 vs 900.0 ms at 5000 msg/s (50 % of RabbitMQ's peak) | **NOT met** |",
		// medians: Tern p6 400 MB/s, JetStream 151: 2.65×.
		"| log produce, 6 partitions: ≥ 1.5× NATS JetStream (which does not fsync before acking) | 400 vs 151 MB/s = 2.65× | **met** |",
		"`fio fsync=1` | 400 of 600 MB/s = 67 % | **met** |",
		"`dd conv=fdatasync` | 400 of 1600 MB/s = 25 % | **NOT met** |",
		"| log consume ≥ 2× produce, 6 partitions | 2.50× | **met** |",
		// 150 MiB = 157 MB; queued: max over t ≤ 100 s = 140 MiB = 147 MB.
		"RSS < 200 MB | max 157 MB (147 MB at the end of publishing) | **met** |",
		// 45000 vs 50000 shallow = 0.90; vs the 40 000 peak = 1.12.
		"drain 45 000 msg/s vs 50 000 (a 200 000-message backlog drained the same way) = 0.90×; vs 40 000 (the most the queue sustains end to end without growing, from the latency runs) = 1.12× | **met** |",
		// 1 partition, per run: 400/500, 300/400, 500/600 → median 0.80.
		"| log consume ≥ 2× produce, 1 partition | 0.80× | **NOT met** |",
		"| Tern, 6 partitions | **400** (400, 300, 500) |",
		"| RabbitMQ 3.10.8 |",
		"Load average 0.1 0.2 0.3 before, 2.0 1.5 1.0 after",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if !strings.Contains(md, "| RabbitMQ classic | 1000 | 1000 | 1000 | – (–) | – | **–** |") {
		t.Errorf("an unsampled RSS is not shown as missing")
	}
	if strings.Contains(md, "unparsed") {
		t.Errorf("a disk method without a rate was reported")
	}
	if t.Failed() {
		t.Logf("report:\n%s", md)
	}
}

// TestReportSplice rewrites only the part between the markers, keeps the
// rest of the file, and writes the charts it links.
func TestReportSplice(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "compare.jsonl")
	if err := os.WriteFile(results, compareLines(t), 0o644); err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dir, "docs", "benchmarks.md")
	if err := os.MkdirAll(filepath.Dir(md), 0o755); err != nil {
		t.Fatal(err)
	}
	before := "# Benchmarks\n\nintro\n\n" + reportBegin + "\nstale text\n" + reportEnd + "\n\n## Afterwards\nkept\n"
	if err := os.WriteFile(md, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent: a second report replaces the first
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), []string{"report", "-md", md, "-charts", filepath.Join(dir, "docs", "img"), results}, &stdout, &stderr); code != 0 {
			t.Fatalf("report = %d: %s", code, stderr.String())
		}
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if strings.Contains(got, "stale text") || !strings.HasPrefix(got, "# Benchmarks\n\nintro\n\n"+reportBegin) ||
		!strings.HasSuffix(got, reportEnd+"\n\n## Afterwards\nkept\n") || strings.Count(got, reportBegin) != 1 {
		t.Fatalf("spliced file:\n%s", got)
	}
	for _, png := range []string{"compare-log.png", "compare-amqp.png", "compare-latency.png", "compare-backlog.png"} {
		if !strings.Contains(got, "](img/"+png+")") {
			t.Errorf("no link to img/%s", png)
		}
		if fi, err := os.Stat(filepath.Join(dir, "docs", "img", png)); err != nil || fi.Size() == 0 {
			t.Errorf("chart %s: %v", png, err)
		}
	}

	// One marker alone is a file to fix by hand, not one to guess about.
	if err := os.WriteFile(md, []byte("x\n"+reportBegin+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"report", "-md", md, results}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "one marker") {
		t.Fatalf("report with one marker = %d: %s", code, stderr.String())
	}
}

func TestReportBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"scenario\":\"log\"}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.jsonl")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report"}, 2, "Usage"},
		{[]string{"report", bad}, 1, "line 2"},
		{[]string{"report", empty}, 1, "empty"},
		{[]string{"report", filepath.Join(dir, "missing")}, 1, "no such file"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v = %d, %q; want %d, %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		d    int
		want string
	}{{1234, 0, "1234"}, {12345, 0, "12 345"}, {1234567.891, 1, "1 234 567.9"}, {-54321, 0, "-54 321"}, {math.NaN(), 1, "–"}, {0.5, 2, "0.50"}} {
		if got := num(tc.v, tc.d); got != tc.want {
			t.Errorf("num(%v, %d) = %q, want %q", tc.v, tc.d, got, tc.want)
		}
	}
}
