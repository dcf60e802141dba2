package spec

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// everyType holds one value of every field type RabbitMQ encodes.
func everyType() Table {
	return Table{
		"bool":      true,
		"false":     false,
		"int8":      int8(-8),
		"uint8":     uint8(200),
		"int16":     int16(-16000),
		"uint16":    uint16(65000),
		"int32":     int32(-2000000000),
		"uint32":    uint32(4000000000),
		"int64":     int64(math.MinInt64),
		"float32":   float32(1.5),
		"float64":   math.Inf(-1),
		"decimal":   Decimal{Scale: 2, Value: -12345},
		"string":    "héllo\x00world",
		"empty":     "",
		"bytes":     []byte{0, 1, 2, 0xff},
		"nobytes":   []byte{},
		"timestamp": time.Unix(1700000000, 0).UTC(),
		"void":      nil,
		"array":     []any{int32(1), "two", nil, []any{true, Table{"deep": uint8(1)}}, []any{}},
		"table":     Table{"x-death": []any{Table{"count": int64(2), "reason": "expired"}}, "empty": Table{}},
	}
}

func TestTableRoundTrip(t *testing.T) {
	tests := map[string]Table{
		"every type": everyType(),
		"one":        {"a": "b"},
		"key 255":    {strings.Repeat("k", 255): int64(1)},
		"empty key":  {"": "v"},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := AppendTable(nil, in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := DecodeTable(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(in, out) {
				t.Fatalf("round trip:\n in  %#v\n out %#v", in, out)
			}
			b2, _ := AppendTable(nil, out)
			if !bytes.Equal(b, b2) {
				t.Fatal("re-encoding differs")
			}
		})
	}
}

