package amqp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ternmq/tern/internal/amqp/spec"
	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/netserve"
	"github.com/ternmq/tern/internal/tlsconf"
)

// handshakeTimeout bounds the time from TCP accept to connection.open.
const handshakeTimeout = 10 * time.Second

// conn is one AMQP connection: a reader goroutine that decodes frames and
// runs channel methods in order, and a writer goroutine that sends frames
// queued by the reader, by queue delivery loops and by confirm waiters.
// The out queue is bounded, so a consumer that does not read slows the
// queues delivering to it instead of growing memory.
type conn struct {
	s      *Server
	nc     net.Conn
	id     uint64
	logger *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	in         idleReader
	out        *outbox
	stopWriter chan struct{} // closed when the reader is done
	stopping   atomic.Bool

	frameMax   uint32
	channelMax uint16 // negotiated: the most channels open at once
	heartbeat  time.Duration
	vhost      *broker.VHost
	user       string
	// access is the user in the vhost: every channel method that touches
	// a queue or exchange asks it first (broker/authz.go).
	access broker.Principal
	// bodyBytes is the declared size of the message bodies being
	// received on all channels; only the reader touches it.
	bodyBytes uint64
	// releaseUser frees the user's connection slot (max.connections.per.user).
	releaseUser func()
	// detail is who is on the connection, set once it is open, for the
	// admin API (read from another goroutine).
	detail atomic.Pointer[netserve.ConnDetail]

	mu       sync.Mutex
	channels map[uint16]*channel
	closing  bool // connection.close sent or received
	// forced: the server closed the connection from outside the reader.
	forced atomic.Bool

	// blockedConsumers are consumers whose queues were told to stop
	// delivering while the outbox is full (see blockConsumer).
	blockMu          sync.Mutex
	blockedConsumers map[*consumer]struct{}

	// canBlock: the client announced the connection.blocked capability;
	// blocked: we told it so and owe it connection.unblocked.
	canBlock bool
	blocked  atomic.Bool
}

// notifyBlocked tells a capable client that publishing is blocked (once
// per alarm) or unblocked again.
func (c *conn) notifyBlocked(on bool) {
	if !c.canBlock {
		return
	}
	if on && c.blocked.CompareAndSwap(false, true) {
		c.sendMethod(0, &spec.ConnectionBlocked{Reason: "low on disk"})
	} else if !on && c.blocked.CompareAndSwap(true, false) {
		c.sendMethod(0, &spec.ConnectionUnblocked{})
	}
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.net.Context())
	id := s.connID.Add(1)
	return &conn{
		s: s, nc: nc, id: id, ctx: ctx, cancel: cancel, in: idleReader{nc: nc},
		logger:     s.logger.With("remote", nc.RemoteAddr().String(), "conn", id),
		out:        newOutbox(outboxLimit),
		stopWriter: make(chan struct{}),
		channels:   map[uint16]*channel{},
		frameMax:   s.cfg.FrameMax,
	}
}

// Close ends the connection at once (netserve.Conn).
func (c *conn) Close() { c.nc.Close() }

// StopReading asks the connection to close (netserve.Conn): RabbitMQ
// sends connection.close 320 CONNECTION_FORCED on shutdown.
func (c *conn) StopReading() {
	c.stopping.Store(true)
	// Never block shutdown on a slow client.
	c.out.tryAdd(false, func(b []byte) []byte {
		out, _ := spec.AppendMethodFrame(b, 0, &spec.ConnectionClose{ReplyCode: spec.ConnectionForced, ReplyText: "CONNECTION_FORCED - broker shutting down"})
		return out
	})
	c.in.idle.Store(0)
	c.nc.SetReadDeadline(time.Now().Add(time.Second))
}

// Serve runs the connection (netserve.Conn).
func (c *conn) Serve() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	err := c.run()
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !c.stopping.Load() {
		c.logger.Info("closing amqp connection", "user", c.user, "err", err)
	}
	c.s.track(c, false)
	if c.releaseUser != nil {
		c.releaseUser()
	}
	c.closeChannels()
	if c.vhost != nil {
		c.vhost.ConnectionClosed(context.Background(), c.id)
	}
	close(c.stopWriter)
	<-writerDone
	c.out.close()
	c.cancel()
	c.nc.Close()
}

