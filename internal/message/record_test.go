package message

import (
	"bytes"
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

// sameRecord reports whether view v decodes to r.
func sameRecord(v View, r Record) bool {
	if v.Offset != r.Offset || v.Timestamp != r.Timestamp || !bytes.Equal(v.Key, r.Key) || !bytes.Equal(v.Value, r.Value) ||
		(v.Key == nil) != (r.Key == nil) || (v.Value == nil) != (r.Value == nil) {
		return false
	}
	i := 0
	ok := true
	v.Headers(func(k, val []byte) bool {
		if i >= len(r.Headers) || string(k) != r.Headers[i].Key || !bytes.Equal(val, r.Headers[i].Value) {
			ok = false
			return false
		}
		i++
		return true
	})
	return ok && i == len(r.Headers)
}

func TestViewsMatchRecords(t *testing.T) {
	recs := []Record{
		{Key: []byte("k"), Value: []byte("v"), Timestamp: 5, Headers: []Header{{Key: "a", Value: []byte("1")}, {Key: "b", Value: nil}, {Key: "c", Value: []byte{}}}},
		{Key: nil, Value: nil, Timestamp: 7},
	}
	b, err := ParseHeader(EncodeBatch(recs, BatchOptions{BaseOffset: 40, ProducerID: -1}))
	if err != nil {
		t.Fatal(err)
	}
	views, err := Views(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Records(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 2 || len(got) != 2 || views[0].Offset != 40 || views[1].Offset != 41 {
		t.Fatalf("views %+v", views)
	}
	for i := range views {
		if !sameRecord(views[i], got[i]) {
			t.Errorf("view %d = %+v, record %+v", i, views[i], got[i])
		}
	}
	// Headers stops when fn returns false.
	n := 0
	views[0].Headers(func(k, _ []byte) bool { n++; return string(k) != "a" })
	if n != 1 {
		t.Errorf("Headers went on after fn returned false: %d calls", n)
	}
}
