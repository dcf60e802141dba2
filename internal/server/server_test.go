package server

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/ternmq/tern/internal/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testConfig(t *testing.T) config.Config {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.KafkaListen, cfg.AMQPListen, cfg.HTTPListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	return cfg
}

// TestStartFailsCleanly: a listener that cannot bind fails Start with an
// error naming it, and whatever had started (the HTTP listener, the
// broker) is stopped: no goroutine leaks (TestMain), the ports are free.
func TestStartFailsCleanly(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct {
		name string
		set  func(*config.Config)
		want string
	}{
		{"http", func(c *config.Config) { c.HTTPListen = busy.Addr().String() }, "http listener"},
		{"kafka", func(c *config.Config) { c.KafkaListen = busy.Addr().String() }, "kafka listener"},
		{"amqp", func(c *config.Config) { c.AMQPListen = busy.Addr().String() }, "amqp listener"},
	} {
		cfg := testConfig(t)
		c.set(&cfg)
		n, err := Start(cfg, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			if n != nil {
				n.Shutdown()
			}
			t.Fatalf("%s busy: Start = %v, want an error about the %s", c.name, err, c.want)
		}
	}
}

// TestReadiness: /readyz is 200 while the node runs; once Shutdown
// begins the node stops answering as ready.
func TestReadiness(t *testing.T) {
	n, err := Start(testConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + n.HTTPAddr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz = %d, want 200", resp.StatusCode)
	}
	n.ready.Store(false) // as Shutdown does first
	resp, err = http.Get("http://" + n.HTTPAddr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz while shutting down = %d, want 503", resp.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
}