// run does the handshake, then reads frames until the connection ends.
func (c *conn) run() error {
	c.nc.SetDeadline(time.Now().Add(handshakeTimeout))
	br := bufio.NewReaderSize(&c.in, 64<<10)
	if err := spec.ReadProtocolHeader(br); err != nil {
		if errors.Is(err, spec.ErrBadProtocolHeader) {
			// The spec's answer to a header it does not speak: send ours
			// and close.
			c.nc.Write([]byte(spec.ProtocolHeader))
		}
		return err
	}
	c.nc.SetWriteDeadline(time.Time{})
	if err := c.handshake(br); err != nil {
		return err
	}
	c.nc.SetDeadline(time.Time{})
	if c.heartbeat > 0 {
		c.in.idle.Store(int64(2 * c.heartbeat))
		go c.heartbeats()
	}
	for {
		f, err := spec.ReadFrame(br, c.frameMax)
		if c.isClosed() {
			// The server closed the connection (forceClose) while the
			// reader waited: nothing more is run; wait for close-ok.
			if err == nil && !isCloseOK(f) {
				c.drainUntilCloseOK(br)
			}
			return nil
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && c.heartbeat > 0 && !c.stopping.Load() {
				return fmt.Errorf("missed heartbeats from client, timeout: %v", 2*c.heartbeat)
			}
			if errors.Is(err, spec.ErrFrameTooLarge) || errors.Is(err, spec.ErrBadFrameEnd) || errors.Is(err, spec.ErrUnknownFrameType) {
				c.closeWith(newError(spec.FrameError, nil, "%v", err))
			}
			return err
		}
		if err := c.handleFrame(f); err != nil {
			var ae *amqpError
			if errors.As(err, &ae) {
				c.closeWith(ae)
				c.drainUntilCloseOK(br)
			}
			return err
		}
		if c.isClosed() {
			if c.forced.Load() {
				c.drainUntilCloseOK(br)
			}
			return nil
		}
	}
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// handleFrame routes a frame to its channel; errors returned are
// connection errors.
func (c *conn) handleFrame(f spec.Frame) error {
	if f.Type == spec.FrameHeartbeat {
		if f.Channel != 0 {
			return newError(spec.FrameError, nil, "heartbeat on channel %d", f.Channel)
		}
		return nil
	}
	if f.Channel == 0 {
		if f.Type != spec.FrameMethod {
			return newError(spec.UnexpectedFrame, nil, "%v frame on channel 0", f.Type)
		}
		m, err := spec.DecodeMethod(f.Payload)
		if err != nil {
			return decodeError(err)
		}
		return c.connectionMethod(m)
	}
	c.mu.Lock()
	ch := c.channels[f.Channel]
	c.mu.Unlock()
	if ch == nil {
		if f.Type != spec.FrameMethod {
			return newError(spec.ChannelError, nil, "frame on unopened channel %d", f.Channel)
		}
		m, err := spec.DecodeMethod(f.Payload)
		if err != nil {
			return decodeError(err)
		}
		switch m.(type) {
		case *spec.ChannelOpen:
			return c.openChannel(f.Channel)
		case *spec.ChannelCloseOK:
			return nil
		case *spec.ChannelClose:
			c.sendMethod(f.Channel, &spec.ChannelCloseOK{})
			return nil
		}
		return newError(spec.ChannelError, m, "expected 'channel.open' on channel %d", f.Channel)
	}
	return ch.handleFrame(f)
}

func decodeError(err error) *amqpError {
	var um *spec.UnknownMethodError
	if errors.As(err, &um) {
		if um.KnownClass {
			return newError(spec.CommandInvalid, nil, "%v", err)
		}
		return newError(spec.NotImplemented, nil, "%v", err)
	}
	return newError(spec.FrameError, nil, "%v", err)
}

func (c *conn) connectionMethod(m spec.Method) error {
	switch m := m.(type) {
	case *spec.ConnectionClose:
		c.mu.Lock()
		c.closing = true
		c.mu.Unlock()
		c.sendMethod(0, &spec.ConnectionCloseOK{})
		return nil
	case *spec.ConnectionCloseOK:
		c.mu.Lock()
		c.closing = true
		c.mu.Unlock()
		return nil
	case *spec.ConnectionBlocked, *spec.ConnectionUnblocked:
		return nil
	case *spec.ConnectionUpdateSecret:
		c.sendMethod(0, &spec.ConnectionUpdateSecretOK{})
		return nil
	default:
		return newError(spec.CommandInvalid, m, "unexpected %s on channel 0", m.Name())
	}
}

// openChannel opens channel id. As in RabbitMQ, what channel-max limits
// is how many channels are open at once (530 NOT_ALLOWED past it), not
// the channel numbers.
func (c *conn) openChannel(id uint16) error {
	c.mu.Lock()
	if n := len(c.channels); n >= int(c.channelMax) {
		c.mu.Unlock()
		return newError(spec.NotAllowed, &spec.ChannelOpen{}, "number of channels opened (%d) has reached the negotiated channel_max (%d)", n, c.channelMax)
	}
	ch := newChannel(c, id)
	c.channels[id] = ch
	c.mu.Unlock()
	c.sendMethod(id, &spec.ChannelOpenOK{})
	return nil
}

// closeWith sends connection.close for a hard error.
func (c *conn) closeWith(e *amqpError) {
	c.mu.Lock()
	already := c.closing
	c.closing = true
	c.mu.Unlock()
	if !already {
		c.logger.Info("amqp connection error", "code", e.code, "text", e.text)
		c.sendMethod(0, &spec.ConnectionClose{ReplyCode: e.code, ReplyText: e.text, FailingClassID: e.class, FailingMethodID: e.method})
	}
}

// forceClose closes the connection from outside its reader (the vhost was
// deleted): connection.close now, and the reader runs nothing more; it
// hangs up once the client's close-ok arrives, or after a second.
func (c *conn) forceClose(e *amqpError) {
	c.forced.Store(true)
	c.mu.Lock()
	already := c.closing
	c.closing = true
	c.mu.Unlock()
	if !already {
		c.logger.Info("amqp connection closed by the server", "code", e.code, "text", e.text)
		// push: the caller (a vhost delete) must not wait on a slow client.
		c.out.push(func(b []byte) []byte {
			out, _ := spec.AppendMethodFrame(b, 0, &spec.ConnectionClose{ReplyCode: e.code, ReplyText: e.text})
			return out
		})
	}
	c.in.idle.Store(0)
	c.nc.SetReadDeadline(time.Now().Add(time.Second))
}

// drainUntilCloseOK reads (and drops) frames for a short while so the
// client's connection.close-ok arrives before we hang up.
func (c *conn) drainUntilCloseOK(br *bufio.Reader) {
	c.in.idle.Store(0)
	c.nc.SetReadDeadline(time.Now().Add(time.Second))
	for {
		f, err := spec.ReadFrame(br, c.frameMax)
		if err != nil || isCloseOK(f) {
			return
		}
	}
}

func isCloseOK(f spec.Frame) bool {
	return f.Type == spec.FrameMethod && f.Channel == 0 && len(f.Payload) >= 4 &&
		binary.BigEndian.Uint16(f.Payload) == spec.ClassConnection && binary.BigEndian.Uint16(f.Payload[2:]) == spec.MethodConnectionCloseOK
}

func (c *conn) closeChannels() {
	c.mu.Lock()
	chs := make([]*channel, 0, len(c.channels))
	for _, ch := range c.channels {
		chs = append(chs, ch)
	}
	c.channels = map[uint16]*channel{}
	c.mu.Unlock()
	for _, ch := range chs {
		ch.release()
	}
}

// send queues encoded frames for the writer; it blocks while the writer
// is behind (backpressure) and drops them once the connection is gone.
// idleReader reads the socket with a deadline of idle (when set) from
// each read: the client must send something — a frame or a heartbeat —
// within twice the heartbeat interval. Setting the deadline per socket
// read rather than per frame keeps timer updates and clock reads off the
// per-frame path (bufio reads many frames per socket read under load).
type idleReader struct {
	nc   net.Conn
	idle atomic.Int64 // time.Duration; 0 leaves the deadline alone
}

func (r *idleReader) Read(p []byte) (int, error) {
	if d := time.Duration(r.idle.Load()); d > 0 {
		r.nc.SetReadDeadline(time.Now().Add(d))
	}
	return r.nc.Read(p)
}

// outboxLimit bounds the bytes queued for one connection's writer.
const outboxLimit = 1 << 20

// sendMethod queues one method frame.
func (c *conn) sendMethod(ch uint16, m spec.Method) {
	c.out.add(func(b []byte) []byte {
		out, err := spec.AppendMethodFrame(b, ch, m)
		if err != nil {
			c.logger.Error("encode method", "method", m.Name(), "err", err)
		}
		return out
	})
}

// sendContent queues a content method, its header and body frames as one
// unit, so frames of two messages never interleave on a channel. props is
// the content header as the publisher sent it (or empty: no properties).
func (c *conn) sendContent(ch uint16, m spec.Method, props []byte, body []byte) {
	c.out.add(c.contentFrames(ch, m, props, body))
}

// contentFrames encodes a content method, header and body frames.
func (c *conn) contentFrames(ch uint16, m spec.Method, props []byte, body []byte) func([]byte) []byte {
	return func(b []byte) []byte {
		start := len(b)
		b, err := spec.AppendMethodFrame(b, ch, m)
		if err == nil {
			if len(props) > 0 {
				b, err = spec.AppendStoredHeaderFrame(b, ch, props, uint64(len(body)))
			}
			if len(props) == 0 || err != nil {
				// No properties, or stored ones that are not a header
				// (a Kafka record's): deliver without properties.
				b, err = spec.AppendHeaderFrame(b, ch, &spec.ContentHeader{ClassID: spec.ClassBasic, BodySize: uint64(len(body))})
			}
		}
		if err == nil {
			b, err = spec.AppendBodyFrames(b, ch, body, c.frameMax)
		}
		if err != nil {
			c.logger.Error("encode content", "method", m.Name(), "err", err)
			return b[:start]
		}
		return b
	}
}

// blockConsumer stops a queue's deliveries to cs while the outbox is
// full; the writer unblocks it once it has taken the buffer. Checking
// fullness and recording the block under blockMu, which the writer also
// takes after each take, means an unblock is never missed.
func (c *conn) blockConsumer(cs *consumer) {
	c.blockMu.Lock()
	defer c.blockMu.Unlock()
	if !c.out.full() {
		return
	}
	if c.blockedConsumers == nil {
		c.blockedConsumers = map[*consumer]struct{}{}
	}
	c.blockedConsumers[cs] = struct{}{}
	cs.q.SetConsumerBlocked(cs.id, true)
}

// unblockConsumers resumes deliveries to every blocked consumer.
func (c *conn) unblockConsumers() {
	c.blockMu.Lock()
	defer c.blockMu.Unlock()
	for cs := range c.blockedConsumers {
		cs.q.SetConsumerBlocked(cs.id, false)
	}
	clear(c.blockedConsumers)
}

// writeLoop writes whatever is queued, one write per batch, until the
// reader is done; then it sends what is still queued (a close-ok, say)
// and stops.
func (c *conn) writeLoop() {
	for {
		b := c.out.take(c.stopWriter)
		if b == nil {
			return
		}
		deadline := time.Minute
		select {
		case <-c.stopWriter:
			deadline = time.Second
		default:
		}
		c.unblockConsumers() // room again: see blockConsumer
		c.nc.SetWriteDeadline(time.Now().Add(deadline))
		_, err := c.nc.Write(b)
		c.out.done(b)
		if err != nil {
			c.out.close()
			c.cancel()
			c.nc.Close()
			return
		}
	}
}

func (c *conn) heartbeats() {
	t := time.NewTicker(c.heartbeat / 2)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			// Only when idle: queued frames count as traffic.
			c.out.tryAdd(true, spec.AppendHeartbeatFrame)
		}
	}
}

