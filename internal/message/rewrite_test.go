package message

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"testing"
)

// xerialBatch frames the records of an uncompressed batch the way
// snappy-java does.
func xerialBatch(t *testing.T, raw []byte) []byte {
	t.Helper()
	var z Compressor
	defer z.Close()
	body, err := z.compress(nil, CodecSnappy, raw[HeaderSize:], true)
	if err != nil {
		t.Fatal(err)
	}
	out := append(append([]byte(nil), raw[:HeaderSize]...), body...)
	binary.BigEndian.PutUint32(out[posLength:], uint32(len(out)-12))
	binary.BigEndian.PutUint16(out[posAttributes:], binary.BigEndian.Uint16(out[posAttributes:])&^7|CodecSnappy)
	binary.BigEndian.PutUint32(out[posCRC:], crc32.Checksum(out[posAttributes:], castagnoli))
	return out
}

func TestRebuildBatchKeepsWhatRecordsSay(t *testing.T) {
	recs := sampleRecords(8) // the last one is a tombstone
	recs[2].Key = nil
	plain := EncodeBatch(recs, BatchOptions{BaseOffset: 1000, ProducerID: 7, ProducerEpoch: 3, BaseSequence: 40})
	binary.BigEndian.PutUint32(plain[posLeaderEpoch:], 5)
	codecs := []struct {
		name string
		raw  []byte
	}{
		{"none", plain},
		{"gzip", compressBatch(t, plain, CodecGzip)},
		{"snappy", compressBatch(t, plain, CodecSnappy)},
		{"snappy-xerial", xerialBatch(t, plain)},
		{"lz4", compressBatch(t, plain, CodecLZ4)},
		{"zstd", compressBatch(t, plain, CodecZstd)},
	}
	keeps := []struct {
		name    string
		pick    []int
		horizon int64
	}{
		{"all", []int{0, 1, 2, 3, 4, 5, 6, 7}, -1},
		{"some", []int{1, 4, 7}, -1},
		{"some with a horizon", []int{1, 4, 7}, 1_800_000_000_000},
		{"last only, horizon", []int{7}, 5},
	}
	var z Compressor
	defer z.Close()
	for _, c := range codecs {
		for _, k := range keeps {
			t.Run(c.name+"/"+k.name, func(t *testing.T) {
				orig, err := ParseHeader(c.raw)
				if err != nil {
					t.Fatal(err)
				}
				raws, err := RawRecords(nil, orig, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(raws) != len(recs) || raws[2].Key != nil || !raws[7].Tombstone || raws[6].Tombstone || raws[3].Offset != 1003 {
					t.Fatalf("RawRecords: %+v", raws)
				}
				var keep []RawRecord
				for _, i := range k.pick {
					keep = append(keep, raws[i])
				}
				out, err := RebuildBatch([]byte("prefix"), orig, keep, k.horizon, &z)
				if err != nil {
					t.Fatal(err)
				}
				if string(out[:6]) != "prefix" {
					t.Fatal("RebuildBatch did not append")
				}
				b, err := ParseHeader(out[6:])
				if err != nil || len(b.Raw) != len(out)-6 || !CRCValid(b.Raw) {
					t.Fatalf("rebuilt batch: %v, crc ok %v", err, CRCValid(b.Raw))
				}
				if b.BaseOffset != 1000 || b.LastOffsetDelta != 7 || b.RecordCount != int32(len(k.pick)) || b.Codec() != orig.Codec() ||
					b.ProducerID != 7 || b.ProducerEpoch != 3 || b.BaseSequence != 40 || b.LeaderEpoch != 5 || isXerial(b) != isXerial(orig) {
					t.Fatalf("rebuilt header %+v from %+v", b, orig)
				}
				if h, ok := b.DeleteHorizon(); ok != (k.horizon >= 0) || (ok && h != k.horizon) {
					t.Fatalf("delete horizon %d %v, want %d", h, ok, k.horizon)
				}
				got, err := Records(b, 0)
				if err != nil {
					t.Fatal(err)
				}
				var maxTS int64
				for i, r := range got {
					w := recs[k.pick[i]]
					if r.Offset != 1000+int64(k.pick[i]) || r.Timestamp != w.Timestamp || !bytes.Equal(r.Key, w.Key) ||
						!bytes.Equal(r.Value, w.Value) || (r.Value == nil) != (w.Value == nil) || len(r.Headers) != 1 {
						t.Fatalf("record %d = %+v, want %+v", i, r, w)
					}
					maxTS = max(maxTS, w.Timestamp)
				}
				if b.MaxTimestamp != maxTS {
					t.Fatalf("max timestamp %d, want %d", b.MaxTimestamp, maxTS)
				}
				if c.name == "none" && k.name == "all" && !bytes.Equal(out[6:], plain) {
					t.Fatal("keeping every record of an uncompressed batch changed its bytes")
				}
				// Rebuilding again without the horizon gives the records
				// their own base timestamp back; timestamps never move.
				again, err := RebuildBatch(nil, b, mustRaw(t, b), -1, &z)
				if err != nil {
					t.Fatal(err)
				}
				b2, _ := ParseHeader(again)
				got2, err := Records(b2, 0)
				if _, ok := b2.DeleteHorizon(); ok || err != nil || len(got2) != len(got) || (len(got) > 0 && got2[0].Timestamp != got[0].Timestamp) {
					t.Fatalf("rebuilt again: horizon %v, err %v, %d records", ok, err, len(got2))
				}
			})
		}
	}
}

func mustRaw(t *testing.T, b Batch) []RawRecord {
	t.Helper()
	r, err := RawRecords(nil, b, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRebuildBatchEmptyKeepsProducerHeader(t *testing.T) {
	for _, lat := range []bool{false, true} {
		raw := compressBatch(t, EncodeBatch(sampleRecords(3), BatchOptions{BaseOffset: 50, ProducerID: 9, ProducerEpoch: 1, BaseSequence: 12}), CodecZstd)
		if lat {
			SetLogAppendTime(raw, 1_900_000_000_000)
		}
		orig, _ := ParseHeader(raw)
		out, err := RebuildBatch(nil, orig, nil, -1, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseHeader(out)
		if err != nil || !CRCValid(out) || len(out) != HeaderSize {
			t.Fatalf("empty batch: %v, %d bytes", err, len(out))
		}
		if b.RecordCount != 0 || b.LastOffsetDelta != 2 || b.BaseOffset != 50 || b.Codec() != CodecNone || b.BaseTimestamp != NoTimestamp ||
			b.MaxTimestamp != orig.MaxTimestamp || b.ProducerID != 9 || b.BaseSequence != 12 || b.LogAppendTime() != lat {
			t.Fatalf("empty batch header %+v", b)
		}
		if recs, err := Records(b, 0); err != nil || len(recs) != 0 {
			t.Fatalf("records of the empty batch: %v %v", recs, err)
		}
	}
}

func TestRebuildBatchLogAppendTimeKeepsMaxTimestamp(t *testing.T) {
	raw := EncodeBatch(sampleRecords(4), BatchOptions{ProducerID: -1, BaseSequence: -1})
	SetLogAppendTime(raw, 1_900_000_000_000)
	orig, _ := ParseHeader(raw)
	raws := mustRaw(t, orig)
	out, err := RebuildBatch(nil, orig, raws[:1], -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ParseHeader(out)
	if !b.LogAppendTime() || b.MaxTimestamp != 1_900_000_000_000 {
		t.Fatalf("LogAppendTime batch rebuilt as %+v", b)
	}
}

func TestRawRecordsRejectsGarbage(t *testing.T) {
	raw := EncodeBatch(sampleRecords(2), BatchOptions{ProducerID: -1, BaseSequence: -1})
	bad := slices.Clone(raw)
	bad[HeaderSize] = 0x7f // record length far past the batch
	b, _ := ParseHeader(bad)
	if _, err := RawRecords(nil, b, 0); err == nil {
		t.Fatal("RawRecords accepted a record overrunning its batch")
	}
}
