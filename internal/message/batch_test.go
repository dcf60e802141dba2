package message

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

func sampleRecords(n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{
			Timestamp: 1_700_000_000_000 + int64(i),
			Key:       []byte{byte('k'), byte(i)},
			Value:     bytes.Repeat([]byte{byte(i)}, 100),
			Headers:   []Header{{Key: "h", Value: []byte("v")}},
		}
	}
	recs[n-1].Value = nil // a tombstone must survive the round trip
	return recs
}

// compressBatch re-encodes the records section of an uncompressed batch
// with codec, as a producer would.
func compressBatch(t testing.TB, raw []byte, codec int) []byte {
	t.Helper()
	body := raw[HeaderSize:]
	var buf bytes.Buffer
	switch codec {
	case CodecGzip:
		w := gzip.NewWriter(&buf)
		w.Write(body)
		w.Close()
	case CodecSnappy:
		buf.Write(snappy.Encode(nil, body))
	case CodecLZ4:
		w := lz4.NewWriter(&buf)
		w.Write(body)
		w.Close()
	case CodecZstd:
		w, _ := zstd.NewWriter(&buf)
		w.Write(body)
		w.Close()
	}
	out := append(append([]byte(nil), raw[:HeaderSize]...), buf.Bytes()...)
	binary.BigEndian.PutUint32(out[posLength:], uint32(len(out)-12))
	attrs := binary.BigEndian.Uint16(out[posAttributes:])&^7 | uint16(codec)
	binary.BigEndian.PutUint16(out[posAttributes:], attrs)
	binary.BigEndian.PutUint32(out[posCRC:], crc32.Checksum(out[posAttributes:], castagnoli))
	return out
}

func TestEncodeValidateDecodeRoundTrip(t *testing.T) {
	recs := sampleRecords(5)
	raw := EncodeBatch(recs, BatchOptions{BaseOffset: 0, ProducerID: -1, BaseSequence: -1})
	for _, codec := range []int{CodecNone, CodecGzip, CodecSnappy, CodecLZ4, CodecZstd} {
		b := raw
		if codec != CodecNone {
			b = compressBatch(t, raw, codec)
		}
		batch, err := ValidateBatch(b, Limits{})
		if err != nil {
			t.Fatalf("codec %d: %v", codec, err)
		}
		if batch.Codec() != codec || batch.RecordCount != 5 || batch.Idempotent() {
			t.Fatalf("codec %d: header %+v", codec, batch)
		}
		got, err := Records(batch, 0)
		if err != nil {
			t.Fatalf("codec %d: %v", codec, err)
		}
		for i, r := range got {
			if r.Offset != int64(i) || r.Timestamp != recs[i].Timestamp || !bytes.Equal(r.Key, recs[i].Key) ||
				!bytes.Equal(r.Value, recs[i].Value) || (r.Value == nil) != (recs[i].Value == nil) ||
				len(r.Headers) != 1 || r.Headers[0].Key != "h" {
				t.Fatalf("codec %d record %d: %+v", codec, i, r)
			}
		}
	}
}

func TestValidateBatchRejects(t *testing.T) {
	good := EncodeBatch(sampleRecords(3), BatchOptions{ProducerID: -1})
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	recrc := func(b []byte) []byte {
		binary.BigEndian.PutUint32(b[posCRC:], crc32.Checksum(b[posAttributes:], castagnoli))
		return b
	}
	tests := []struct {
		name   string
		batch  []byte
		limits Limits
		want   error
	}{
		{"short", good[:20], Limits{}, ErrCorrupt},
		{"truncated body", good[:len(good)-1], Limits{}, ErrCorrupt},
		{"magic 1", mutate(func(b []byte) []byte { b[posMagic] = 1; return b }), Limits{}, ErrUnsupportedMagic},
		{"flipped payload byte", mutate(func(b []byte) []byte { b[len(b)-3] ^= 0xff; return b }), Limits{}, ErrCorrupt},
		{"count disagrees with delta", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[posRecordCount:], 4)
			return recrc(b)
		}), Limits{}, ErrInvalidRecord},
		{"count disagrees with records", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[posRecordCount:], 4)
			binary.BigEndian.PutUint32(b[posLastOffsetDelta:], 3)
			return recrc(b)
		}), Limits{}, ErrInvalidRecord},
		{"too large", good, Limits{MaxBatchBytes: 10}, ErrTooLarge},
		{"zero records", mutate(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[posRecordCount:], 0)
			binary.BigEndian.PutUint32(b[posLastOffsetDelta:], 0xffffffff)
			return recrc(b)
		}), Limits{}, ErrInvalidRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ValidateBatch(tc.batch, tc.limits); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDecompressionIsBounded(t *testing.T) {
	recs := []Record{{Value: bytes.Repeat([]byte{0}, 1<<20)}}
	b := compressBatch(t, EncodeBatch(recs, BatchOptions{ProducerID: -1}), CodecZstd)
	if _, err := ValidateBatch(b, Limits{MaxDecompressedBytes: 1 << 16}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestSplitBatches(t *testing.T) {
	a := EncodeBatch(sampleRecords(2), BatchOptions{ProducerID: -1})
	b := EncodeBatch(sampleRecords(3), BatchOptions{ProducerID: -1})
	got, err := SplitBatches(append(append([]byte(nil), a...), b...), Limits{})
	if err != nil || len(got) != 2 || got[1].RecordCount != 3 {
		t.Fatalf("got %d batches, err %v", len(got), err)
	}
	if _, err := SplitBatches(nil, Limits{}); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("empty payload: %v", err)
	}
}

func FuzzValidateBatch(f *testing.F) {
	good := EncodeBatch(sampleRecords(3), BatchOptions{ProducerID: -1})
	f.Add(good)
	f.Add(compressBatch(f, good, CodecGzip))
	f.Add(compressBatch(f, good, CodecLZ4))
	f.Add(good[:HeaderSize])
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := ValidateBatch(p, Limits{MaxDecompressedBytes: 1 << 20})
		if err != nil {
			return
		}
		if !CRCValid(b.Raw) {
			t.Fatal("accepted a batch with a bad CRC")
		}
		recs, err := Records(b, 1<<20)
		if err != nil {
			t.Fatalf("validated batch does not decode: %v", err)
		}
		if len(recs) != int(b.RecordCount) {
			t.Fatalf("decoded %d records, header says %d", len(recs), b.RecordCount)
		}
		views, err := Views(b, 1<<20)
		if err != nil || len(views) != len(recs) {
			t.Fatalf("views: %d, %v; records: %d", len(views), err, len(recs))
		}
		for i, v := range views {
			if !sameRecord(v, recs[i]) {
				t.Fatalf("view %d = %+v, record %+v", i, v, recs[i])
			}
		}
	})
}
