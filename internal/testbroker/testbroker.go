package testbroker

import (
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/kafka"
	"github.com/ternmq/tern/internal/server"
	"github.com/ternmq/tern/internal/tlsconf/tlstest"
)

// Broker is an in-process Tern node on 127.0.0.1 with its own data
// directory, stopped by t.Cleanup.
type Broker struct {
	t       testing.TB
	cfg     config.Config
	node    *server.Node
	srvOpts []server.Option
	// Addr is the Kafka listener's host:port.
	Addr string
	// AMQPAddr is the AMQP listener's host:port; AMQPURL a URL for it
	// with the default guest user.
	AMQPAddr, AMQPURL string
	// HTTPAddr is the operators' HTTP listener (health, metrics).
	HTTPAddr string
	// AMQPSAddr and HTTPSAddr are the TLS listeners, when configured.
	AMQPSAddr, HTTPSAddr string
	// CA signed the node's certificate with WithTLS; it issues client
	// certificates too.
	CA *tlstest.CA
	// Dir is the data directory; it survives Restart.
	Dir string
	// kafkaAddrs are the Kafka listeners' addresses by security protocol.
	kafkaAddrs map[string]string
}

// WithTLS gives the node a certificate for localhost signed by a fresh
// test CA (b.CA), client certificates checked as clientAuth (none,
// requested or required), and TLS listeners for AMQP and HTTP; add SSL
// or SASL_SSL Kafka listeners with WithKafkaListeners. Certificate files
// are checked for renewal every 50 ms.
func WithTLS(clientAuth string) Option {
	return func(b *Broker) {
		b.CA = tlstest.NewCA(b.t, b.t.TempDir())
		srv := b.CA.Server("server")
		b.cfg.TLS = config.TLSConfig{CertFile: srv.CertFile, KeyFile: srv.KeyFile, CAFile: b.CA.CAFile, ClientAuth: clientAuth}
		b.cfg.AMQPTLSListen = "127.0.0.1:0"
		b.cfg.HTTPTLSListen = "127.0.0.1:0"
		b.srvOpts = append(b.srvOpts, server.WithTLSCheckInterval(50*time.Millisecond))
	}
}

// WithKafkaListeners replaces the Kafka listeners with one per security
// protocol given (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), each on an
// ephemeral port; KafkaAddr finds them.
func WithKafkaListeners(security ...string) Option {
	return func(b *Broker) {
		var ls []string
		for _, s := range security {
			ls = append(ls, s+"://127.0.0.1:0")
		}
		b.cfg.KafkaListen = strings.Join(ls, ",")
	}
}

// KafkaAddr is the address of the Kafka listener of a security protocol.
func (b *Broker) KafkaAddr(security string) string {
	a, ok := b.kafkaAddrs[security]
	if !ok {
		b.t.Fatalf("no %s Kafka listener", security)
	}
	return a
}

// Option adjusts the test node before start.
type Option func(*Broker)

// WithConfig applies fn to the node configuration.
func WithConfig(fn func(*config.Config)) Option { return func(b *Broker) { fn(&b.cfg) } }

// WithKafkaFaults installs a fault injector in the Kafka listener.
func WithKafkaFaults(f kafka.Faults) Option {
	return func(b *Broker) { b.srvOpts = append(b.srvOpts, server.WithKafkaFaults(f)) }
}

// Start runs a node on an ephemeral port with a temporary data directory.
// Defaults differ from production only where tests need speed: the first
// rebalance of a group is not delayed.
func Start(t testing.TB, opts ...Option) *Broker {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.KafkaListen = "127.0.0.1:0"
	cfg.AMQPListen = "127.0.0.1:0"
	cfg.HTTPListen = "127.0.0.1:0"
	cfg.Group.InitialRebalanceDelay = 0
	cfg.Group.MinSessionTimeout = 100 * time.Millisecond
	cfg.ShutdownTimeout = 5 * time.Second
	b := &Broker{t: t, cfg: cfg}
	for _, o := range opts {
		o(b)
	}
	b.Dir = b.cfg.DataDir
	b.start()
	t.Cleanup(b.stop)
	return b
}

func (b *Broker) start() {
	b.t.Helper()
	n, err := server.Start(b.cfg, logger(b.t), b.srvOpts...)
	if err != nil {
		b.t.Fatalf("start broker: %v", err)
	}
	b.node = n
	b.Addr = n.KafkaAddr()
	b.AMQPAddr = n.AMQPAddr()
	b.HTTPAddr = n.HTTPAddr()
	b.AMQPSAddr, b.HTTPSAddr = n.AMQPSAddr(), n.HTTPSAddr()
	b.AMQPURL = "amqp://guest:guest@" + b.AMQPAddr + "/"
	// Keep the ports across restarts so clients reconnect to the same seed.
	b.kafkaAddrs = map[string]string{}
	var ls []string
	for _, l := range n.KafkaListeners() {
		b.kafkaAddrs[l.Security] = l.Addr
		ls = append(ls, l.Security+"://"+l.Addr)
	}
	b.cfg.KafkaListen = strings.Join(ls, ",")
	for _, a := range []struct {
		addr string
		cfg  *string
	}{{b.AMQPAddr, &b.cfg.AMQPListen}, {b.HTTPAddr, &b.cfg.HTTPListen}, {b.AMQPSAddr, &b.cfg.AMQPTLSListen}, {b.HTTPSAddr, &b.cfg.HTTPTLSListen}} {
		if a.addr != "" {
			*a.cfg = a.addr
		}
	}
}

func (b *Broker) stop() {
	if b.node == nil {
		return
	}
	if err := b.node.Shutdown(); err != nil {
		b.t.Errorf("shutdown broker: %v", err)
	}
	b.node = nil
}

// Restart shuts the node down cleanly and starts it again on the same
// data directory and port.
func (b *Broker) Restart() {
	b.t.Helper()
	b.stop()
	b.start()
}

// Node exposes the running node (its broker core) to tests.
func (b *Broker) Node() *server.Node { return b.node }

// logger sends the broker's logs to the test log when -v is on, so a
// failing test shows what the broker did.
func logger(t testing.TB) *slog.Logger {
	if !testing.Verbose() || os.Getenv("TERN_TEST_LOGS") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
