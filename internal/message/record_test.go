package message

import (
	"encoding/binary"
	"math"
	"testing"
)

func TestVarintLen(t *testing.T) {
	for _, v := range []int64{0, -1, 1, 63, -64, 64, -65, 8191, 8192, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64} {
		if got, want := varintLen(v), len(binary.AppendVarint(nil, v)); got != want {
			t.Errorf("varintLen(%d) = %d, want %d", v, got, want)
		}
	}
}

// EncodeBatch sizes its buffer exactly: a wrong size estimate would show
// as spare capacity or a reallocation, and a wrong length prefix as a
// decode error.
func TestEncodeBatchSizesExactly(t *testing.T) {
	big := make([]byte, 300)
	recs := []Record{
		{Key: nil, Value: []byte("v"), Timestamp: 1000},
		{Key: []byte("k"), Value: nil, Timestamp: 900, Headers: []Header{{Key: "h", Value: nil}, {Key: "", Value: []byte("x")}}},
		{Key: big, Value: big, Timestamp: 1000 + 1<<40, Headers: []Header{{Key: string(big), Value: big}}},
	}
	for i := 3; i < 200; i++ {
		recs = append(recs, Record{Value: []byte{byte(i)}, Timestamp: int64(i)})
	}
	raw := EncodeBatch(recs, BatchOptions{ProducerID: -1, BaseSequence: -1})
	if len(raw) != cap(raw) {
		t.Errorf("batch of %d bytes has capacity %d", len(raw), cap(raw))
	}
	b, err := ParseHeader(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Records(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("decoded %d records, want %d", len(got), len(recs))
	}
	for i, r := range got {
		w := recs[i]
		if r.Offset != int64(i) || r.Timestamp != w.Timestamp || string(r.Key) != string(w.Key) || string(r.Value) != string(w.Value) || len(r.Headers) != len(w.Headers) {
			t.Fatalf("record %d = %+v, want %+v", i, r, w)
		}
	}
}
