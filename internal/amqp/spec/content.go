package spec

import (
	"encoding/binary"
	"fmt"
	"time"
)

// ContentHeader is the payload of a content header frame, which follows a
// method with content (HasContent) and precedes its body frames:
//
//	+----------+--------+-----------+----------------+------------------+
//	| class-id | weight | body-size | property-flags | property values  |
//	|    2     |   2    |     8     |  2 (or more)   | in flag order    |
//	+----------+--------+-----------+----------------+------------------+
//
// Property flags are 16-bit words. In each word bits 15..1 flag one
// property each, in declaration order, and bit 0 (continuation) says
// another flag word follows. Basic has 14 properties, so one word is
// written; further words are accepted on decode as long as they flag
// nothing (RabbitMQ itself reads exactly one word).
type ContentHeader struct {
	// ClassID is the class of the content method; only ClassBasic carries
	// content.
	ClassID uint16
	// Weight is unused and must be 0; it is decoded as sent and not
	// checked.
	Weight     uint16
	BodySize   uint64
	Properties Properties
}

// PropertyFlags says which basic properties are present, one bit each as
// on the wire.
type PropertyFlags uint16

// The basic property flags, in wire order.
const (
	FlagContentType     PropertyFlags = 1 << 15
	FlagContentEncoding PropertyFlags = 1 << 14
	FlagHeaders         PropertyFlags = 1 << 13
	FlagDeliveryMode    PropertyFlags = 1 << 12
	FlagPriority        PropertyFlags = 1 << 11
	FlagCorrelationID   PropertyFlags = 1 << 10
	FlagReplyTo         PropertyFlags = 1 << 9
	FlagExpiration      PropertyFlags = 1 << 8
	FlagMessageID       PropertyFlags = 1 << 7
	FlagTimestamp       PropertyFlags = 1 << 6
	FlagType            PropertyFlags = 1 << 5
	FlagUserID          PropertyFlags = 1 << 4
	FlagAppID           PropertyFlags = 1 << 3
	FlagClusterID       PropertyFlags = 1 << 2

	// flagContinuation marks that another flag word follows.
	flagContinuation PropertyFlags = 1 << 0
	// flagsKnown is every basic property flag.
	flagsKnown PropertyFlags = 0xfffc
)

// Properties are the 14 basic content properties.
//
// Presence: a property is encoded when its flag is set in Flags or its
// value is non-zero (non-empty string, non-nil Headers, non-zero number or
// time). Decoding sets Flags to exactly the flags on the wire, so a
// property sent explicitly as "" or 0 survives decode → encode.
type Properties struct {
	Flags           PropertyFlags
	ContentType     string    // MIME content type
	ContentEncoding string    // MIME content encoding
	Headers         Table     // application headers
	DeliveryMode    uint8     // 1 non-persistent, 2 persistent
	Priority        uint8     // 0 to 9
	CorrelationID   string    // application correlation identifier
	ReplyTo         string    // address to reply to
	Expiration      string    // per-message TTL in milliseconds, as a decimal string
	MessageID       string    // application message identifier
	Timestamp       time.Time // message timestamp (whole seconds)
	Type            string    // message type name
	UserID          string    // creating user id; RabbitMQ checks it against the connection's user
	AppID           string    // creating application id
	ClusterID       string    // deprecated ("reserved" in 0-9-1); RabbitMQ passes it through
}

// present returns the flags of the properties that will be encoded.
func (p *Properties) present() PropertyFlags {
	f := p.Flags & flagsKnown
	set := func(flag PropertyFlags, nonZero bool) {
		if nonZero {
			f |= flag
		}
	}
	set(FlagContentType, p.ContentType != "")
	set(FlagContentEncoding, p.ContentEncoding != "")
	set(FlagHeaders, p.Headers != nil)
	set(FlagDeliveryMode, p.DeliveryMode != 0)
	set(FlagPriority, p.Priority != 0)
	set(FlagCorrelationID, p.CorrelationID != "")
	set(FlagReplyTo, p.ReplyTo != "")
	set(FlagExpiration, p.Expiration != "")
	set(FlagMessageID, p.MessageID != "")
	set(FlagTimestamp, !p.Timestamp.IsZero())
	set(FlagType, p.Type != "")
	set(FlagUserID, p.UserID != "")
	set(FlagAppID, p.AppID != "")
	set(FlagClusterID, p.ClusterID != "")
	return f
}

