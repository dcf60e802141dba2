package spec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fullProperties sets all 14 properties.
func fullProperties() Properties {
	return Properties{
		ContentType: "application/json", ContentEncoding: "gzip",
		Headers:      Table{"x-match": "all", "n": int32(1)},
		DeliveryMode: 2, Priority: 9,
		CorrelationID: "corr", ReplyTo: "amq.rabbitmq.reply-to", Expiration: "60000",
		MessageID: "id-1", Timestamp: time.Unix(1700000000, 0).UTC(), Type: "order.created",
		UserID: "guest", AppID: "app", ClusterID: "cluster",
	}
}

// only keeps the properties in flags, zeroing the rest.
func only(p Properties, flags PropertyFlags) Properties {
	var out Properties
	pick := func(f PropertyFlags, set func()) {
		if flags&f != 0 {
			set()
		}
	}
	pick(FlagContentType, func() { out.ContentType = p.ContentType })
	pick(FlagContentEncoding, func() { out.ContentEncoding = p.ContentEncoding })
	pick(FlagHeaders, func() { out.Headers = p.Headers })
	pick(FlagDeliveryMode, func() { out.DeliveryMode = p.DeliveryMode })
	pick(FlagPriority, func() { out.Priority = p.Priority })
	pick(FlagCorrelationID, func() { out.CorrelationID = p.CorrelationID })
	pick(FlagReplyTo, func() { out.ReplyTo = p.ReplyTo })
	pick(FlagExpiration, func() { out.Expiration = p.Expiration })
	pick(FlagMessageID, func() { out.MessageID = p.MessageID })
	pick(FlagTimestamp, func() { out.Timestamp = p.Timestamp })
	pick(FlagType, func() { out.Type = p.Type })
	pick(FlagUserID, func() { out.UserID = p.UserID })
	pick(FlagAppID, func() { out.AppID = p.AppID })
	pick(FlagClusterID, func() { out.ClusterID = p.ClusterID })
	return out
}