// handshake runs connection.start … open-ok, authenticating the user.
func (c *conn) handshake(br *bufio.Reader) error {
	start := &spec.ConnectionStart{
		VersionMajor: spec.ProtocolMajor, VersionMinor: spec.ProtocolMinor,
		ServerProperties: spec.Table{
			"product":  "Tern",
			"version":  "0.1.0",
			"platform": "Go",
			"capabilities": spec.Table{
				"publisher_confirms":           true,
				"exchange_exchange_bindings":   true,
				"basic.nack":                   true,
				"consumer_cancel_notify":       true,
				"connection.blocked":           true,
				"consumer_priorities":          true,
				"authentication_failure_close": true,
				"per_consumer_qos":             true,
				"direct_reply_to":              false,
			},
		},
		Mechanisms: "PLAIN AMQPLAIN",
		Locales:    "en_US",
	}
	// The TLS handshake is over by now (the protocol header came through
	// it): a verified client certificate offers EXTERNAL.
	certUser := peerCertUser(c.nc)
	if certUser != "" {
		start.Mechanisms += " EXTERNAL"
	}
	c.sendMethod(0, start)
	startOK, err := expectMethod[*spec.ConnectionStartOK](c, br)
	if err != nil {
		return err
	}
	user, err := c.login(startOK, certUser)
	if err != nil {
		c.closeWith(newError(spec.AccessRefused, startOK, "%v", err))
		return err
	}
	c.user = user
	c.sendMethod(0, &spec.ConnectionTune{ChannelMax: c.s.cfg.ChannelMax, FrameMax: c.s.cfg.FrameMax, Heartbeat: uint16(c.s.cfg.Heartbeat / time.Second)})
	tuneOK, err := expectMethod[*spec.ConnectionTuneOK](c, br)
	if err != nil {
		return err
	}
	// As RabbitMQ: the client may lower the limits it was offered, never
	// raise them or ask for none (0).
	for _, e := range []*amqpError{
		negotiate(tuneOK, "frame_max", tuneOK.FrameMax, spec.FrameMinSize, c.s.cfg.FrameMax),
		negotiate(tuneOK, "channel_max", uint32(tuneOK.ChannelMax), 1, uint32(c.s.cfg.ChannelMax)),
	} {
		if e != nil {
			c.closeWith(e)
			return e
		}
	}
	c.frameMax, c.channelMax = tuneOK.FrameMax, tuneOK.ChannelMax
	c.heartbeat = time.Duration(tuneOK.Heartbeat) * time.Second
	open, err := expectMethod[*spec.ConnectionOpen](c, br)
	if err != nil {
		return err
	}
	v, err := c.s.broker.VHost(open.VirtualHost)
	if err != nil {
		e := newError(spec.NotAllowed, open, "vhost %s not found", open.VirtualHost) // RabbitMQ's words
		c.closeWith(e)
		return e
	}
	// As RabbitMQ: a user with no permissions in the vhost may not open it.
	if _, ok := c.s.broker.PermissionOf(v.Name(), c.user); !ok {
		e := newError(spec.NotAllowed, open, "access to vhost '%s' refused for user '%s'", open.VirtualHost, c.user)
		c.closeWith(e)
		return e
	}
	release, err := c.s.broker.Connected(c.user)
	if err != nil {
		e := newError(spec.NotAllowed, open, "Connection refused for user '%s': user connection limit is reached", c.user)
		c.closeWith(e)
		return e
	}
	c.releaseUser = release
	c.vhost = v
	c.access = v.Principal(c.user)
	if caps, ok := startOK.ClientProperties["capabilities"].(spec.Table); ok {
		c.canBlock, _ = caps["connection.blocked"].(bool)
	}
	d := netserve.ConnDetail{User: c.user, VHost: v.Name()}
	for _, k := range []string{"connection_name", "product"} {
		if s, ok := startOK.ClientProperties[k].(string); ok && s != "" {
			d.Client = s
			break
		}
	}
	c.detail.Store(&d)
	c.sendMethod(0, &spec.ConnectionOpenOK{})
	c.s.track(c, true)
	if v.Deleted() {
		// Deleted between the lookup and track: OnVHostDeleted missed us.
		e := vhostDeletedError(v.Name())
		c.closeWith(e)
		return e
	}
	return nil
}