// AppendTo appends h as a content header frame payload. On error (a
// property too long for a shortstr, a bad header value) it returns b
// unchanged and an error wrapping ErrInvalidValue.
func (h *ContentHeader) AppendTo(b []byte) ([]byte, error) {
	w := writer{b: b}
	w.short(h.ClassID)
	w.short(h.Weight)
	w.longlong(h.BodySize)
	p := &h.Properties
	f := p.present()
	w.short(uint16(f))
	if f&FlagContentType != 0 {
		w.shortstr("content-type", p.ContentType)
	}
	if f&FlagContentEncoding != 0 {
		w.shortstr("content-encoding", p.ContentEncoding)
	}
	if f&FlagHeaders != 0 {
		w.table("headers", p.Headers)
	}
	if f&FlagDeliveryMode != 0 {
		w.octet(p.DeliveryMode)
	}
	if f&FlagPriority != 0 {
		w.octet(p.Priority)
	}
	if f&FlagCorrelationID != 0 {
		w.shortstr("correlation-id", p.CorrelationID)
	}
	if f&FlagReplyTo != 0 {
		w.shortstr("reply-to", p.ReplyTo)
	}
	if f&FlagExpiration != 0 {
		w.shortstr("expiration", p.Expiration)
	}
	if f&FlagMessageID != 0 {
		w.shortstr("message-id", p.MessageID)
	}
	if f&FlagTimestamp != 0 {
		w.timestamp(p.Timestamp)
	}
	if f&FlagType != 0 {
		w.shortstr("type", p.Type)
	}
	if f&FlagUserID != 0 {
		w.shortstr("user-id", p.UserID)
	}
	if f&FlagAppID != 0 {
		w.shortstr("app-id", p.AppID)
	}
	if f&FlagClusterID != 0 {
		w.shortstr("cluster-id", p.ClusterID)
	}
	if w.err != nil {
		return b, fmt.Errorf("encoding content header: %w", w.err)
	}
	return w.b, nil
}

// DecodeContentHeader decodes a content header frame payload. It fails
// with ErrMalformed on truncation, trailing bytes, a class other than
// basic, or a flag for a property basic does not have.
func DecodeContentHeader(payload []byte) (ContentHeader, error) {
	var h ContentHeader
	if err := h.read(payload); err != nil {
		return ContentHeader{}, fmt.Errorf("decoding content header: %w", err)
	}
	return h, nil
}

func (h *ContentHeader) read(payload []byte) error {
	r := reader{b: payload}
	h.ClassID = r.short("class-id")
	h.Weight = r.short("weight")
	h.BodySize = r.longlong("body-size")
	f := PropertyFlags(r.short("property-flags"))
	if r.err != nil {
		return r.err
	}
	if h.ClassID != ClassBasic {
		return fmt.Errorf("%w: class %d has no content (only basic, %d, does)", ErrMalformed, h.ClassID, ClassBasic)
	}
	for more := f&flagContinuation != 0; more; {
		w := PropertyFlags(r.short("property-flags continuation"))
		if r.err != nil {
			return r.err
		}
		if w&^flagContinuation != 0 {
			return fmt.Errorf("%w: property flag word 0x%04x flags properties basic does not have", ErrMalformed, uint16(w))
		}
		more = w&flagContinuation != 0
	}
	if f&^(flagsKnown|flagContinuation) != 0 {
		return fmt.Errorf("%w: property flags 0x%04x flag properties basic does not have", ErrMalformed, uint16(f))
	}
	p := &h.Properties
	*p = Properties{Flags: f & flagsKnown}
	if f&FlagContentType != 0 {
		p.ContentType = r.shortstr("content-type")
	}
	if f&FlagContentEncoding != 0 {
		p.ContentEncoding = r.shortstr("content-encoding")
	}
	if f&FlagHeaders != 0 {
		p.Headers = r.table("headers")
	}
	if f&FlagDeliveryMode != 0 {
		p.DeliveryMode = r.octet("delivery-mode")
	}
	if f&FlagPriority != 0 {
		p.Priority = r.octet("priority")
	}
	if f&FlagCorrelationID != 0 {
		p.CorrelationID = r.shortstr("correlation-id")
	}
	if f&FlagReplyTo != 0 {
		p.ReplyTo = r.shortstr("reply-to")
	}
	if f&FlagExpiration != 0 {
		p.Expiration = r.shortstr("expiration")
	}
	if f&FlagMessageID != 0 {
		p.MessageID = r.shortstr("message-id")
	}
	if f&FlagTimestamp != 0 {
		p.Timestamp = r.timestamp("timestamp")
	}
	if f&FlagType != 0 {
		p.Type = r.shortstr("type")
	}
	if f&FlagUserID != 0 {
		p.UserID = r.shortstr("user-id")
	}
	if f&FlagAppID != 0 {
		p.AppID = r.shortstr("app-id")
	}
	if f&FlagClusterID != 0 {
		p.ClusterID = r.shortstr("cluster-id")
	}
	return r.done()
}

// AppendHeaderFrame appends a complete content header frame for h on
// channel. On error it returns b unchanged.
func AppendHeaderFrame(b []byte, channel uint16, h *ContentHeader) ([]byte, error) {
	start := len(b)
	b = appendFrameHeader(b, FrameHeader, channel)
	b, err := h.AppendTo(b)
	if err != nil {
		return b[:start], err
	}
	return finishFrame(b, start)
}

// AppendStoredHeaderFrame appends a content header frame whose payload is
// a header as a publisher sent it (stored verbatim by the broker), with
// the body size set to bodySize. Copying the stored bytes skips decoding
// and re-encoding the properties on every delivery. A payload too short
// to be a content header, or not of class basic, gets ErrMalformed and b
// unchanged.
func AppendStoredHeaderFrame(b []byte, channel uint16, payload []byte, bodySize uint64) ([]byte, error) {
	if len(payload) < 14 || binary.BigEndian.Uint16(payload) != ClassBasic {
		return b, fmt.Errorf("%w: stored content header of %d bytes", ErrMalformed, len(payload))
	}
	start := len(b)
	b = appendFrameHeader(b, FrameHeader, channel)
	b = append(b, payload...)
	binary.BigEndian.PutUint64(b[start+7+4:], bodySize)
	return finishFrame(b, start)
}
