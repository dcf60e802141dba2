package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ternmq/tern/internal/admin"
	"github.com/ternmq/tern/internal/amqp"
	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/broker/txn"
	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/kafka"
	"github.com/ternmq/tern/internal/netserve"
	"github.com/ternmq/tern/internal/progress"
	"github.com/ternmq/tern/internal/storage"
	"github.com/ternmq/tern/internal/tlsconf"
)

// Node is a running Tern node: the broker core and its listeners.
type Node struct {
	cfg    config.Config
	logger *slog.Logger
	Broker *broker.Broker
	// kafka has one server per Kafka listener, in configuration order;
	// they differ in security protocol and in the port Metadata
	// advertises.
	kafka    []kafkaListener
	amqp     []amqpListener
	admin    *admin.Server
	adminLn  net.Listener
	adminTLS net.Listener
	// Metrics is the node's Prometheus registry and hooks.
	Metrics *admin.Metrics
	// Progress lists the node's long operations (recovery, topic
	// deletes, queue purges), running and recently finished.
	Progress *progress.Registry
	// ready is true from the moment every listener accepts until
	// shutdown starts (/readyz).
	ready   atomic.Bool
	serveCh chan error
}

type kafkaListener struct {
	config.KafkaListener
	srv *kafka.Server
	ln  net.Listener
}

type amqpListener struct {
	srv *amqp.Server
	ln  net.Listener
	tls bool
}

// Option adjusts how a node is assembled; tests use it to inject faults.
type Option func(*options)

type options struct {
	kafkaFaults kafka.Faults
	version     string
	tlsCheck    time.Duration
}

// WithVersion names the node's version in the admin API's overview.
func WithVersion(v string) Option {
	return func(o *options) { o.version = v }
}

// WithKafkaFaults installs a fault injector in the Kafka listener.
func WithKafkaFaults(f kafka.Faults) Option {
	return func(o *options) { o.kafkaFaults = f }
}

// WithTLSCheckInterval sets how often TLS handshakes look for renewed
// certificate files (tlsconf.DefaultCheckEvery otherwise); tests shorten it.
func WithTLSCheckInterval(d time.Duration) Option {
	return func(o *options) { o.tlsCheck = d }
}

