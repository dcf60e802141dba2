package spec

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// ProtocolHeader is what an AMQP 0-9-1 client sends first, and what a
// server sends back before closing when it does not like the client's.
const ProtocolHeader = "AMQP\x00\x00\x09\x01"

// FrameType is the first octet of a frame. The values (FrameMethod,
// FrameHeader, FrameBody, FrameHeartbeat) are generated from the spec.
type FrameType uint8

func (t FrameType) String() string {
	switch t {
	case FrameMethod:
		return "method"
	case FrameHeader:
		return "header"
	case FrameBody:
		return "body"
	case FrameHeartbeat:
		return "heartbeat"
	}
	return fmt.Sprintf("FrameType(%d)", uint8(t))
}

// Frame is one AMQP frame:
//
//	+------+---------+---------+-------------+-----------+
//	| type | channel |  size   |   payload   | frame-end |
//	|  1   |    2    |    4    |  size bytes |  1 (0xCE) |
//	+------+---------+---------+-------------+-----------+
//
// Integers are big-endian. A frame's total size (payload + 8) never
// exceeds the frame-max negotiated by connection.tune.
type Frame struct {
	Type    FrameType
	Channel uint16
	// Payload: method (DecodeMethod), content header
	// (DecodeContentHeader), a chunk of the body, or empty (heartbeat).
	Payload []byte
}

// frameOverhead is the bytes a frame adds around its payload.
const frameOverhead = 8

// ReadProtocolHeader reads the 8-byte protocol header a client sends when
// it connects. It returns a *ProtocolHeaderError (errors.Is
// ErrBadProtocolHeader) when the bytes are not ProtocolHeader — the server
// then writes ProtocolHeader and closes the connection — and an I/O error
// (io.EOF, io.ErrUnexpectedEOF, …) when fewer than 8 bytes arrive, with
// the bytes read so far checked first: a client that sent "HTTP" and hung
// up gets a header error, not EOF.
func ReadProtocolHeader(r io.Reader) error {
	var got [len(ProtocolHeader)]byte
	n, err := io.ReadFull(r, got[:])
	if string(got[:n]) != ProtocolHeader[:n] {
		return &ProtocolHeaderError{Got: got[:n:n]}
	}
	if err != nil {
		return fmt.Errorf("amqp/spec: reading protocol header: %w", err)
	}
	return nil
}

// ReadFrame reads one frame. maxSize is the negotiated frame-max (whole
// frame, header and frame-end included); values below FrameMinSize,
// including 0, mean FrameMinSize, which is also the limit before
// connection.tune-ok. A frame announcing a larger payload fails with
// ErrFrameTooLarge before its payload is read or allocated.
//
// It returns io.EOF only when the stream ends cleanly between frames; a
// frame cut short yields an error wrapping io.ErrUnexpectedEOF. An unknown
// frame type fails with ErrUnknownFrameType, a wrong end octet with
// ErrBadFrameEnd. Any error leaves the stream out of sync: close the
// connection. The payload is freshly allocated and owned by the caller.
// ReadFrame checks framing only: whether a heartbeat is on channel 0, or
// a method is allowed on the channel, is the connection's business.
func ReadFrame(r *bufio.Reader, maxSize uint32) (Frame, error) {
	var hdr [7]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return Frame{}, io.EOF
		}
		return Frame{}, fmt.Errorf("amqp/spec: reading frame header: %w", err)
	}
	f := Frame{Type: FrameType(hdr[0]), Channel: binary.BigEndian.Uint16(hdr[1:3])}
	size := binary.BigEndian.Uint32(hdr[3:7])
	switch f.Type {
	case FrameMethod, FrameHeader, FrameBody, FrameHeartbeat:
	default:
		return Frame{}, fmt.Errorf("%w: type %d on channel %d", ErrUnknownFrameType, hdr[0], f.Channel)
	}
	maxSize = max(maxSize, FrameMinSize)
	if uint64(size)+frameOverhead > uint64(maxSize) {
		return Frame{}, fmt.Errorf("%w: %s frame on channel %d with a %d-byte payload exceeds frame-max %d",
			ErrFrameTooLarge, f.Type, f.Channel, size, maxSize)
	}
	f.Payload = make([]byte, size)
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return Frame{}, fmt.Errorf("amqp/spec: reading %d-byte %s frame payload: %w", size, f.Type, noEOF(err))
	}
	end, err := r.ReadByte()
	if err != nil {
		return Frame{}, fmt.Errorf("amqp/spec: reading frame-end: %w", noEOF(err))
	}
	if end != FrameEnd {
		return Frame{}, fmt.Errorf("%w: got 0x%02x after %s frame on channel %d", ErrBadFrameEnd, end, f.Type, f.Channel)
	}
	return f, nil
}

// noEOF turns io.EOF inside a frame into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// AppendFrame appends f as a complete frame. It fails (ErrInvalidValue)
// only for a payload over 4 GiB; it does not check frame-max.
func AppendFrame(b []byte, f Frame) ([]byte, error) {
	start := len(b)
	b = appendFrameHeader(b, f.Type, f.Channel)
	b = append(b, f.Payload...)
	return finishFrame(b, start)
}

// WriteFrame writes f as a complete frame to w in one Write call.
func WriteFrame(w io.Writer, f Frame) error {
	b, err := AppendFrame(make([]byte, 0, len(f.Payload)+frameOverhead), f)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// AppendHeartbeatFrame appends a heartbeat frame (channel 0, no payload).
func AppendHeartbeatFrame(b []byte) []byte {
	return append(b, byte(FrameHeartbeat), 0, 0, 0, 0, 0, 0, FrameEnd)
}

// AppendBodyFrames appends body as body frames on channel, each at most
// frameMax bytes long in total. frameMax 0 means no limit, as in
// connection.tune; other values below FrameMinSize mean FrameMinSize. An empty body appends no frame: the content header's
// body size of 0 says it all.
func AppendBodyFrames(b []byte, channel uint16, body []byte, frameMax uint32) ([]byte, error) {
	chunk := uint64(math.MaxUint32)
	if frameMax != 0 {
		chunk = uint64(max(frameMax, FrameMinSize)) - frameOverhead
	}
	start := len(b)
	for len(body) > 0 {
		n := min(uint64(len(body)), chunk)
		var err error
		if b, err = AppendFrame(b, Frame{Type: FrameBody, Channel: channel, Payload: body[:n]}); err != nil {
			return b[:start], err
		}
		body = body[n:]
	}
	return b, nil
}

// appendFrameHeader appends type, channel and a size placeholder that
// finishFrame fills in.
func appendFrameHeader(b []byte, t FrameType, channel uint16) []byte {
	return append(b, byte(t), byte(channel>>8), byte(channel), 0, 0, 0, 0)
}

// finishFrame fills in the size of the frame starting at b[start] and
// appends the frame-end octet.
func finishFrame(b []byte, start int) ([]byte, error) {
	size := len(b) - start - 7
	if uint64(size) > math.MaxUint32 {
		return b[:start], fmt.Errorf("%w: frame payload of %d bytes exceeds 4 GiB", ErrInvalidValue, size)
	}
	binary.BigEndian.PutUint32(b[start+3:], uint32(size))
	return append(b, FrameEnd), nil
}
