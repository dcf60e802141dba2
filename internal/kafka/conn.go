package kafka

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/netserve"
	"github.com/ternmq/tern/internal/storage"
)

// idleTimeout closes connections that send nothing, as Kafka's
// connections.max.idle.ms (10 minutes).
const idleTimeout = 10 * time.Minute

// conn is one client connection: a reader goroutine that decodes frames
// and dispatches them, and a writer goroutine that sends the answers in
// request order. Handlers may finish out of order (a long-poll fetch, a
// join waiting for the group, a produce waiting for its fsync); the
// writer waits for each in turn, which is how pipelined requests are
// answered in order while their work overlaps.
type conn struct {
	s      *Server
	nc     net.Conn
	logger *slog.Logger
	ctx    context.Context // ends when the connection closes
	cancel context.CancelFunc

	queue    chan *request // answers in request order; cap bounds in-flight work
	stopping atomic.Bool
	clientID string
	// client is clientID for the admin API's connection list, which reads
	// it from another goroutine.
	client atomic.Pointer[string]
	// princ is the authenticated principal (principal.go); nil means
	// anonymous.
	princ atomic.Pointer[string]
	// remote is the client's IP address, for logins and ACL hosts
	// (Kafka: the socket's getHostAddress()); the zero Addr when the
	// peer has no IP, which only "*" ACLs match.
	remote netip.Addr
	// sasl is the authentication state (sasl.go), the reader's alone.
	sasl saslSession

	// inflightBytes is the size of request frames read but not yet
	// answered; the reader waits for the writer to release some before
	// reading a frame that would take it past the budget, so one
	// pipelining client holds at most about two max-size requests.
	inflightBytes atomic.Int64
	released      chan struct{}
}

// request is one decoded request and, once its handler finishes, its
// answer.
type request struct {
	key, version int16
	size         int64 // frame bytes, returned to the connection's budget once answered
	respVersion  int16 // the answer's version; differs only for a refused ApiVersions
	corrID       int32
	clientID     string
	flexible     bool
	kreq         kmsg.Request

	done     chan struct{}
	once     sync.Once
	resp     kmsg.Response
	noAnswer bool            // acks=0 produce: nothing is written back
	records  []storage.Slice // fetch only: spliced into the encoded answer
	raw      []byte          // a bare SASL token answered after SaslHandshake v0 (sasl.go)
	close    bool            // close the connection after this answer
	received time.Time       // when it was read; set only with Config.Observer
}

// respond completes the request; only the first call counts.
func (r *request) respond(resp kmsg.Response) {
	r.once.Do(func() {
		r.resp = resp
		close(r.done)
	})
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.net.Context())
	c := &conn{
		s:        s,
		nc:       nc,
		remote:   netserve.RemoteIP(nc),
		logger:   s.logger.With("remote", nc.RemoteAddr().String()),
		ctx:      ctx,
		cancel:   cancel,
		queue:    make(chan *request, s.cfg.MaxInFlight),
		released: make(chan struct{}, 1),
	}
	c.initSASL()
	return c
}

// Close ends the connection at once (netserve.Conn).
func (c *conn) Close() { c.nc.Close() }

// StopReading makes the reader stop after the frame it is reading, so
// Shutdown drains what was already received (netserve.Conn).
func (c *conn) StopReading() {
	c.stopping.Store(true)
	c.nc.SetReadDeadline(time.Now())
}

// Serve runs the connection until it ends (netserve.Conn).
func (c *conn) Serve() {
	defer c.endSASL()
	if !c.tlsHandshake() {
		c.cancel()
		c.nc.Close()
		return
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	err := c.readLoop()
	if !c.stopping.Load() {
		// The client is gone (or broke the protocol): parked long polls
		// and joins of this connection end now, not at their timeouts.
		c.cancel()
	}
	close(c.queue)
	if err != nil && !c.stopping.Load() && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.logger.Info("closing kafka connection", "client_id", c.clientID, "err", err)
	}
	<-writerDone
	c.cancel()
	c.nc.Close()
}

func (c *conn) readLoop() error {
	br := bufio.NewReaderSize(c.nc, 64<<10)
	var sizeBuf [4]byte
	for {
		c.nc.SetReadDeadline(time.Now().Add(idleTimeout))
		if c.stopping.Load() { // checked after the deadline: stopReading may have raced it
			return nil
		}
		if _, err := io.ReadFull(br, sizeBuf[:]); err != nil {
			return err
		}
		size := int32(binary.BigEndian.Uint32(sizeBuf[:]))
		minSize, maxSize := int32(8), c.maxFrame()
		if c.rawTokenNext() {
			minSize = 0 // a bare SASL token has no header
		}
		if size < minSize || size > maxSize {
			return fmt.Errorf("request frame of %d bytes is outside [%d, %d]", size, minSize, maxSize)
		}
		for c.inflightBytes.Load() > 0 && c.inflightBytes.Load()+int64(size) > c.s.cfg.ConnMemory {
			select {
			case <-c.released:
			case <-c.ctx.Done():
				return c.ctx.Err()
			}
		}
		body, err := readFrame(br, int(size))
		if err != nil {
			return fmt.Errorf("reading %d-byte frame: %w", size, err)
		}
		var r *request
		if c.rawTokenNext() {
			r = c.handleRawToken(body)
		} else if r, err = c.decode(body); err != nil {
			return err
		}
		r.size = int64(size)
		c.inflightBytes.Add(r.size)
		select {
		case c.queue <- r:
		case <-c.ctx.Done():
			return c.ctx.Err()
		}
		if !c.dispatch(r) || c.sasl.stop {
			return nil
		}
	}
}