// Start opens the broker (running crash recovery) and starts the
// listeners. It returns once the node accepts connections.
func Start(cfg config.Config, logger *slog.Logger, opts ...Option) (*Node, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	bcfg, err := brokerConfig(cfg, logger)
	if err != nil {
		return nil, err
	}
	// Certificates are loaded before anything listens: a node with a
	// broken TLS setup must not start half-secured.
	var tlsCfg *tls.Config
	if cfg.TLSNeeded() {
		r, err := tlsconf.New(tlsconf.Files{Cert: cfg.TLS.CertFile, Key: cfg.TLS.KeyFile, CA: cfg.TLS.CAFile, ClientAuth: cfg.TLS.ClientAuth},
			o.tlsCheck, logger.With("component", "tls"))
		if err != nil {
			return nil, err
		}
		tlsCfg = r.ServerConfig()
	}
	listen := func(what, addr string, secure bool) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("%s listener: %w", what, err)
		}
		if secure {
			ln = tls.NewListener(ln, tlsCfg)
		}
		return ln, nil
	}
	metrics := admin.NewMetrics()
	bcfg.OnSync = metrics.ObserveFsync
	// Created before broker.Open so that recovery, the longest of these
	// operations, is reported too.
	bcfg.Progress = progress.NewRegistry(logger.With("component", "progress"))
	n := &Node{cfg: cfg, logger: logger, Metrics: metrics, Progress: bcfg.Progress, serveCh: make(chan error, 8)}
	// The HTTP listeners come first, so that during a long recovery
	// /healthz answers and /readyz says "not ready" rather than the port
	// refusing connections.
	if cfg.HTTPListen != "" || cfg.HTTPTLSListen != "" {
		n.admin = admin.New(admin.Config{
			Logger: logger.With("component", "http"), Ready: n.ready.Load, Progress: n.Progress,
			Version: o.version,
		}, metrics)
		for _, l := range []struct {
			addr   string
			ln     *net.Listener
			secure bool
		}{{cfg.HTTPListen, &n.adminLn, false}, {cfg.HTTPTLSListen, &n.adminTLS, true}} {
			if l.addr == "" {
				continue
			}
			hln, err := listen("http", l.addr, l.secure)
			if err != nil {
				n.Shutdown()
				return nil, err
			}
			*l.ln = hln
			go func() { n.serveCh <- n.admin.Serve(hln) }()
			logger.Info("http listener started", "addr", hln.Addr().String(), "tls", l.secure, "endpoints", "/ (console) /api /healthz /readyz /metrics")
		}
	}
	started := time.Now()
	b, err := broker.Open(bcfg)
	if err != nil {
		n.Shutdown()
		return nil, fmt.Errorf("open broker: %w", err)
	}
	n.Broker = b
	logger.Info("broker opened", "data_dir", cfg.DataDir, "fsync", cfg.Log.Fsync, "took", time.Since(started).Round(time.Millisecond))
	connLimit := netserve.NewLimit(cfg.Limits.MaxConnections)
	kls, _ := cfg.KafkaListeners() // validated above
	for _, kl := range kls {
		ln, err := listen("kafka", kl.Addr, kl.TLS())
		if err != nil {
			n.Shutdown()
			return nil, err
		}
		ks := kafka.NewServer(kafka.Config{
			AdvertisedHost:  cfg.AdvertisedHost,
			MaxRequestBytes: cfg.MaxRequestBytes,
			Logger:          logger.With("component", "kafka", "listener", kl.Security),
			Faults:          o.kafkaFaults,
			Observer:        metrics.ObserveKafkaRequest,
			SASL:            kl.SASL(),
			SASLMechanisms:  cfg.SASLMechanisms,
			ReauthAfter:     cfg.ReauthAfter,
			ConnLimit:       connLimit,
			ConnMemory:      cfg.Limits.ConnectionMemory,
		}, b)
		n.kafka = append(n.kafka, kafkaListener{KafkaListener: kl, srv: ks, ln: ln})
		go func() { n.serveCh <- ks.Serve(ln) }()
		logger.Info("kafka listener started", "addr", ln.Addr().String(), "security", kl.Security)
	}
	for _, l := range []struct {
		addr   string
		secure bool
	}{{cfg.AMQPListen, false}, {cfg.AMQPTLSListen, true}} {
		if l.addr == "" {
			continue
		}
		aln, err := listen("amqp", l.addr, l.secure)
		if err != nil {
			n.Shutdown()
			return nil, err
		}
		as := amqp.NewServer(amqp.Config{
			Logger:     logger.With("component", "amqp"),
			ConnLimit:  connLimit,
			ConnMemory: uint64(cfg.Limits.ConnectionMemory),
			ChannelMax: uint16(cfg.AMQP.ChannelMax), FrameMax: uint32(cfg.AMQP.FrameMax), MaxMessageBytes: uint64(cfg.AMQP.MaxMessageSize),
		}, b)
		n.amqp = append(n.amqp, amqpListener{srv: as, ln: aln, tls: l.secure})
		go func() { n.serveCh <- as.Serve(aln) }()
		logger.Info("amqp listener started", "addr", aln.Addr().String(), "tls", l.secure)
	}
	conns := map[string]func() int{"kafka": n.kafkaConns}
	if len(n.amqp) > 0 {
		conns["amqp"] = n.amqpConns
	}
	metrics.Watch(b, conns)
	if n.admin != nil {
		n.admin.Attach(n.backend())
	}
	n.ready.Store(true)
	return n, nil
}

