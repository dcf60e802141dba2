// Package netserve is the accept loop and ordered shutdown shared by the
// protocol listeners (Kafka, AMQP): it tracks live connections, retries
// temporary accept errors with backoff, and on Shutdown stops accepting,
// asks every connection to stop reading, cancels the base context (so
// parked long polls answer at once) and waits for them to drain, closing
// whatever is left when the caller's deadline passes.
//
// It imports only the standard library.
package netserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one served connection.
type Conn interface {
	// Serve runs the connection until it ends; it must return soon after
	// StopReading or Close.
	Serve()
	// StopReading asks the connection to read no further requests and
	// finish the ones it has.
	StopReading()
	// Close ends the connection at once.
	Close()
}

// Describer is implemented by connections that can say who is on them,
// for the admin API's connection list.
type Describer interface {
	Describe() ConnDetail
}

// ConnDetail is what a protocol knows of a connection's peer.
type ConnDetail struct {
	User, VHost string
	// Client names the client software or its client id.
	Client   string
	Channels int
}

// RemoteIP is a connection's peer address, unmapped from IPv4-in-IPv6,
// as logins (the loopback rule, the failed-login limit) and Kafka ACL
// hosts compare it; the zero Addr for a peer without an IP.
func RemoteIP(nc net.Conn) netip.Addr {
	switch a := nc.RemoteAddr().(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case nil:
		return netip.Addr{}
	default:
		ap, _ := netip.ParseAddrPort(a.String())
		return ap.Addr().Unmap()
	}
}

// ConnInfo describes one open connection.
type ConnInfo struct {
	Remote net.Addr
	Since  time.Time
	ConnDetail
}

// Limit caps the connections of every server it is given to, together:
// past it a new connection is closed as soon as it is accepted, before a
// byte is read, as Kafka's max.connections does.
type Limit struct {
	max    int64
	open   atomic.Int64
	warned atomic.Int64 // unix second of the last warning, to log once a second at most
}

// NewLimit returns a limit of max connections; max <= 0 is unlimited
// (nil works too).
func NewLimit(max int) *Limit { return &Limit{max: int64(max)} }

func (l *Limit) acquire() bool {
	if l == nil || l.max <= 0 {
		return true
	}
	if l.open.Add(1) > l.max {
		l.open.Add(-1)
		return false
	}
	return true
}

func (l *Limit) release() {
	if l != nil && l.max > 0 {
		l.open.Add(-1)
	}
}

type connMeta struct {
	remote net.Addr
	since  time.Time
}

// Server accepts connections on one listener.
type Server struct {
	name   string
	logger *slog.Logger

	mu       sync.Mutex
	ln       net.Listener
	conns    map[Conn]connMeta
	closing  bool
	wg       sync.WaitGroup
	shutdown chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	limit  *Limit
}

// SetLimit makes the server share l with others; call before Serve.
func (s *Server) SetLimit(l *Limit) { s.limit = l }

// New returns a server; name labels its errors and log lines.
func New(name string, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{name: name, logger: logger, conns: map[Conn]connMeta{}, shutdown: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// Conns is the number of open connections, for metrics.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// ConnInfos describes the open connections, in no particular order.
func (s *Server) ConnInfos() []ConnInfo {
	s.mu.Lock()
	out := make([]ConnInfo, 0, len(s.conns))
	var ds []Describer
	for c, m := range s.conns {
		out = append(out, ConnInfo{Remote: m.remote, Since: m.since})
		d, _ := c.(Describer)
		ds = append(ds, d)
	}
	s.mu.Unlock()
	// Describe may take the connection's own locks: not under s.mu.
	for i, d := range ds {
		if d != nil {
			out[i].ConnDetail = d.Describe()
		}
	}
	return out
}

// Context is cancelled when Shutdown starts; connections derive theirs
// from it.
func (s *Server) Context() context.Context { return s.ctx }

// Addr is the listener's address once serving, else nil.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve accepts on ln until Shutdown, running each connection made by
// newConn in its own goroutine. It returns nil after Shutdown and the
// accept error otherwise.
func (s *Server) Serve(ln net.Listener, newConn func(net.Conn) Conn) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.ln = ln
	s.mu.Unlock()
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
				s.logger.Warn("accept failed; retrying", "listener", s.name, "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("%s accept: %w", s.name, err)
		}
		delay = 0
		if !s.limit.acquire() {
			if now := time.Now().Unix(); s.limit.warned.Swap(now) != now {
				s.logger.Warn("connection refused: max.connections reached", "listener", s.name, "remote", nc.RemoteAddr().String(), "max", s.limit.max)
			}
			nc.Close()
			continue
		}
		c := newConn(nc)
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			c.Close()
			s.limit.release()
			continue
		}
		s.conns[c] = connMeta{remote: nc.RemoteAddr(), since: time.Now()}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.Serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			s.limit.release()
		}()
	}
}

// Shutdown stops accepting and drains connections; when ctx ends first,
// the rest are closed and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing {
		s.closing = true
		close(s.shutdown)
		if s.ln != nil {
			s.ln.Close()
		}
		for c := range s.conns {
			c.StopReading()
		}
		s.cancel()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}
