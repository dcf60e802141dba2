package broker

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ternmq/tern/internal/message"
)

// AbortedTxn is one aborted transaction of a partition: the producer's
// records from FirstOffset up to its abort marker at LastOffset are to be
// skipped by read_committed consumers (Kafka's aborted-transaction index).
type AbortedTxn struct {
	ProducerID  int64
	FirstOffset int64
	LastOffset  int64
}

// partitionTxns is what a partition knows of transactions: which
// producers have one open in it (from their first transactional batch to
// their marker), hence its last stable offset, and which ended in an
// abort. It is rebuilt from the log at start, like producer state.
type partitionTxns struct {
	open map[int64]int64 // producer id → first offset of its open transaction; guarded by partition.mu
	// firstOpen is the smallest first offset in open, MaxInt64 if none:
	// the last stable offset is min(high watermark, firstOpen). Written
	// under partition.mu, read without it by fetches.
	firstOpen atomic.Int64

	amu     sync.RWMutex
	aborted []AbortedTxn // in marker order, so LastOffset increases
}

func newPartitionTxns() *partitionTxns {
	t := &partitionTxns{open: map[int64]int64{}}
	t.firstOpen.Store(math.MaxInt64)
	return t
}

// observe notes an appended batch (BaseOffset assigned), under
// partition.mu. commit is the marker's decision for a control batch.
func (t *partitionTxns) observe(b message.Batch, commit bool) {
	switch {
	case b.Control():
		first, ok := t.open[b.ProducerID]
		if !ok {
			return // nothing of this producer open here: nothing to hide
		}
		delete(t.open, b.ProducerID)
		if !commit {
			t.amu.Lock()
			t.aborted = append(t.aborted, AbortedTxn{ProducerID: b.ProducerID, FirstOffset: first, LastOffset: b.BaseOffset})
			t.amu.Unlock()
		}
	case b.Transactional():
		if _, ok := t.open[b.ProducerID]; ok {
			return
		}
		t.open[b.ProducerID] = b.BaseOffset
	default:
		return
	}
	first := int64(math.MaxInt64)
	for _, off := range t.open {
		first = min(first, off)
	}
	t.firstOpen.Store(first)
}

// lastStable is the offset below which every transaction has ended.
func (t *partitionTxns) lastStable(hw int64) int64 {
	return min(hw, t.firstOpen.Load())
}

// endingFrom is the index of the first aborted transaction whose marker
// is at or after off (the list is in marker order); amu held.
func (t *partitionTxns) endingFrom(off int64) int {
	i, _ := slices.BinarySearchFunc(t.aborted, off, func(a AbortedTxn, off int64) int {
		if a.LastOffset < off {
			return -1
		}
		return 1
	})
	return i
}

// abortedIn lists the aborted transactions that overlap [from, to): those
// whose marker is at or after from and whose first record is before to.
func (t *partitionTxns) abortedIn(from, to int64) []AbortedTxn {
	t.amu.RLock()
	defer t.amu.RUnlock()
	i := t.endingFrom(from)
	var out []AbortedTxn
	for _, a := range t.aborted[i:] {
		if a.FirstOffset < to {
			out = append(out, a)
		}
	}
	return out
}

// isAborted reports whether the transactional batch of a producer at
// offset belongs to an aborted transaction (for the cleaner, which asks
// only below the last stable offset, where every transaction has ended).
func (t *partitionTxns) isAborted(producerID, offset int64) bool {
	t.amu.RLock()
	defer t.amu.RUnlock()
	i := t.endingFrom(offset)
	for _, a := range t.aborted[i:] {
		if a.ProducerID == producerID && a.FirstOffset <= offset {
			return true
		}
	}
	return false
}

// trimBefore forgets aborted transactions wholly below the log start.
func (t *partitionTxns) trimBefore(start int64) {
	t.amu.Lock()
	defer t.amu.Unlock()
	i := 0
	for i < len(t.aborted) && t.aborted[i].LastOffset < start {
		i++
	}
	if i > 0 {
		t.aborted = slices.Delete(t.aborted, 0, i)
	}
}

// load replays one batch of the log at start.
func (t *partitionTxns) load(b message.Batch) error {
	commit := false
	if b.Control() {
		c, err := message.MarkerCommits(b)
		if err != nil {
			return fmt.Errorf("marker at %d: %w", b.BaseOffset, err)
		}
		commit = c
	}
	t.observe(b, commit)
	return nil
}