// backend is what the admin API sees of the node.
func (n *Node) backend() admin.Backend {
	bk := admin.Backend{
		Broker:      n.Broker,
		Connections: map[string]func() []netserve.ConnInfo{"kafka": n.kafkaConnInfos},
	}
	for _, k := range n.kafka {
		proto := "kafka"
		if k.Security != config.Plaintext {
			proto += "/" + strings.ToLower(k.Security)
		}
		bk.Listeners = append(bk.Listeners, admin.Listener{Protocol: proto, Addr: k.ln.Addr()})
	}
	if len(n.amqp) > 0 {
		bk.Connections["amqp"] = n.amqpConnInfos
	}
	// RabbitMQ's names for its listeners.
	for _, a := range n.amqp {
		proto := "amqp"
		if a.tls {
			proto = "amqp/ssl"
		}
		bk.Listeners = append(bk.Listeners, admin.Listener{Protocol: proto, Addr: a.ln.Addr()})
	}
	if n.adminLn != nil {
		bk.Listeners = append(bk.Listeners, admin.Listener{Protocol: "http", Addr: n.adminLn.Addr()})
	}
	if n.adminTLS != nil {
		bk.Listeners = append(bk.Listeners, admin.Listener{Protocol: "https", Addr: n.adminTLS.Addr()})
	}
	return bk
}

// ConnInfos lists the open client connections of every protocol.
func (n *Node) ConnInfos() []netserve.ConnInfo {
	return append(n.kafkaConnInfos(), n.amqpConnInfos()...)
}

func (n *Node) kafkaConnInfos() []netserve.ConnInfo {
	var out []netserve.ConnInfo
	for _, k := range n.kafka {
		out = append(out, k.srv.ConnInfos()...)
	}
	return out
}

func (n *Node) amqpConnInfos() []netserve.ConnInfo {
	var out []netserve.ConnInfo
	for _, a := range n.amqp {
		out = append(out, a.srv.ConnInfos()...)
	}
	return out
}

func (n *Node) kafkaConns() int {
	total := 0
	for _, k := range n.kafka {
		total += k.srv.Conns()
	}
	return total
}

func (n *Node) amqpConns() int {
	total := 0
	for _, a := range n.amqp {
		total += a.srv.Conns()
	}
	return total
}

// HTTPAddr is the address the HTTP listener is bound to ("" if off).
func (n *Node) HTTPAddr() string { return addrOf(n.adminLn) }

// HTTPSAddr is the address the HTTPS listener is bound to ("" if off).
func (n *Node) HTTPSAddr() string { return addrOf(n.adminTLS) }

func addrOf(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// KafkaAddr is the address of the first Kafka listener.
func (n *Node) KafkaAddr() string { return n.kafka[0].ln.Addr().String() }

// KafkaListeners are the Kafka listeners with the addresses they are
// bound to, in configuration order.
func (n *Node) KafkaListeners() []config.KafkaListener {
	out := make([]config.KafkaListener, len(n.kafka))
	for i, k := range n.kafka {
		out[i] = config.KafkaListener{Security: k.Security, Addr: k.ln.Addr().String()}
	}
	return out
}

// AMQPAddr is the address the AMQP listener is bound to ("" if off).
func (n *Node) AMQPAddr() string { return n.amqpAddr(false) }

// AMQPSAddr is the address the AMQP-over-TLS listener is bound to ("" if
// off).
func (n *Node) AMQPSAddr() string { return n.amqpAddr(true) }

func (n *Node) amqpAddr(secure bool) string {
	for _, a := range n.amqp {
		if a.tls == secure {
			return a.ln.Addr().String()
		}
	}
	return ""
}

// Wait blocks until ctx ends (the caller's signal) or a listener fails.
func (n *Node) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-n.serveCh:
		return err
	}
}

