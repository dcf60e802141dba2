package spec

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func frameReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadFrame(t *testing.T) {
	var stream []byte
	stream, _ = AppendMethodFrame(stream, 0, &ConnectionTuneOK{ChannelMax: 1, FrameMax: 4096, Heartbeat: 2})
	stream = AppendHeartbeatFrame(stream)
	stream, _ = AppendMethodFrame(stream, 7, &BasicPublish{RoutingKey: "rk"})
	stream, _ = AppendHeaderFrame(stream, 7, &ContentHeader{ClassID: ClassBasic, BodySize: 3})
	stream, _ = AppendFrame(stream, Frame{Type: FrameBody, Channel: 7, Payload: []byte("abc")})

	// Byte at a time, to exercise partial reads.
	r := bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(stream)), 16)
	var got []Frame
	for {
		f, err := ReadFrame(r, 0)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f)
	}
	types := []FrameType{FrameMethod, FrameHeartbeat, FrameMethod, FrameHeader, FrameBody}
	if len(got) != len(types) {
		t.Fatalf("%d frames, want %d", len(got), len(types))
	}
	for i, f := range got {
		if f.Type != types[i] {
			t.Errorf("frame %d: %s, want %s", i, f.Type, types[i])
		}
	}
	m, err := DecodeMethod(got[2].Payload)
	if err != nil || !reflect.DeepEqual(m, &BasicPublish{RoutingKey: "rk"}) || got[2].Channel != 7 {
		t.Fatalf("publish: %+v %v", m, err)
	}
	if string(got[4].Payload) != "abc" || len(got[1].Payload) != 0 || got[1].Channel != 0 {
		t.Fatal("body or heartbeat")
	}
}

func TestReadFrameErrors(t *testing.T) {
	method := mustHex(t, "01"+"0001"+"00000004"+"003c0050"+"ce")
	tests := []struct {
		name  string
		input []byte
		max   uint32
		want  error
	}{
		{"bad frame-end", mustHex(t, "01"+"0001"+"00000004"+"003c0050"+"00"), 0, ErrBadFrameEnd},
		{"unknown type", mustHex(t, "04"+"0001"+"00000000"+"ce"), 0, ErrUnknownFrameType},
		{"oversize for min size", mustHex(t, "03"+"0001"+"00000ff9"), 0, ErrFrameTooLarge},
		{"oversize for frame-max", mustHex(t, "03"+"0001"+"00010000"), 65536, ErrFrameTooLarge},
		{"oversize 4 GiB", mustHex(t, "03"+"0001"+"ffffffff"), 0xffffffff, ErrFrameTooLarge},
		{"truncated header", method[:5], 0, io.ErrUnexpectedEOF},
		{"truncated payload", method[:9], 0, io.ErrUnexpectedEOF},
		{"missing frame-end", method[:11], 0, io.ErrUnexpectedEOF},
		{"clean EOF", nil, 0, io.EOF},
	}
	for _, tt := range tests {
		_, err := ReadFrame(frameReader(tt.input), tt.max)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	// Largest frames that fit.
	for _, max := range []uint32{0, 4096, 131072} {
		limit := max
		if limit < FrameMinSize {
			limit = FrameMinSize
		}
		b, _ := AppendFrame(nil, Frame{Type: FrameBody, Channel: 1, Payload: make([]byte, limit-8)})
		if _, err := ReadFrame(frameReader(b), max); err != nil {
			t.Errorf("frame of exactly frame-max %d: %v", limit, err)
		}
	}
}

// TestReadFrameOversizeDoesNotAllocate: a hostile size is rejected from
// the header alone, before any payload buffer exists.
func TestReadFrameOversizeDoesNotAllocate(t *testing.T) {
	hdr := mustHex(t, "03"+"0001"+"7fffffff")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, err := ReadFrame(frameReader(hdr), 1<<20); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 2<<20 {
		t.Fatalf("rejecting 100 oversize frames allocated %d bytes", d)
	}
}

func TestWriteFrame(t *testing.T) {
	var buf bytes.Buffer
	in := Frame{Type: FrameBody, Channel: 0xabcd, Payload: []byte("payload")}
	if err := WriteFrame(&buf, in); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(buf.Bytes()); got != "03abcd00000007"+hex.EncodeToString([]byte("payload"))+"ce" {
		t.Fatalf("got %s", got)
	}
	out, err := ReadFrame(bufio.NewReader(&buf), 0)
	if err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("got %+v, %v", out, err)
	}
	if got := hex.EncodeToString(AppendHeartbeatFrame(nil)); got != "08"+"0000"+"00000000"+"ce" {
		t.Fatalf("heartbeat %s", got)
	}
}

func TestAppendBodyFrames(t *testing.T) {
	body := []byte(strings.Repeat("0123456789", 1000)) // 10000 bytes
	for _, tt := range []struct {
		frameMax uint32
		frames   int
	}{{0, 1}, {4096, 3}, {100, 3}, {10008, 1}, {10007, 2}} {
		b, err := AppendBodyFrames(nil, 5, body, tt.frameMax)
		if err != nil {
			t.Fatal(err)
		}
		r := frameReader(b)
		var got []byte
		n := 0
		for {
			f, err := ReadFrame(r, 1<<20)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.Type != FrameBody || f.Channel != 5 {
				t.Fatalf("frame %+v", f)
			}
			if tt.frameMax >= FrameMinSize && len(f.Payload)+8 > int(tt.frameMax) {
				t.Fatalf("frame-max %d: frame of %d", tt.frameMax, len(f.Payload)+8)
			}
			got = append(got, f.Payload...)
			n++
		}
		if n != tt.frames || !bytes.Equal(got, body) {
			t.Errorf("frame-max %d: %d frames, body ok %v", tt.frameMax, n, bytes.Equal(got, body))
		}
	}
	if b, err := AppendBodyFrames(nil, 1, nil, 0); err != nil || len(b) != 0 {
		t.Error("empty body appended frames")
	}
}

func TestReadProtocolHeader(t *testing.T) {
	tests := []struct {
		name, input string
		badHeader   bool
		ioErr       error
	}{
		{"0-9-1", ProtocolHeader, false, nil},
		{"0-9-1 then frames", ProtocolHeader + "\x01\x00", false, nil},
		{"0-9-1 old revision", "AMQP\x00\x00\x09\x00", true, nil},
		{"0-8", "AMQP\x01\x01\x08\x00", true, nil},
		{"AMQP 1.0", "AMQP\x00\x01\x00\x00", true, nil},
		{"http", "GET / HTTP/1.1\r\n", true, nil},
		{"tls", "\x16\x03\x01\x02\x00\x01\x00\x01", true, nil},
		{"short garbage", "HT", true, nil},
		{"short prefix", "AMQP", false, io.ErrUnexpectedEOF},
		{"nothing", "", false, io.EOF},
	}
	for _, tt := range tests {
		err := ReadProtocolHeader(strings.NewReader(tt.input))
		var pe *ProtocolHeaderError
		if tt.badHeader != errors.As(err, &pe) || tt.badHeader != errors.Is(err, ErrBadProtocolHeader) {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if tt.badHeader {
			want := tt.input[:min(8, len(tt.input))]
			if string(pe.Got) != want {
				t.Errorf("%s: Got %q, want %q", tt.name, pe.Got, want)
			}
			continue
		}
		if !errors.Is(err, tt.ioErr) || (tt.ioErr == nil && err != nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.ioErr)
		}
	}
}
