// Package backlog_test queues a million persistent AMQP messages in a
// real tern process with no consumer attached, then drains them, and
// checks that the broker's memory stays bounded meanwhile: an AMQP queue
// is a log plus delivery state, so what it holds in memory per queued
// message must be a few bytes, not the message. The load comes from the
// project's load tool (ternbench backlog), built without the race
// detector so the run takes seconds, not minutes.
//
//	go test -v -run Backlog ./test/backlog/            # prints RSS and rates
//	TERN_BACKLOG_MESSAGES=5000000 go test -v -timeout 30m ./test/backlog/
package backlog_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/testbroker"
)

// maxBacklogRSS bounds the broker's resident memory while the backlog is
// queued. A million 16-byte messages held in memory as messages (body,
// properties, record framing, bookkeeping) would take several hundred
// MiB; a queue that keeps only offsets and counts stays at a few tens.
const maxBacklogRSS = 128 << 20

func messages(t *testing.T) int {
	t.Helper()
	if s := os.Getenv("TERN_BACKLOG_MESSAGES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("TERN_BACKLOG_MESSAGES=%q: want a positive integer", s)
		}
		return n
	}
	if testing.Short() {
		return 100_000
	}
	return 1_000_000
}

func TestAMQPBacklogKeepsMemoryBounded(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read the broker's RSS")
	}
	n := messages(t)
	bench := testbroker.Command(t, "ternbench")
	p := testbroker.StartProcess(t, t.TempDir())
	pid := p.PID()

	// Sample the broker's RSS until the run ends.
	var peak, atBacklog atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if rss := residentBytes(t, pid); rss > peak.Load() {
					peak.Store(rss)
				}
			}
		}
	})

	cmd := exec.Command(bench, "-amqp-url", "amqp://guest:guest@"+p.AMQPAddr+"/",
		"-records", strconv.Itoa(n), "-duration", "0", "-size", "16",
		"-publishers", "2", "-consumers", "2", "-prefetch", "500", "-ack-every", "50",
		"-log-level", "info", "-timeout", "10m", "backlog")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// "publishing done" means every message is confirmed and queued and
	// no consumer has started: the RSS then is the backlog's.
	var logTail bytes.Buffer
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		logTail.WriteString(line + "\n")
		if strings.Contains(line, "publishing done") {
			atBacklog.Store(residentBytes(t, pid))
		}
	}
	io.Copy(io.Discard, stderr)
	werr := cmd.Wait()
	close(stop)
	sampler.Wait()
	if werr != nil {
		t.Fatalf("ternbench: %v\n%s\nbroker:\n%s", werr, logTail.String(), p.Output())
	}

	var res struct {
		Records     int64   `json:"records"`
		Consumed    int64   `json:"consumed_records"`
		Redelivered int64   `json:"redelivered"`
		PublishMsgs float64 `json:"produce_msgs_s"`
		DrainMsgs   float64 `json:"consume_msgs_s"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("ternbench output %q: %v", stdout.String(), err)
	}
	if res.Records != int64(n) || res.Consumed != int64(n) || res.Redelivered != 0 {
		t.Fatalf("confirmed %d, delivered %d, redelivered %d; want %d, %d, 0", res.Records, res.Consumed, res.Redelivered, n, n)
	}
	t.Logf("%d persistent 16 B messages: broker RSS %.1f MiB with the backlog queued, peak %.1f MiB over the run; publish %.0f msg/s, drain %.0f msg/s",
		n, mib(atBacklog.Load()), mib(peak.Load()), res.PublishMsgs, res.DrainMsgs)
	if atBacklog.Load() == 0 {
		t.Fatalf("no RSS sample at the end of publishing; ternbench log:\n%s", logTail.String())
	}
	if rss := atBacklog.Load(); rss > maxBacklogRSS {
		t.Errorf("broker RSS with %d messages queued is %.1f MiB, want at most %.0f MiB", n, mib(rss), mib(maxBacklogRSS))
	}
}

// residentBytes is a process's VmRSS from /proc (0 once it is gone).
func residentBytes(t *testing.T, pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Errorf("parse %q: %v", line, err)
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
