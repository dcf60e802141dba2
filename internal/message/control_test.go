package message

import "testing"

func TestMarkerRoundTrip(t *testing.T) {
	for _, commit := range []bool{true, false} {
		raw := EncodeMarker(commit, 42, 7, 3, 1000)
		b, err := ValidateBatch(raw, Limits{})
		if err != nil {
			t.Fatalf("commit=%v: %v", commit, err)
		}
		if !b.Control() || !b.Transactional() || b.ProducerID != 42 || b.ProducerEpoch != 7 || b.BaseSequence != -1 {
			t.Fatalf("commit=%v: header %+v", commit, b)
		}
		got, err := MarkerCommits(b)
		if err != nil || got != commit {
			t.Fatalf("MarkerCommits = %v, %v; want %v", got, err, commit)
		}
	}
	data, _ := ValidateBatch(EncodeBatch([]Record{{Key: []byte("k"), Timestamp: 1}}, BatchOptions{ProducerID: -1, BaseSequence: -1}), Limits{})
	if _, err := MarkerCommits(data); err == nil {
		t.Fatal("a data batch decoded as a marker")
	}
}
