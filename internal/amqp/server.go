package amqp

import (
	"context"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/netserve"
)

// Config is what the adapter needs beyond the core.
type Config struct {
	// Users maps user names to passwords (PLAIN and AMQPLAIN). Until the
	// user store arrives (security issue) this is the configured default
	// user.
	Users map[string]string
	// LoopbackUsers may only connect from loopback addresses (RabbitMQ's
	// loopback_users, default guest).
	LoopbackUsers []string
	// FrameMax is the largest frame the server accepts and proposes.
	// Zero means 128 KiB, RabbitMQ's default.
	FrameMax uint32
	// ChannelMax is the most channels per connection. Zero means 2047.
	ChannelMax uint16
	// Heartbeat is the interval the server proposes. Zero means 60s.
	Heartbeat time.Duration
	// MaxMessageBytes caps a message body. Zero means 128 MiB.
	MaxMessageBytes uint64
	Logger          *slog.Logger
}

// Server accepts AMQP 0-9-1 connections and serves them from the core.
type Server struct {
	cfg    Config
	broker *broker.Broker
	logger *slog.Logger
	net    *netserve.Server
	connID atomic.Uint64
}

// NewServer builds a server; call Serve to accept connections.
func NewServer(cfg Config, b *broker.Broker) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.FrameMax == 0 {
		cfg.FrameMax = 128 << 10
	}
	if cfg.ChannelMax == 0 {
		cfg.ChannelMax = 2047
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = 60 * time.Second
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = 128 << 20
	}
	return &Server{cfg: cfg, broker: b, logger: cfg.Logger, net: netserve.New("amqp", cfg.Logger)}
}

// Serve accepts on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	return s.net.Serve(ln, func(nc net.Conn) netserve.Conn { return newConn(s, nc) })
}

// Addr is the listener's address once serving.
func (s *Server) Addr() net.Addr { return s.net.Addr() }

// Shutdown stops accepting and closes connections after what they read
// is handled.
func (s *Server) Shutdown(ctx context.Context) error { return s.net.Shutdown(ctx) }
