package broker

import (
	"slices"
	"testing"

	"github.com/ternmq/tern/internal/message"
)

// TestPartitionTxns replays a partition's batches and checks the last
// stable offset and the aborted transactions a fetch is told of.
func TestPartitionTxns(t *testing.T) {
	data := func(pid int64, off int64, n int32) message.Batch {
		return message.Batch{BaseOffset: off, LastOffsetDelta: n - 1, ProducerID: pid, Attributes: 1 << 4}
	}
	plain := func(off int64) message.Batch { return message.Batch{BaseOffset: off, ProducerID: -1} }
	marker := func(pid, off int64) message.Batch {
		return message.Batch{BaseOffset: off, ProducerID: pid, Attributes: 1<<4 | 1<<5}
	}
	tx := newPartitionTxns()
	steps := []struct {
		b      message.Batch
		commit bool
		lso    int64 // with the high watermark at 100
	}{
		{plain(0), false, 100},
		{data(7, 1, 3), false, 1},   // producer 7 opens at 1
		{data(8, 4, 2), false, 1},   // producer 8 opens at 4
		{data(7, 6, 1), false, 1},   // 7 again: still open from 1
		{marker(7, 7), false, 4},    // 7 aborts: 8 is now the oldest open
		{plain(8), false, 4},        // non-transactional records wait behind it
		{marker(8, 9), true, 100},   // 8 commits: nothing open
		{marker(9, 10), false, 100}, // a marker of a producer with nothing here
		{data(7, 11, 1), false, 11}, // 7 opens again
		{marker(7, 12), false, 100}, // and aborts
		{data(8, 13, 1), false, 13}, // 8 opens, still open at the end
	}
	for i, s := range steps {
		tx.observe(s.b, s.commit)
		if got := tx.lastStable(100); got != s.lso {
			t.Fatalf("step %d: last stable offset %d, want %d", i, got, s.lso)
		}
	}
	want := []AbortedTxn{{7, 1, 7}, {7, 11, 12}}
	if got := tx.abortedIn(0, 100); !slices.Equal(got, want) {
		t.Fatalf("abortedIn(0, 100) = %v, want %v", got, want)
	}
	for _, c := range []struct {
		from, to int64
		want     []AbortedTxn
	}{
		{0, 1, nil},                     // ends before the first aborted record
		{7, 8, []AbortedTxn{{7, 1, 7}}}, // reads the marker itself
		{8, 11, nil},                    // between the two
		{8, 12, []AbortedTxn{{7, 11, 12}}},
		{13, 100, nil},
	} {
		if got := tx.abortedIn(c.from, c.to); !slices.Equal(got, c.want) {
			t.Errorf("abortedIn(%d, %d) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
	tx.trimBefore(8)
	if got := tx.abortedIn(0, 100); !slices.Equal(got, want[1:]) {
		t.Fatalf("after trimBefore(8): %v", got)
	}
}