// negotiate checks one limit of connection.tune-ok against what the
// server offered, in RabbitMQ's words.
func negotiate(m spec.Method, field string, client, min, server uint32) *amqpError {
	detail := ""
	if client == 0 {
		detail = " (no limit)"
	}
	switch {
	case client != 0 && client < min:
		return newError(spec.NotAllowed, m, "negotiated %s = %d%s is lower than the minimum allowed value (%d)", field, client, detail, min)
	case server != 0 && (client == 0 || client > server):
		return newError(spec.NotAllowed, m, "negotiated %s = %d%s is higher than the maximum allowed value (%d)", field, client, detail, server)
	}
	return nil
}

// vhostDeletedError is how RabbitMQ closes the connections of a deleted
// vhost.
func vhostDeletedError(vhost string) *amqpError {
	return newError(spec.ConnectionForced, nil, "vhost '%s' is deleted", vhost)
}

// expectMethod reads the next frame of the handshake and checks its type.
func expectMethod[M spec.Method](c *conn, br *bufio.Reader) (M, error) {
	var zero M
	for {
		f, err := spec.ReadFrame(br, c.frameMax)
		if err != nil {
			return zero, err
		}
		if f.Type == spec.FrameHeartbeat {
			continue
		}
		if f.Type != spec.FrameMethod || f.Channel != 0 {
			e := newError(spec.UnexpectedFrame, nil, "unexpected %v frame on channel %d during handshake", f.Type, f.Channel)
			c.closeWith(e)
			return zero, e
		}
		m, err := spec.DecodeMethod(f.Payload)
		if err != nil {
			e := decodeError(err)
			c.closeWith(e)
			return zero, e
		}
		if cl, ok := m.(*spec.ConnectionClose); ok {
			c.sendMethod(0, &spec.ConnectionCloseOK{})
			return zero, fmt.Errorf("client closed during handshake: %d %s", cl.ReplyCode, cl.ReplyText)
		}
		want, ok := m.(M)
		if !ok {
			e := newError(spec.CommandInvalid, m, "expected %T, got %s", zero, m.Name())
			c.closeWith(e)
			return zero, e
		}
		return want, nil
	}
}

