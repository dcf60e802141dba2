package kafka

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ternmq/tern/internal/broker"
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
	apis        *apiIndex

	mu       sync.Mutex
	ln       net.Listener
	conns    map[*conn]struct{}
	closing  bool
	connsWG  sync.WaitGroup
	shutdown chan struct{}
	// baseCtx parents every connection's context; Shutdown cancels it so
	// parked long polls and joins answer at once instead of at their
	// timeouts.
	baseCtx    context.Context
	baseCancel context.CancelFunc
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
	s := &Server{cfg: cfg, broker: b, logger: cfg.Logger, conns: map[*conn]struct{}{}, shutdown: make(chan struct{}), apis: newAPIIndex()}
	s.baseCtx, s.baseCancel = context.WithCancel(context.Background())
	rand.Read(s.spliceNonce[:])
	return s
}

// Serve accepts connections on ln until Shutdown. It returns nil after a
// shutdown and the accept error otherwise.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.ln = ln
	s.mu.Unlock()
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
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.shutdown:
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logger.Warn("accept failed; retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("kafka accept: %w", err)
		}
		delay = 0
		c := newConn(s, nc)
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.connsWG.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.connsWG.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Addr is the listener's address, once serving.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Shutdown stops accepting, lets every connection finish the requests it
// has already read (answers are written), then closes them. When ctx ends
// first, the remaining connections are closed at once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing {
		s.closing = true
		close(s.shutdown)
		if s.ln != nil {
			s.ln.Close()
		}
		for c := range s.conns {
			c.stopReading()
		}
		s.baseCancel()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.connsWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}
