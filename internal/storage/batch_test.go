package storage

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestParseBatchHeader(t *testing.T) {
	good := makeBatch(3, 10, 1234)
	mod := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	tests := []struct {
		name    string
		b       []byte
		wantErr bool
	}{
		{"valid", good, false},
		{"header only", good[:headerSize], false},
		{"short", good[:headerSize-1], true},
		{"empty", nil, true},
		{"magic 1", mod(func(b []byte) { b[offMagic] = 1 }), true},
		{"length below header", mod(func(b []byte) { binary.BigEndian.PutUint32(b[offLength:], 10) }), true},
		{"negative lastOffsetDelta", mod(func(b []byte) { binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 0xffffffff) }), true},
		{"negative base offset", mod(func(b []byte) { b[0] = 0x80 }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseBatchHeader(tt.b)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			if err == nil && (h.RecordCount != 3 || h.LastOffsetDelta != 2 || h.BaseTimestamp != 1234 ||
				h.MaxTimestamp != 1236 || h.ProducerID != -1 || h.LeaderEpoch != -1 || h.Size() != int64(len(good))) {
				t.Fatalf("fields: %+v", h)
			}
		})
	}
}

func TestVerifyCRCAndStamp(t *testing.T) {
	b := makeBatch(2, 100, 0)
	if err := VerifyCRC(b); err != nil {
		t.Fatal(err)
	}
	// Stamping offset and epoch leaves the CRC valid: neither is covered.
	stamp(b, 1<<40, 77)
	h, err := ParseBatchHeader(b)
	if err != nil || h.BaseOffset != 1<<40 || h.LeaderEpoch != 77 || h.LastOffset() != 1<<40+1 {
		t.Fatalf("stamped header: %+v %v", h, err)
	}
	if err := VerifyCRC(b); err != nil {
		t.Fatalf("stamp broke the CRC: %v", err)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"flipped record byte", func() []byte { c := append([]byte(nil), b...); c[len(c)-1] ^= 1; return c }()},
		{"flipped attributes", func() []byte { c := append([]byte(nil), b...); c[offAttributes] ^= 1; return c }()},
		{"truncated", b[:len(b)-1]},
		{"trailing byte", append(append([]byte(nil), b...), 0)},
	}
	for _, tt := range tests {
		if err := VerifyCRC(tt.b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: VerifyCRC = %v", tt.name, err)
		}
	}
}
