package spec

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Fuzz targets: one per decoder of untrusted bytes. Each must not panic,
// must stay within the package's limits, and whatever decodes must
// re-encode to bytes that decode and re-encode to the same bytes (a
// fixpoint; byte comparison, because a NaN float is not DeepEqual to
// itself). Seed corpora live in testdata/fuzz/<target>/ and are rewritten
// with: go test ./internal/amqp/spec -run TestWriteFuzzSeeds -write-fuzz-seeds

// fuzzFrameMax bounds what one fuzzed frame may allocate.
const fuzzFrameMax = 1 << 16

func FuzzReadFrame(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for {
			fr, err := ReadFrame(r, fuzzFrameMax)
			if err != nil {
				return
			}
			if len(fr.Payload)+frameOverhead > fuzzFrameMax {
				t.Fatalf("frame of %d bytes passed frame-max %d", len(fr.Payload)+frameOverhead, fuzzFrameMax)
			}
			b, err := AppendFrame(nil, fr)
			if err != nil {
				t.Fatal(err)
			}
			again, err := ReadFrame(bufio.NewReader(bytes.NewReader(b)), fuzzFrameMax)
			if err != nil || !reflect.DeepEqual(fr, again) {
				t.Fatalf("frame round trip: %+v, %v; want %+v", again, err, fr)
			}
			switch fr.Type {
			case FrameMethod:
				checkMethodFixpoint(t, fr.Payload)
			case FrameHeader:
				checkContentHeaderFixpoint(t, fr.Payload)
			}
		}
	})
}

func FuzzDecodeMethod(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) { checkMethodFixpoint(t, payload) })
}

func FuzzTable(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, err := DecodeTable(data)
		if err != nil {
			return
		}
		b1, err := AppendTable(nil, tbl)
		if err != nil {
			t.Fatalf("decoded table does not encode: %v", err)
		}
		tbl2, err := DecodeTable(b1)
		if err != nil {
			t.Fatalf("re-encoded table does not decode: %v", err)
		}
		b2, err := AppendTable(nil, tbl2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("table encoding is not a fixpoint: %x vs %x (%v)", b1, b2, err)
		}
	})
}

func FuzzProperties(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) { checkContentHeaderFixpoint(t, payload) })
}

func checkMethodFixpoint(t *testing.T, payload []byte) {
	t.Helper()
	m, err := DecodeMethod(payload)
	if err != nil {
		return
	}
	b1, err := m.AppendTo(nil)
	if err != nil {
		t.Fatalf("decoded %s does not encode: %v", m.Name(), err)
	}
	m2, err := DecodeMethod(b1)
	if err != nil {
		t.Fatalf("re-encoded %s does not decode: %v", m.Name(), err)
	}
	b2, err := m2.AppendTo(nil)
	if err != nil || !bytes.Equal(b1, b2) || m.Name() != m2.Name() {
		t.Fatalf("%s encoding is not a fixpoint: %x vs %x (%v)", m.Name(), b1, b2, err)
	}
}

func checkContentHeaderFixpoint(t *testing.T, payload []byte) {
	t.Helper()
	h, err := DecodeContentHeader(payload)
	if err != nil {
		return
	}
	b1, err := h.AppendTo(nil)
	if err != nil {
		t.Fatalf("decoded content header does not encode: %v", err)
	}
	h2, err := DecodeContentHeader(b1)
	if err != nil {
		t.Fatalf("re-encoded content header does not decode: %v", err)
	}
	b2, err := h2.AppendTo(nil)
	if err != nil || !bytes.Equal(b1, b2) || h.Properties.Flags != h2.Properties.Flags {
		t.Fatalf("content header encoding is not a fixpoint: %x vs %x (%v)", b1, b2, err)
	}
}

var writeFuzzSeeds = flag.Bool("write-fuzz-seeds", false, "rewrite the seed corpora in testdata/fuzz")

