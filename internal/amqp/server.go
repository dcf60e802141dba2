package amqp

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/netserve"
)

// Config is what the adapter needs beyond the core.
type Config struct {
	// FrameMax is the largest frame the server accepts and proposes.
	// Zero means 128 KiB, RabbitMQ's default.
	FrameMax uint32
	// ChannelMax is the most channels per connection. Zero means 2047.
	ChannelMax uint16
	// Heartbeat is the interval the server proposes. Zero means 60s.
	Heartbeat time.Duration
	// MaxMessageBytes caps a message body (RabbitMQ's max_message_size): a
	// publish declaring a larger body closes its channel with 406. Zero
	// means 128 MiB; at most 512 MiB, RabbitMQ's hard limit.
	MaxMessageBytes uint64
	// ConnMemory bounds the bytes of message bodies one connection may
	// be receiving at once across its channels (max.connection.memory):
	// a publish that would pass it is refused with 406. One message alone
	// may exceed it. Zero means MaxMessageBytes.
	ConnMemory uint64
	// ConnLimit, when set, is shared with the node's other listeners
	// (max.connections).
	ConnLimit *netserve.Limit
	Logger    *slog.Logger
}

// maxMessageSizeLimit is the largest max message size, RabbitMQ's.
const maxMessageSizeLimit = 512 << 20

// Server accepts AMQP 0-9-1 connections and serves them from the core.
type Server struct {
	cfg    Config
	broker *broker.Broker
	logger *slog.Logger
	net    *netserve.Server
	connID atomic.Uint64

	// While the broker's resource alarm is on, gate is an open channel
	// that publishers wait on (it is closed when the alarm clears), and
	// connections that understand it are sent connection.blocked.
	mu    sync.Mutex
	gate  chan struct{}
	conns map[*conn]struct{}
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
	cfg.MaxMessageBytes = min(cfg.MaxMessageBytes, maxMessageSizeLimit)
	if cfg.ConnMemory == 0 {
		cfg.ConnMemory = cfg.MaxMessageBytes
	}
	s := &Server{cfg: cfg, broker: b, logger: cfg.Logger, net: netserve.New("amqp", cfg.Logger), conns: map[*conn]struct{}{}}
	s.net.SetLimit(cfg.ConnLimit)
	b.OnResourceAlarm(s.onAlarm)
	b.OnVHostDeleted(s.onVHostDeleted)
	return s
}

// onVHostDeleted closes the connections open in a deleted vhost with 320
// CONNECTION_FORCED, as RabbitMQ does.
func (s *Server) onVHostDeleted(name string) {
	s.mu.Lock()
	var conns []*conn
	for c := range s.conns {
		if c.vhost != nil && c.vhost.Name() == name {
			conns = append(conns, c)
		}
	}
	s.mu.Unlock()
	if len(conns) > 0 {
		s.logger.Info("closing the connections of a deleted vhost", "vhost", name, "connections", len(conns))
	}
	for _, c := range conns {
		c.forceClose(vhostDeletedError(name))
	}
}

// onAlarm blocks or releases publishers when the broker's resource alarm
// changes, as RabbitMQ does on a disk or memory alarm.
func (s *Server) onAlarm(on bool) {
	s.mu.Lock()
	switch {
	case on && s.gate == nil:
		s.gate = make(chan struct{})
	case !on && s.gate != nil:
		close(s.gate)
		s.gate = nil
	default:
		s.mu.Unlock()
		return
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	if on {
		s.logger.Warn("resource alarm: publishers blocked")
	} else {
		s.logger.Info("resource alarm cleared: publishers unblocked")
	}
	if !on { // blocked is announced per connection when it next publishes
		for _, c := range conns {
			c.notifyBlocked(false)
		}
	}
}

// publishGate returns a channel to wait on before accepting a publish,
// or nil when publishing is allowed.
func (s *Server) publishGate() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate
}

func (s *Server) track(c *conn, live bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if live {
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
}

// Serve accepts on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	return s.net.Serve(ln, func(nc net.Conn) netserve.Conn { return newConn(s, nc) })
}

// Conns is the number of open client connections.
func (s *Server) Conns() int { return s.net.Conns() }

// ConnInfos describes the open connections, for the admin API.
func (s *Server) ConnInfos() []netserve.ConnInfo { return s.net.ConnInfos() }

// Addr is the listener's address once serving.
func (s *Server) Addr() net.Addr { return s.net.Addr() }

// Shutdown stops accepting and closes connections after what they read
// is handled.
func (s *Server) Shutdown(ctx context.Context) error { return s.net.Shutdown(ctx) }
