package kafka

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/netserve"
)

// Config is what the adapter needs beyond the core.
type Config struct {
	// AdvertisedHost and AdvertisedPort are what Metadata tells clients to
	// connect to. Zero values mean: use the listener's address.
	AdvertisedHost string
	AdvertisedPort int32
	// MaxRequestBytes caps a request frame; a larger length prefix closes
	// the connection before anything is allocated.
	MaxRequestBytes int32
	// MaxInFlight bounds the requests of one connection being worked on at
	// once (pipelining); the reader stops reading past it. Zero means 32.
	MaxInFlight int
	Logger      *slog.Logger
	// Observer, when set, is told each request's API key and how long it
	// took from being read off the socket to its answer being handed to
	// the socket (long polls included, as Kafka's total request time),
	// for metrics. It runs on the connection's writer: keep it cheap.
	Observer func(apiKey int16, d time.Duration)
	// SASL makes clients authenticate with SaslHandshake and
	// SaslAuthenticate before any request but ApiVersions: a
	// SASL_PLAINTEXT or SASL_SSL listener.
	SASL bool
	// SASLMechanisms are the mechanisms offered (sasl.enabled.mechanisms).
	SASLMechanisms []string
	// ReauthAfter is connections.max.reauth.ms (KIP-368); zero never
	// expires a session.
	ReauthAfter time.Duration
	// ConnMemory bounds the bytes of requests one connection has read
	// but not answered (max.connection.memory); the reader waits past
	// it. One request alone may exceed it. Zero means MaxRequestBytes.
	ConnMemory int64
	// ConnLimit, when set, is shared with the node's other listeners
	// (max.connections).
	ConnLimit *netserve.Limit
	// Faults, when set, lets tests break connections at chosen points.
	// Production never sets it.
	Faults Faults
}

// Faults injects failures into the connection loop for tests.
type Faults interface {
	// DropResponse is asked before each answer is written; true closes
	// the connection instead, as if it broke after the broker did the
	// work but before the client heard back.
	DropResponse(apiKey int16) bool
}

// Server accepts Kafka connections and serves them from the broker core.
type Server struct {
	cfg    Config
	broker *broker.Broker
	logger *slog.Logger
	// splice marks the holes in an encoded Fetch response where record
	// bytes go; random per server so client data can never forge one.
	spliceNonce [12]byte
	// saslFakeKey derives the salts shown for SCRAM users that do not
	// exist (sasl.go), random per server.
	saslFakeKey []byte
	apis        *apiIndex
	// net runs the accept loop and shutdown; its context parents every
	// connection's, so parked long polls and joins answer at once when
	// shutdown starts instead of at their timeouts.
	net *netserve.Server
}

// NewServer builds a server; call Serve to accept connections.
func NewServer(cfg Config, b *broker.Broker) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 32
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = 100 << 20
	}
	if cfg.ConnMemory <= 0 {
		cfg.ConnMemory = int64(cfg.MaxRequestBytes)
	}
	s := &Server{cfg: cfg, broker: b, logger: cfg.Logger, apis: newAPIIndex(), net: netserve.New("kafka", cfg.Logger)}
	s.net.SetLimit(cfg.ConnLimit)
	rand.Read(s.spliceNonce[:])
	s.saslFakeKey = make([]byte, 32)
	rand.Read(s.saslFakeKey)
	if len(s.cfg.SASLMechanisms) == 0 {
		s.cfg.SASLMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}
	}
	return s
}

// Serve accepts connections on ln until Shutdown. It returns nil after a
// shutdown and the accept error otherwise.
func (s *Server) Serve(ln net.Listener) error {
	if s.cfg.AdvertisedPort == 0 {
		if _, port, err := net.SplitHostPort(ln.Addr().String()); err == nil {
			p, _ := strconv.Atoi(port)
			s.cfg.AdvertisedPort = int32(p)
		}
	}
	if s.cfg.AdvertisedHost == "" {
		host, _, _ := net.SplitHostPort(ln.Addr().String())
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "localhost"
		}
		s.cfg.AdvertisedHost = host
	}
	return s.net.Serve(ln, func(nc net.Conn) netserve.Conn { return newConn(s, nc) })
}

// Conns is the number of open client connections.
func (s *Server) Conns() int { return s.net.Conns() }

// ConnInfos describes the open connections, for the admin API.
func (s *Server) ConnInfos() []netserve.ConnInfo { return s.net.ConnInfos() }

// Addr is the listener's address, once serving.
func (s *Server) Addr() net.Addr { return s.net.Addr() }

// Shutdown stops accepting, lets every connection finish the requests it
// has already read (answers are written), then closes them. When ctx ends
// first, the remaining connections are closed at once.
func (s *Server) Shutdown(ctx context.Context) error { return s.net.Shutdown(ctx) }