func TestTableConvenienceTypes(t *testing.T) {
	in := Table{"int": 7, "map": map[string]any{"a": int(-1)}}
	b, err := AppendTable(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeTable(b)
	want := Table{"int": int64(7), "map": Table{"a": int64(-1)}}
	if err != nil || !reflect.DeepEqual(out, want) {
		t.Fatalf("got %#v, %v; want %#v", out, err, want)
	}
}

// TestTableWireBytes pins RabbitMQ's type letters and sorted keys.
func TestTableWireBytes(t *testing.T) {
	b, err := AppendTable(nil, Table{
		"u": uint16(1), "s": int16(-1), "i": uint32(2), "I": int32(-2), "l": int64(3),
		"b": int8(-3), "B": uint8(4), "t": true, "x": []byte("x"), "V": nil, "D": Decimal{1, 5},
		"f": float32(1), "d": float64(1), "T": time.Unix(1, 0), "A": []any{"S"}, "F": Table{},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Rather than one long literal, check each entry in key order.
	entries := []struct{ key, enc string }{
		{"A", "41" + "00000006" + "53" + "00000001" + "53"},
		{"B", "42" + "04"},
		{"D", "44" + "01" + "00000005"},
		{"F", "46" + "00000000"},
		{"I", "49" + "fffffffe"},
		{"T", "54" + "0000000000000001"},
		{"V", "56"},
		{"b", "62" + "fd"},
		{"d", "64" + "3ff0000000000000"},
		{"f", "66" + "3f800000"},
		{"i", "69" + "00000002"},
		{"l", "6c" + "0000000000000003"},
		{"s", "73" + "ffff"},
		{"t", "74" + "01"},
		{"u", "75" + "0001"},
		{"x", "78" + "00000001" + "78"},
	}
	var body string
	for _, e := range entries {
		body += "01" + hex.EncodeToString([]byte(e.key)) + e.enc
	}
	got := hex.EncodeToString(b)
	if got[8:] != body {
		t.Fatalf("entries:\n got  %s\n want %s", got[8:], body)
	}
	if binary.BigEndian.Uint32(b) != uint32(len(b)-4) {
		t.Fatal("length prefix")
	}
}

func TestTableDecodeErrors(t *testing.T) {
	withLen := func(body string) []byte {
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
	}
	tests := map[string][]byte{
		"short length":          {0, 0, 0},
		"length beyond input":   {0, 0, 0, 10, 1, 'a'},
		"trailing bytes":        append(withLen(""), 0),
		"key beyond entries":    withLen("\x05ab"),
		"missing type":          withLen("\x01a"),
		"unknown type 'Z'":      withLen("\x01aZ"),
		"spec-only type 'U'":    withLen("\x01aU\x00\x01"),
		"truncated int32":       withLen("\x01aI\x00\x00"),
		"longstr beyond table":  withLen("\x01aS\x00\x00\x00\x09abc"),
		"bytes beyond table":    withLen("\x01ax\xff\xff\xff\xffabc"),
		"nested beyond parent":  withLen("\x01aF\x00\x00\x00\x09\x01b"),
		"array elem truncated":  withLen("\x01aA\x00\x00\x00\x02I\x00"),
		"unknown type in array": withLen("\x01aA\x00\x00\x00\x01?"),
	}
	for name, b := range tests {
		if _, err := DecodeTable(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: DecodeTable(%x) = %v, want ErrMalformed", name, b, err)
		}
	}
}

// nest returns a table nested depth levels deep, via tables and arrays.
func nest(depth int) Table {
	var v any = "leaf"
	for i := range depth {
		if i%2 == 0 {
			v = Table{"t": v}
		} else {
			v = []any{v}
		}
	}
	return Table{"root": v}
}

func TestTableDepthLimit(t *testing.T) {
	ok := nest(MaxTableDepth)
	b, err := AppendTable(nil, ok)
	if err != nil {
		t.Fatalf("depth %d: %v", MaxTableDepth, err)
	}
	if _, err := DecodeTable(b); err != nil {
		t.Fatalf("depth %d: %v", MaxTableDepth, err)
	}
	if _, err := AppendTable(nil, nest(MaxTableDepth+1)); !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("encode depth %d: %v, want ErrInvalidValue", MaxTableDepth+1, err)
	}
	// Hand-build a hostile, very deep input: 'A' arrays each holding the next.
	const depth = 100000
	hostile := []byte{1, 'k'}
	for i := range depth {
		hostile = binary.BigEndian.AppendUint32(append(hostile, 'A'), uint32(5*(depth-1-i)))
	}
	hostile = append(binary.BigEndian.AppendUint32(nil, uint32(len(hostile))), hostile...)
	if _, err := DecodeTable(hostile); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "deeper") {
		t.Fatalf("deep input: %v, want a depth error", err)
	}
}

func TestTableElementLimit(t *testing.T) {
	voids := func(n int) []byte {
		arr := bytes.Repeat([]byte{'V'}, n)
		body := append([]byte{1, 'a', 'A'}, binary.BigEndian.AppendUint32(nil, uint32(len(arr)))...)
		body = append(body, arr...)
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
	}
	if _, err := DecodeTable(voids(MaxTableElements - 1)); err != nil { // plus the entry itself
		t.Fatal(err)
	}
	if _, err := DecodeTable(voids(MaxTableElements)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v, want ErrMalformed", err)
	}
}

func TestTableDuplicateKeysKeepLast(t *testing.T) {
	body := "\x01aS\x00\x00\x00\x01x" + "\x01aS\x00\x00\x00\x01y"
	b := append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
	got, err := DecodeTable(b)
	if err != nil || !reflect.DeepEqual(got, Table{"a": "y"}) {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestTableDecodedValuesDoNotAlias(t *testing.T) {
	b, _ := AppendTable(nil, Table{"x": []byte("abc"), "s": "def"})
	got, err := DecodeTable(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0
	}
	if !reflect.DeepEqual(got, Table{"x": []byte("abc"), "s": "def"}) {
		t.Fatalf("decoded values changed with the input: %v", got)
	}
}