// Shutdown stops accepting, drains in-flight requests (bounded by the
// configured shutdown timeout), then closes every log cleanly.
func (n *Node) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.ShutdownTimeout)
	defer cancel()
	n.logger.Info("shutting down")
	n.ready.Store(false)
	var err error
	// Start calls Shutdown on a half-started node too: stop what exists.
	for _, k := range n.kafka {
		err = errors.Join(err, k.srv.Shutdown(ctx))
	}
	for _, a := range n.amqp {
		err = errors.Join(err, a.srv.Shutdown(ctx))
	}
	if n.admin != nil {
		err = errors.Join(err, n.admin.Shutdown(ctx))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		n.logger.Warn("in-flight requests did not finish in time; connections closed", "timeout", n.cfg.ShutdownTimeout)
		err = nil
	}
	if n.Broker != nil {
		err = errors.Join(err, n.Broker.Close())
	}
	n.logger.Info("shutdown complete")
	return err
}

func brokerConfig(cfg config.Config, logger *slog.Logger) (broker.Config, error) {
	sync, err := storage.ParseSyncPolicy(cfg.Log.Fsync)
	if err != nil {
		return broker.Config{}, err
	}
	logCfg := storage.DefaultConfig()
	logCfg.SegmentBytes = cfg.Log.SegmentBytes
	logCfg.SegmentAge = cfg.Log.SegmentAge
	logCfg.RetentionBytes = cfg.Log.RetentionBytes
	logCfg.RetentionAge = cfg.Log.RetentionAge
	logCfg.Sync = sync
	logCfg.SyncInterval = cfg.Log.FsyncInterval
	gcfg := group.DefaultConfig()
	gcfg.MinSessionTimeout = cfg.Group.MinSessionTimeout
	gcfg.MaxSessionTimeout = cfg.Group.MaxSessionTimeout
	gcfg.InitialRebalanceDelay = cfg.Group.InitialRebalanceDelay
	gcfg.MaxGroupSize = cfg.Group.MaxSize
	gcfg.ConsumerSessionTimeout = cfg.Group.ConsumerSessionTimeout
	gcfg.ConsumerHeartbeatInterval = cfg.Group.ConsumerHeartbeatInterval
	gcfg.ConsumerMaxGroupSize = cfg.Group.ConsumerMaxSize
	gcfg.ConsumerAssignors = cfg.Group.ConsumerAssignors
	return broker.Config{
		DataDir:                cfg.DataDir,
		NodeID:                 cfg.NodeID,
		LogDefaults:            logCfg,
		AutoCreateTopics:       cfg.AutoCreateTopics,
		DefaultPartitions:      cfg.DefaultPartitions,
		MaxMessageBytes:        cfg.MaxMessageBytes,
		Group:                  gcfg,
		Txn:                    txn.Config{MaxTimeout: cfg.Txn.MaxTimeout, CheckInterval: cfg.Txn.CheckInterval},
		RetentionCheckInterval: cfg.RetentionCheckInterval,
		Logger:                 logger,
		DeadLetterProps:        amqp.DeadLetterProps,
		DiskFreeLimit:          cfg.DiskFreeLimit,
		DefaultUser:            cfg.DefaultUser,
		DefaultPass:            cfg.DefaultPass,
		LoopbackUsers:          cfg.LoopbackUsers,
		LoginFailuresPerMinute: cfg.Limits.AuthFailuresPerMinute,
		MaxConnectionsPerUser:  cfg.Limits.MaxConnectionsPerUser,
		ACL:                    broker.ACLConfig{Enabled: cfg.Authorizer == "acl", SuperUsers: cfg.SuperUsers, AllowIfNoACL: cfg.AllowEveryoneIfNoACL},
		Cleaner:                broker.CleanerConfig{Disabled: !cfg.LogCleaner.Enable, DedupeBufferBytes: cfg.LogCleaner.DedupeBufferSize, Backoff: cfg.LogCleaner.Backoff},
	}, nil
}

// LogLevel parses a configured level name.
func LogLevel(name string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(name)); err != nil {
		return slog.LevelInfo
	}
	return l
}