// parseCredentials reads a PLAIN ("\x00user\x00pass") or AMQPLAIN (a
// field table without its length prefix) response.
func parseCredentials(mechanism, response string) (string, string, error) {
	switch mechanism {
	case "PLAIN":
		parts := bytes.SplitN([]byte(response), []byte{0}, 3)
		if len(parts) != 3 {
			return "", "", fmt.Errorf("malformed PLAIN response")
		}
		return string(parts[1]), string(parts[2]), nil
	case "AMQPLAIN":
		b := binary.BigEndian.AppendUint32(nil, uint32(len(response)))
		t, err := spec.DecodeTable(append(b, response...))
		if err != nil {
			return "", "", fmt.Errorf("malformed AMQPLAIN response: %w", err)
		}
		user, _ := t["LOGIN"].(string)
		pass, _ := t["PASSWORD"].(string)
		return user, pass, nil
	default:
		return "", "", fmt.Errorf("unsupported authentication mechanism %q", mechanism)
	}
}

// login checks connection.start-ok's credentials and returns the user:
// a password (PLAIN, AMQPLAIN), or the client certificate's common name
// (EXTERNAL, which RabbitMQ's rabbitmq_auth_mechanism_ssl provides),
// which must name an existing user.
func (c *conn) login(startOK *spec.ConnectionStartOK, certUser string) (string, error) {
	remote := netserve.RemoteIP(c.nc)
	if startOK.Mechanism == "EXTERNAL" {
		if certUser == "" {
			return "", fmt.Errorf("EXTERNAL needs a verified client certificate")
		}
		if _, err := c.s.broker.AuthenticateExternal(certUser, remote); err != nil {
			return "", fmt.Errorf("Login was refused using authentication mechanism EXTERNAL. For details see the broker logfile.")
		}
		return certUser, nil
	}
	user, pass, err := parseCredentials(startOK.Mechanism, startOK.Response)
	if err != nil {
		return "", err
	}
	return user, c.authenticate(remote, user, pass, startOK.Mechanism)
}

// peerCertUser is the common name of a TLS peer's verified certificate.
func peerCertUser(nc net.Conn) string {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return ""
	}
	name, _ := tlsconf.PeerName(tc.ConnectionState())
	return name
}

func (c *conn) authenticate(remote netip.Addr, user, pass, mechanism string) error {
	if _, err := c.s.broker.AuthenticateMechanism(user, pass, remote, mechanism); err != nil {
		if errors.Is(err, broker.ErrAccessRefused) {
			return fmt.Errorf("user '%s' can only connect via localhost", user)
		}
		if errors.Is(err, broker.ErrLoginThrottled) {
			return fmt.Errorf("Login was refused: too many failed logins from this address; wait a minute")
		}
		return fmt.Errorf("Login was refused using authentication mechanism %s. For details see the broker logfile.", mechanism)
	}
	return nil
}

// Describe implements netserve.Describer.
func (c *conn) Describe() netserve.ConnDetail {
	var d netserve.ConnDetail
	if p := c.detail.Load(); p != nil {
		d = *p
	}
	c.mu.Lock()
	d.Channels = len(c.channels)
	c.mu.Unlock()
	return d
}
