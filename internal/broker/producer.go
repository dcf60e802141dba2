package broker

import (
	"fmt"
	"math"

	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

// maxTrackedBatches is how many recent batches per producer are kept for
// duplicate detection: Kafka's max.in.flight.requests.per.connection limit
// for idempotent producers is 5, so a retry is always one of the last 5.
const maxTrackedBatches = 5

type seqEntry struct {
	firstSeq, lastSeq       int32
	firstOffset, lastOffset int64
}

type producerState struct {
	epoch   int16
	batches []seqEntry // oldest first, at most maxTrackedBatches
}

// producerStates tracks idempotent producers of one partition. It is
// rebuilt from the log's batch headers at start, so duplicates are caught
// across a restart without a separate file that could disagree with the
// log.
type producerStates map[int64]*producerState

// check decides whether an idempotent batch may be appended. It returns
// the original entry for an exact duplicate of a recent batch.
func (ps producerStates) check(b message.Batch) (*seqEntry, error) {
	if !b.Idempotent() {
		return nil, nil
	}
	st, ok := ps[b.ProducerID]
	if !ok {
		// Unknown producer: either new, or its state aged out with the
		// data (retention). Kafka accepts the batch and starts tracking.
		return nil, nil
	}
	switch {
	case b.ProducerEpoch < st.epoch:
		return nil, fmt.Errorf("%w: producer %d epoch %d is older than %d", ErrInvalidProducerEpoch, b.ProducerID, b.ProducerEpoch, st.epoch)
	case b.ProducerEpoch > st.epoch:
		if b.BaseSequence != 0 {
			return nil, fmt.Errorf("%w: producer %d new epoch %d must start at sequence 0, got %d", ErrOutOfOrderSequence, b.ProducerID, b.ProducerEpoch, b.BaseSequence)
		}
		return nil, nil
	}
	last := lastSeq(b)
	for i := range st.batches {
		e := &st.batches[i]
		if e.firstSeq == b.BaseSequence && e.lastSeq == last {
			return e, nil
		}
	}
	if n := len(st.batches); n > 0 {
		want := nextSeq(st.batches[n-1].lastSeq)
		if b.BaseSequence != want {
			return nil, fmt.Errorf("%w: producer %d expected sequence %d, got %d", ErrOutOfOrderSequence, b.ProducerID, want, b.BaseSequence)
		}
	}
	return nil, nil
}

// record notes an appended batch (BaseOffset already assigned).
func (ps producerStates) record(b message.Batch) {
	if !b.Idempotent() {
		return
	}
	st, ok := ps[b.ProducerID]
	if !ok || b.ProducerEpoch != st.epoch {
		if ok && b.Control() && b.ProducerEpoch < st.epoch {
			return
		}
		st = &producerState{epoch: b.ProducerEpoch}
		ps[b.ProducerID] = st
	}
	if b.Control() {
		// A transaction marker carries no sequence; it only teaches the
		// partition the producer's epoch when the coordinator bumped it
		// (fencing the previous one).
		return
	}
	st.batches = append(st.batches, seqEntry{
		firstSeq: b.BaseSequence, lastSeq: lastSeq(b),
		firstOffset: b.BaseOffset, lastOffset: b.LastOffset(),
	})
	if len(st.batches) > maxTrackedBatches {
		st.batches = append(st.batches[:0], st.batches[1:]...)
	}
}

func lastSeq(b message.Batch) int32 {
	return int32((int64(b.BaseSequence) + int64(b.LastOffsetDelta)) % (math.MaxInt32 + 1))
}

// nextSeq wraps at MaxInt32 as Kafka's sequence numbers do.
func nextSeq(s int32) int32 {
	if s == math.MaxInt32 {
		return 0
	}
	return s + 1
}

// loadPartitionState rebuilds producer and transaction state from the
// log. Only batch headers are parsed, except transaction markers, whose
// one record says commit or abort.
func loadPartitionState(l *storage.Log) (producerStates, *partitionTxns, error) {
	ps, txns := producerStates{}, newPartitionTxns()
	err := eachBatch(l, func(b message.Batch) error {
		ps.record(b)
		return txns.load(b)
	})
	return ps, txns, err
}
