package compact

import "github.com/ternmq/tern/internal/message"

// filter decides, batch by batch, what a pass keeps: Kafka's
// Cleaner.shouldRetainRecord and its batch retention, with Tern's
// conservative rule for transactions (package doc).
type filter struct {
	m           *offsetMap
	start       int64           // log start: batches wholly below it are gone already
	cleanEnd    int64           // records at or past it are kept untouched
	lastOf      map[int64]int64 // producer id → base offset of its last batch
	nowMs       int64
	retentionMs int64 // delete.retention.ms
	// maxDecompressed bounds one batch's records in memory.
	maxDecompressed int
	z               *message.Compressor

	raws, keep []message.RawRecord // reused
	out        []byte
	// aborted is Settings.Aborted: nil keeps transactional batches as
	// they are.
	aborted func(producerID, offset int64) bool
	// horizon is the earliest delete horizon written below cleanEnd, -1
	// when none: when it passes, the log is due for a pass.
	horizon int64
}

// verdict is what retain decided for one batch.
type verdict struct {
	// out is the batch to write: b.Raw unchanged, a rebuilt batch
	// (valid until the next call), or nil to drop it.
	out []byte
	// rewritten: out is not b.Raw.
	rewritten bool
	removed   int // records dropped
}

// retain decides b's fate. A record below cleanEnd is dropped when
//   - it has no key (a compacted log keeps records by key; Kafka drops
//     them too, they can be there from before the topic was compacted),
//   - the offset map holds a later record of its key, or
//   - it is a tombstone whose batch's delete horizon has passed.
//
// The first pass that keeps a tombstone sets its batch's delete horizon to
// now + delete.retention.ms (KIP-534). A batch left with no record goes,
// unless it is its producer's last: then its header stays, so the
// producer's sequence survives a restart. Control batches (transaction
// markers) are kept as they are. A batch of an aborted transaction goes
// whole (its header stays if it is its producer's last); a committed
// transactional batch is compacted like any other. Without the owner's
// Aborted, transactional batches are kept as they are.
func (f *filter) retain(b message.Batch) (verdict, error) {
	if b.LastOffset() < f.start {
		return verdict{rewritten: true, removed: int(b.RecordCount)}, nil
	}
	if b.BaseOffset >= f.cleanEnd || b.Control() || (b.Transactional() && f.aborted == nil) {
		f.noteHorizon(b, true)
		return verdict{out: b.Raw}, nil
	}
	if b.Transactional() && f.aborted(b.ProducerID, b.BaseOffset) {
		// Read_committed consumers skip it and read_uncommitted ones may
		// lose it to compaction anyway: Kafka's cleaner drops it whole.
		v := verdict{rewritten: true, removed: int(b.RecordCount)}
		f.keep = f.keep[:0]
		if last, ok := f.lastOf[b.ProducerID]; !ok || last != b.BaseOffset {
			return v, nil
		}
		var err error
		if f.out, err = message.RebuildBatch(f.out[:0], b, nil, -1, f.z); err != nil {
			return verdict{}, err
		}
		v.out = f.out
		return v, nil
	}
	var err error
	if f.raws, err = message.RawRecords(f.raws[:0], b, f.maxDecompressed); err != nil {
		return verdict{}, err
	}
	horizon, hasHorizon := b.DeleteHorizon()
	expired := hasHorizon && f.nowMs >= horizon
	f.keep = f.keep[:0]
	tombstones := false
	for _, r := range f.raws {
		keep := true
		if r.Offset < f.cleanEnd {
			switch {
			case r.Key == nil:
				keep = false
			case f.m.get(hashKey(r.Key)) > r.Offset:
				keep = false
			case r.Tombstone && expired:
				keep = false
			}
		}
		if keep {
			f.keep = append(f.keep, r)
			tombstones = tombstones || r.Tombstone
		}
	}
	v := verdict{removed: len(f.raws) - len(f.keep)}

	newHorizon := int64(-1)
	if tombstones {
		newHorizon = horizon
		if !hasHorizon {
			newHorizon = f.nowMs + f.retentionMs
		}
	}
	if v.removed == 0 && (newHorizon >= 0) == hasHorizon {
		f.noteHorizon(b, tombstones)
		v.out = b.Raw
		return v, nil
	}
	v.rewritten = true
	if len(f.keep) == 0 {
		if last, ok := f.lastOf[b.ProducerID]; !ok || b.ProducerID < 0 || last != b.BaseOffset {
			return v, nil
		}
	}
	if f.out, err = message.RebuildBatch(f.out[:0], b, f.keep, newHorizon, f.z); err != nil {
		return verdict{}, err
	}
	v.out = f.out
	if newHorizon >= 0 && b.LastOffset() < f.cleanEnd {
		f.track(newHorizon)
	}
	return v, nil
}

// noteHorizon tracks the horizon of a batch kept as it is, when it may
// hold tombstones and lies wholly below cleanEnd.
func (f *filter) noteHorizon(b message.Batch, mayHoldTombstones bool) {
	if h, ok := b.DeleteHorizon(); ok && mayHoldTombstones && b.LastOffset() < f.cleanEnd {
		f.track(h)
	}
}

func (f *filter) track(h int64) {
	if f.horizon < 0 || h < f.horizon {
		f.horizon = h
	}
}