// TestWriteFuzzSeeds rewrites testdata/fuzz from encoders, so the seeds
// follow the codec. It does nothing without -write-fuzz-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeFuzzSeeds {
		t.Skip("pass -write-fuzz-seeds to rewrite testdata/fuzz")
	}
	seeds := map[string]map[string][]byte{
		"FuzzReadFrame": {}, "FuzzDecodeMethod": {}, "FuzzTable": {}, "FuzzProperties": {},
	}
	must := func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// Methods: every method, zero and filled.
	for _, proto := range allMethods(t) {
		for _, seed := range []int{-1, 3} {
			m, _ := NewMethod(proto.ClassID(), proto.MethodID())
			if seed >= 0 {
				fill(m, seed)
			}
			name := fmt.Sprintf("%s-%d", m.Name(), max(seed, 0))
			seeds["FuzzDecodeMethod"][name] = must(m.AppendTo(nil))
		}
	}
	seeds["FuzzDecodeMethod"]["unknown-class"] = []byte{0, 30, 0, 10}
	seeds["FuzzDecodeMethod"]["unknown-method"] = []byte{0, 60, 0, 99}
	seeds["FuzzDecodeMethod"]["deep-arguments"] = must((&QueueDeclare{Queue: "q", Arguments: nest(MaxTableDepth)}).AppendTo(nil))

	// Frames: a publish with content, heartbeats, every method; frames
	// split mid-way; bad end; oversize header; unknown type.
	props := fullProperties()
	var publish []byte
	publish = must(AppendMethodFrame(publish, 1, &BasicPublish{Exchange: "ex", RoutingKey: "rk", Mandatory: true}))
	publish = must(AppendHeaderFrame(publish, 1, &ContentHeader{ClassID: ClassBasic, BodySize: 300, Properties: props}))
	publish = must(AppendBodyFrames(publish, 1, bytes.Repeat([]byte("body "), 60), FrameMinSize))
	publish = AppendHeartbeatFrame(publish)
	seeds["FuzzReadFrame"]["publish"] = publish
	var handshake []byte
	for _, m := range []Method{
		&ConnectionStart{VersionMinor: 9, ServerProperties: Table{"product": "tern"}, Mechanisms: "PLAIN", Locales: "en_US"},
		&ConnectionStartOK{ClientProperties: Table{"capabilities": Table{"basic.nack": true}}, Mechanism: "PLAIN", Response: "\x00guest\x00guest", Locale: "en_US"},
		&ConnectionTune{ChannelMax: 2047, FrameMax: 131072, Heartbeat: 60},
		&ConnectionTuneOK{ChannelMax: 2047, FrameMax: 131072, Heartbeat: 60},
		&ConnectionOpen{VirtualHost: "/"},
		&ConnectionOpenOK{},
	} {
		handshake = must(AppendMethodFrame(handshake, 0, m))
	}
	seeds["FuzzReadFrame"]["handshake"] = handshake
	seeds["FuzzReadFrame"]["split-mid-header"] = publish[:3]
	seeds["FuzzReadFrame"]["split-mid-payload"] = publish[:20]
	seeds["FuzzReadFrame"]["split-before-end"] = publish[:bytes.IndexByte(publish, FrameEnd)]
	bad := bytes.Clone(publish)
	bad[bytes.IndexByte(bad, FrameEnd)] = 0
	seeds["FuzzReadFrame"]["bad-frame-end"] = bad
	seeds["FuzzReadFrame"]["oversize"] = []byte{3, 0, 1, 0xff, 0xff, 0xff, 0xff}
	seeds["FuzzReadFrame"]["unknown-type"] = []byte{9, 0, 0, 0, 0, 0, 0, FrameEnd}

	// Tables.
	seeds["FuzzTable"]["every-type"] = must(AppendTable(nil, everyType()))
	seeds["FuzzTable"]["empty"] = must(AppendTable(nil, nil))
	seeds["FuzzTable"]["deep"] = must(AppendTable(nil, nest(MaxTableDepth)))
	seeds["FuzzTable"]["x-death"] = must(AppendTable(nil, Table{"x-death": []any{Table{
		"count": int64(1), "reason": "rejected", "queue": "q", "exchange": "", "routing-keys": []any{"q"},
		"time": fullProperties().Timestamp}}}))

	// Content headers.
	seeds["FuzzProperties"]["all"] = must((&ContentHeader{ClassID: ClassBasic, BodySize: 5, Properties: props}).AppendTo(nil))
	seeds["FuzzProperties"]["none"] = must((&ContentHeader{ClassID: ClassBasic}).AppendTo(nil))
	seeds["FuzzProperties"]["explicit-zero"] = must((&ContentHeader{ClassID: ClassBasic, Properties: Properties{Flags: flagsKnown}}).AppendTo(nil))
	seeds["FuzzProperties"]["persistent-text"] = must((&ContentHeader{ClassID: ClassBasic, BodySize: 1 << 20,
		Properties: Properties{ContentType: "text/plain", DeliveryMode: 2}}).AppendTo(nil))
	seeds["FuzzProperties"]["continuation"] = []byte{0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 1, 0, 1, 0, 0, 1, 'a'}

	for target, files := range seeds {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