func TestPropertiesRoundTrip(t *testing.T) {
	all := []PropertyFlags{FlagContentType, FlagContentEncoding, FlagHeaders, FlagDeliveryMode, FlagPriority,
		FlagCorrelationID, FlagReplyTo, FlagExpiration, FlagMessageID, FlagTimestamp, FlagType, FlagUserID, FlagAppID, FlagClusterID}
	combos := []PropertyFlags{0, flagsKnown, FlagContentType | FlagDeliveryMode, FlagHeaders | FlagTimestamp | FlagClusterID,
		flagsKnown &^ FlagHeaders, 0x5554, 0xaaa8}
	combos = append(combos, all...)
	for _, flags := range combos {
		t.Run(fmt.Sprintf("%04x", uint16(flags)), func(t *testing.T) {
			in := ContentHeader{ClassID: ClassBasic, BodySize: 1 << 40, Properties: only(fullProperties(), flags)}
			b, err := in.AppendTo(nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := PropertyFlags(b[12])<<8 | PropertyFlags(b[13]); got != flags {
				t.Fatalf("wire flags %04x, want %04x", uint16(got), uint16(flags))
			}
			out, err := DecodeContentHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			in.Properties.Flags = flags // decoding reports the wire flags
			if !reflect.DeepEqual(in, out) {
				t.Fatalf("round trip:\n in  %+v\n out %+v", in, out)
			}
			for n := range len(b) {
				if _, err := DecodeContentHeader(b[:n]); !errors.Is(err, ErrMalformed) {
					t.Fatalf("%d of %d bytes: %v, want ErrMalformed", n, len(b), err)
				}
			}
		})
	}
}

// TestPropertiesExplicitZero: a property sent as "" or 0 keeps its flag.
func TestPropertiesExplicitZero(t *testing.T) {
	in := ContentHeader{ClassID: ClassBasic, Properties: Properties{Flags: FlagContentType | FlagPriority | FlagHeaders | FlagTimestamp}}
	b, err := in.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "003c" + "0000" + "0000000000000000" + "a840" + "00" + "00000000" + "00" + "0000000000000000"
	if hex.EncodeToString(b) != want {
		t.Fatalf("got  %x\nwant %s", b, want)
	}
	out, err := DecodeContentHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	if out.Properties.Flags != in.Properties.Flags || out.Properties.Headers != nil || out.Properties.Timestamp != time.Unix(0, 0).UTC() {
		t.Fatalf("got %+v", out.Properties)
	}
	b2, _ := out.AppendTo(nil)
	if hex.EncodeToString(b2) != want {
		t.Fatalf("re-encoded %x", b2)
	}
}

func TestContentHeaderWireBytes(t *testing.T) {
	h := ContentHeader{ClassID: ClassBasic, BodySize: 5, Properties: Properties{ContentType: "text/plain", DeliveryMode: 2}}
	b, err := AppendHeaderFrame(nil, 3, &h)
	if err != nil {
		t.Fatal(err)
	}
	want := "02" + "0003" + "0000001a" + "003c" + "0000" + "0000000000000005" + "9000" + "0a" + hex.EncodeToString([]byte("text/plain")) + "02" + "ce"
	if hex.EncodeToString(b) != want {
		t.Fatalf("got  %x\nwant %s", b, want)
	}
}

func TestContentHeaderFlagWords(t *testing.T) {
	base := "003c" + "0000" + "0000000000000000"
	tests := []struct {
		name, hex string
		ok        bool
		flags     PropertyFlags
	}{
		{"continuation then empty word", base + "8001" + "0000" + "01" + "61", true, FlagContentType},
		{"two continuation words", base + "0001" + "0001" + "0000", true, 0},
		{"continuation word flags a property", base + "0001" + "8000", false, 0},
		{"continuation word missing", base + "0001", false, 0},
		{"unused bit 1 set", base + "0002", false, 0},
		{"other class", "0028" + "0000" + "0000000000000000" + "0000", false, 0},
	}
	for _, tt := range tests {
		b, _ := hex.DecodeString(tt.hex)
		h, err := DecodeContentHeader(b)
		if tt.ok != (err == nil) {
			t.Errorf("%s: err = %v", tt.name, err)
			continue
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", tt.name, err)
		}
		if err == nil && h.Properties.Flags != tt.flags {
			t.Errorf("%s: flags %04x", tt.name, uint16(h.Properties.Flags))
		}
	}
}

func TestContentHeaderEncodeErrors(t *testing.T) {
	for _, p := range []Properties{
		{ContentType: strings.Repeat("x", 256)},
		{Headers: Table{"k": struct{}{}}},
		{ClusterID: strings.Repeat("x", 300)},
	} {
		h := ContentHeader{ClassID: ClassBasic, Properties: p}
		if b, err := h.AppendTo([]byte("keep")); !errors.Is(err, ErrInvalidValue) || string(b) != "keep" {
			t.Errorf("%+v: %q, %v", p, b, err)
		}
		if b, err := AppendHeaderFrame([]byte("keep"), 1, &h); err == nil || string(b) != "keep" {
			t.Errorf("AppendHeaderFrame: %q, %v", b, err)
		}
	}
}

func TestAppendStoredHeaderFrame(t *testing.T) {
	h := ContentHeader{ClassID: ClassBasic, BodySize: 99, Properties: Properties{
		ContentType: "text/plain", DeliveryMode: 2, Headers: Table{"k": "v"},
	}}
	payload, err := h.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The stored header's body size is replaced by the one given.
	h.BodySize = 7
	want, err := AppendHeaderFrame([]byte("x"), 3, &h)
	if err != nil {
		t.Fatal(err)
	}
	got, err := AppendStoredHeaderFrame([]byte("x"), 3, payload, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("stored header frame\n got %x\nwant %x", got, want)
	}
	for _, bad := range [][]byte{nil, payload[:13], append([]byte{0, 50}, payload[2:]...)} {
		b, err := AppendStoredHeaderFrame([]byte("x"), 3, bad, 7)
		if !errors.Is(err, ErrMalformed) || string(b) != "x" {
			t.Errorf("payload %x: got %q, %v; want b unchanged and ErrMalformed", bad, b, err)
		}
	}
}
