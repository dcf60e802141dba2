package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/ternmq/tern/internal/admin"
	"github.com/ternmq/tern/internal/amqp"
	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/kafka"
	"github.com/ternmq/tern/internal/netserve"
	"github.com/ternmq/tern/internal/progress"
	"github.com/ternmq/tern/internal/storage"
)

// Node is a running Tern node: the broker core and its listeners.
type Node struct {
	cfg     config.Config
	logger  *slog.Logger
	Broker  *broker.Broker
	kafka   *kafka.Server
	kafkaLn net.Listener
	amqp    *amqp.Server
	amqpLn  net.Listener
	admin   *admin.Server
	adminLn net.Listener
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

// Option adjusts how a node is assembled; tests use it to inject faults.
type Option func(*options)

type options struct {
	kafkaFaults kafka.Faults
	version     string
}

// WithVersion names the node's version in the admin API's overview.
func WithVersion(v string) Option {
	return func(o *options) { o.version = v }
}

// WithKafkaFaults installs a fault injector in the Kafka listener.
func WithKafkaFaults(f kafka.Faults) Option {
	return func(o *options) { o.kafkaFaults = f }
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
	metrics := admin.NewMetrics()
	bcfg.OnSync = metrics.ObserveFsync
	// Created before broker.Open so that recovery, the longest of these
	// operations, is reported too.
	bcfg.Progress = progress.NewRegistry(logger.With("component", "progress"))
	n := &Node{cfg: cfg, logger: logger, Metrics: metrics, Progress: bcfg.Progress, serveCh: make(chan error, 3)}
	// The HTTP listener comes first, so that during a long recovery
	// /healthz answers and /readyz says "not ready" rather than the port
	// refusing connections.
	if cfg.HTTPListen != "" {
		hln, err := net.Listen("tcp", cfg.HTTPListen)
		if err != nil {
			return nil, fmt.Errorf("http listener: %w", err)
		}
		n.adminLn = hln
		n.admin = admin.New(admin.Config{
			Logger: logger.With("component", "http"), Ready: n.ready.Load, Progress: n.Progress,
			Version: o.version,
		}, metrics)
		go func() { n.serveCh <- n.admin.Serve(hln) }()
		logger.Info("http listener started", "addr", hln.Addr().String(), "endpoints", "/ (console) /api /healthz /readyz /metrics")
	}
	started := time.Now()
	b, err := broker.Open(bcfg)
	if err != nil {
		n.Shutdown()
		return nil, fmt.Errorf("open broker: %w", err)
	}
	n.Broker = b
	logger.Info("broker opened", "data_dir", cfg.DataDir, "fsync", cfg.Log.Fsync, "took", time.Since(started).Round(time.Millisecond))
	ln, err := net.Listen("tcp", cfg.KafkaListen)
	if err != nil {
		n.Shutdown()
		return nil, fmt.Errorf("kafka listener: %w", err)
	}
	ks := kafka.NewServer(kafka.Config{
		AdvertisedHost:  cfg.AdvertisedHost,
		MaxRequestBytes: cfg.MaxRequestBytes,
		Logger:          logger.With("component", "kafka"),
		Faults:          o.kafkaFaults,
		Observer:        metrics.ObserveKafkaRequest,
	}, b)
	n.kafka, n.kafkaLn = ks, ln
	go func() { n.serveCh <- ks.Serve(ln) }()
	logger.Info("kafka listener started", "addr", ln.Addr().String())
	if cfg.AMQPListen != "" {
		aln, err := net.Listen("tcp", cfg.AMQPListen)
		if err != nil {
			n.Shutdown()
			return nil, fmt.Errorf("amqp listener: %w", err)
		}
		n.amqpLn = aln
		n.amqp = amqp.NewServer(amqp.Config{
			Logger:     logger.With("component", "amqp"),
			ChannelMax: uint16(cfg.AMQP.ChannelMax), FrameMax: uint32(cfg.AMQP.FrameMax), MaxMessageBytes: uint64(cfg.AMQP.MaxMessageSize),
		}, b)
		go func() { n.serveCh <- n.amqp.Serve(aln) }()
		logger.Info("amqp listener started", "addr", aln.Addr().String())
	}
	conns := map[string]func() int{"kafka": ks.Conns}
	if n.amqp != nil {
		conns["amqp"] = n.amqp.Conns
	}
	metrics.Watch(b, conns)
	if n.admin != nil {
		backend := admin.Backend{
			Broker:      b,
			Connections: map[string]func() []netserve.ConnInfo{"kafka": ks.ConnInfos},
			Listeners:   []admin.Listener{{Protocol: "kafka", Addr: ln.Addr()}, {Protocol: "http", Addr: n.adminLn.Addr()}},
		}
		if n.amqp != nil {
			backend.Connections["amqp"] = n.amqp.ConnInfos
			backend.Listeners = append(backend.Listeners, admin.Listener{Protocol: "amqp", Addr: n.amqpLn.Addr()})
		}
		n.admin.Attach(backend)
	}
	n.ready.Store(true)
	return n, nil
}

// HTTPAddr is the address the HTTP listener is bound to ("" if off).
func (n *Node) HTTPAddr() string {
	if n.adminLn == nil {
		return ""
	}
	return n.adminLn.Addr().String()
}

// KafkaAddr is the address the Kafka listener is bound to.
func (n *Node) KafkaAddr() string { return n.kafkaLn.Addr().String() }

// AMQPAddr is the address the AMQP listener is bound to ("" if off).
func (n *Node) AMQPAddr() string {
	if n.amqpLn == nil {
		return ""
	}
	return n.amqpLn.Addr().String()
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
	if n.kafka != nil {
		err = n.kafka.Shutdown(ctx)
	}
	if n.amqp != nil {
		err = errors.Join(err, n.amqp.Shutdown(ctx))
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
	return broker.Config{
		DataDir:                cfg.DataDir,
		NodeID:                 cfg.NodeID,
		LogDefaults:            logCfg,
		AutoCreateTopics:       cfg.AutoCreateTopics,
		DefaultPartitions:      cfg.DefaultPartitions,
		MaxMessageBytes:        cfg.MaxMessageBytes,
		Group:                  gcfg,
		RetentionCheckInterval: cfg.RetentionCheckInterval,
		Logger:                 logger,
		DeadLetterProps:        amqp.DeadLetterProps,
		DiskFreeLimit:          cfg.DiskFreeLimit,
		DefaultUser:            cfg.DefaultUser,
		DefaultPass:            cfg.DefaultPass,
		LoopbackUsers:          cfg.LoopbackUsers,
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
