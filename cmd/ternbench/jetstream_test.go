package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// natsServer starts nats-server with JetStream on a free loopback port
// (Debian's package, installed by scripts/install-test-deps.sh).
func natsServer(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nats-server"); serr != nil {
			if os.Getenv("TERN_SKIP_INTEROP") == "1" {
				t.Skip("TERN_SKIP_INTEROP=1 and nats-server is not installed")
			}
			t.Fatal("nats-server not found: run scripts/install-test-deps.sh (or set TERN_SKIP_INTEROP=1)")
		}
		bin = "/usr/sbin/nats-server"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(bin, "-js", "-sd", t.TempDir(), "-a", "127.0.0.1", "-p", port)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return "nats://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not listen on %s:\n%s", addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestJSLogScenario(t *testing.T) {
	url := natsServer(t)
	r, _, _ := runOne(t, "-nats-url", url, "-records", "500", "-size", "64", "-producers", "2", "-inflight", "16", "-duration", "30s", "jslog")
	if r.Scenario != "jslog" || r.Records != 500 || r.ConsumedRecords != 500 || r.Size != 64 || r.Producers != 2 {
		t.Fatalf("result %+v: want 500 published and read back", r)
	}
	if r.ProduceMBs <= 0 || r.ConsumeMBs <= 0 || !(0 < r.P50Ms && r.P50Ms <= r.P99Ms && r.P99Ms <= r.MaxMs) {
		t.Fatalf("rates or latencies out of order: %+v", r)
	}
}