// decode parses the request header and body. An error closes the
// connection, as Kafka does for requests it cannot parse; an ApiVersions
// request above our range is answered (KIP-511) rather than refused.
func (c *conn) decode(body []byte) (*request, error) {
	rd := kbin.Reader{Src: body}
	key, version, corrID := rd.Int16(), rd.Int16(), rd.Int32()
	clientID := rd.NullableString()
	if err := rd.Complete(); err != nil {
		return nil, fmt.Errorf("short request header: %w", err)
	}
	r := &request{key: key, version: version, respVersion: version, corrID: corrID, done: make(chan struct{})}
	if c.s.cfg.Observer != nil {
		r.received = time.Now()
	}
	if clientID != nil {
		r.clientID = *clientID
		if c.clientID != *clientID || c.client.Load() == nil {
			c.clientID = *clientID
			c.client.Store(clientID)
		}
	}
	spec, known := c.s.apis.lookup(key)
	if err := c.saslGate(key, known && version >= spec.min && version <= spec.max); err != nil {
		return nil, err
	}
	kreq := kmsg.RequestForKey(key)
	if !known || kreq == nil {
		return nil, fmt.Errorf("unsupported api key %d (%s) version %d", key, kmsg.NameForKey(key), version)
	}
	if version < spec.min || version > spec.max {
		if key == apiVersionsKey {
			// KIP-511: answer in v0 with UNSUPPORTED_VERSION and our
			// ranges, so the client retries with a version we speak.
			r.respVersion = 0
			r.respond(c.apiVersionsResponse(kerr.UnsupportedVersion.Code))
			return r, nil
		}
		return nil, fmt.Errorf("unsupported version %d of %s (supported %d-%d)", version, kmsg.NameForKey(key), spec.min, spec.max)
	}
	kreq.SetVersion(version)
	r.flexible = kreq.IsFlexible()
	if r.flexible {
		kmsg.SkipTags(&rd)
		if err := rd.Complete(); err != nil {
			return nil, fmt.Errorf("short request header tags: %w", err)
		}
	}
	if err := kreq.ReadFrom(rd.Src); err != nil {
		return nil, fmt.Errorf("malformed %s v%d request: %w", kmsg.NameForKey(key), version, err)
	}
	r.kreq = kreq
	return r, nil
}

// readFrame reads a size-byte frame, growing the buffer as bytes arrive:
// a length prefix alone must not make the broker allocate max.request.bytes.
func readFrame(r io.Reader, size int) ([]byte, error) {
	const chunk = 1 << 20
	if size <= chunk {
		body := make([]byte, size)
		_, err := io.ReadFull(r, body)
		return body, err
	}
	body := make([]byte, 0, chunk)
	for len(body) < size {
		n := min(size-len(body), max(chunk, len(body)))
		body = slices.Grow(body, n)
		if _, err := io.ReadFull(r, body[len(body):len(body)+n]); err != nil {
			return nil, err
		}
		body = body[:len(body)+n]
	}
	return body, nil
}

// dispatch runs the handler and reports whether to keep reading. A
// handler that panics answers nothing and closes this connection only,
// never the broker.
func (c *conn) dispatch(r *request) (ok bool) {
	if r.kreq == nil { // answered during decode
		return true
	}
	defer func() {
		if v := recover(); v != nil {
			c.logger.Error("kafka handler panicked; closing connection", "api", kmsg.NameForKey(r.key), "version", r.version, "panic", v)
			r.close = true
			r.noAnswer = true
			r.respond(nil)
			ok = false
		}
	}()
	spec, _ := c.s.apis.lookup(r.key)
	spec.handle(c, r)
	return true
}

// goAsync runs the slow part of a handler off the reader goroutine; the
// function must respond.
func (c *conn) goAsync(r *request, fn func()) {
	go func() {
		defer func() {
			if v := recover(); v != nil {
				c.logger.Error("kafka handler panicked; closing connection", "api", kmsg.NameForKey(r.key), "panic", v)
				r.close = true
				r.noAnswer = true
				r.respond(nil)
				c.nc.Close()
			}
		}()
		fn()
	}()
}

func (c *conn) writeLoop() {
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	failed := false
	for r := range c.queue {
		select {
		case <-r.done:
		default:
			// This answer is not ready (a long poll, a join): send what
			// is buffered now rather than hold it behind the wait.
			if !failed {
				if err := bw.Flush(); err != nil {
					failed = true
					c.cancel()
					c.nc.Close()
				}
			}
			<-r.done
		}
		if !failed && c.s.cfg.Faults != nil && c.s.cfg.Faults.DropResponse(r.key) {
			bw.Flush() // earlier answers got through; this one is lost
			failed = true
			c.cancel()
			c.nc.Close()
		}
		if !failed && !r.noAnswer && (r.resp != nil || r.raw != nil) {
			// A client that stops reading must not pin this goroutine,
			// its buffers and the segment files of its fetches forever.
			c.nc.SetWriteDeadline(time.Now().Add(idleTimeout))
			if err := c.writeResponse(bw, r); err != nil {
				failed = true
				c.logger.Debug("write failed", "err", err)
				c.cancel()
				c.nc.Close()
			}
		}
		for _, s := range r.records {
			s.Release()
		}
		if obs := c.s.cfg.Observer; obs != nil && !r.received.IsZero() {
			obs(r.key, time.Since(r.received))
		}
		c.inflightBytes.Add(-r.size)
		select {
		case c.released <- struct{}{}:
		default:
		}
		// Coalesce: flush only when no further answer is ready to go.
		if !failed && len(c.queue) == 0 {
			if err := bw.Flush(); err != nil {
				failed = true
				c.cancel()
				c.nc.Close()
			}
		}
		if r.close && !failed {
			bw.Flush()
			c.cancel()
			c.nc.Close()
			failed = true
		}
	}
	if !failed {
		bw.Flush()
	}
}

// writeResponse encodes the answer with kmsg and writes it. For Fetch,
// the record bytes are not in the encoding: each partition's records were
// replaced by a marker, and here the marker (with its length prefix) is
// swapped for the real length prefix and the file range, which goes to
// the socket with sendfile when the connection is TCP.
func (c *conn) writeResponse(bw *bufio.Writer, r *request) error {
	if r.raw != nil {
		var size [4]byte
		binary.BigEndian.PutUint32(size[:], uint32(len(r.raw)))
		bw.Write(size[:])
		_, err := bw.Write(r.raw)
		return err
	}
	resp := r.resp
	resp.SetVersion(r.respVersion)
	buf := make([]byte, 8, 256)
	binary.BigEndian.PutUint32(buf[4:], uint32(r.corrID))
	// Every flexible response has a tagged header, except ApiVersions
	// whose header stays v0 so old clients can always parse it.
	if r.flexible && r.key != apiVersionsKey {
		buf = append(buf, 0)
	}
	buf = resp.AppendTo(buf)
	if len(r.records) == 0 {
		binary.BigEndian.PutUint32(buf, uint32(len(buf)-4))
		_, err := bw.Write(buf)
		return err
	}
	holes, err := findHoles(buf, c.s.spliceNonce, r.records, r.flexible)
	if err != nil {
		return err
	}
	size := int64(len(buf) - 4)
	for _, h := range holes {
		size += int64(len(h.prefix)) + h.slice.Size() - int64(h.end-h.start)
	}
	if size > 1<<31-1 {
		return fmt.Errorf("fetch response of %d bytes", size)
	}
	binary.BigEndian.PutUint32(buf, uint32(size))
	pos := 0
	for _, h := range holes {
		if _, err := bw.Write(buf[pos:h.start]); err != nil {
			return err
		}
		if _, err := bw.Write(h.prefix); err != nil {
			return err
		}
		if err := c.writeSlice(bw, h.slice); err != nil {
			return err
		}
		pos = h.end
	}
	_, err = bw.Write(buf[pos:])
	return err
}

// sendfileMin is the smallest range worth a flush plus a sendfile call;
// smaller ranges are copied through the buffer.
const sendfileMin = 32 << 10

func (c *conn) writeSlice(bw *bufio.Writer, s storage.Slice) error {
	if s.Size() >= sendfileMin {
		if _, ok := c.nc.(*net.TCPConn); ok {
			if err := bw.Flush(); err != nil {
				return err
			}
			n, err := s.WriteTo(c.nc)
			if err == nil && n != s.Size() {
				err = fmt.Errorf("sent %d of %d record bytes: %w", n, s.Size(), os.ErrClosed)
			}
			return err
		}
	}
	scratch := make([]byte, 0, s.Size())
	scratch, err := s.AppendTo(scratch)
	if err != nil {
		return err
	}
	_, err = bw.Write(scratch)
	return err
}

// Describe implements netserve.Describer.
func (c *conn) Describe() netserve.ConnDetail {
	var d netserve.ConnDetail
	if id := c.client.Load(); id != nil {
		d.Client = *id
	}
	if p := c.princ.Load(); p != nil {
		d.User = *p
	}
	return d
}
