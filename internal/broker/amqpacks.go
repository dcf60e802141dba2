package broker

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/ternmq/tern/internal/broker/queue"
	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

// The acks log of a queue records what left the queue (acked, rejected,
// expired, dropped) so a restart does not deliver it again, and the
// delivery frontier so messages that were in flight come back marked
// redelivered. Records are small binary entries:
//
//	settled:  kind=1 level:u8 start:i64 end:i64
//	frontier: kind=2 level:u8 offset:i64
//	snapshot: kind=3 then per level: level:u8 lowWater:i64 frontier:i64
//	          n:u32 and n × (start:i64 end:i64)
//
// A snapshot summarizes everything before it, so the log is trimmed to
// start at its newest snapshot once it grows (acksCompactEvery records).
const (
	ackSettled  = 1
	ackFrontier = 2
	ackSnapshot = 3

	acksCompactEvery = 4096
)

// acksLog appends settle records; writes are not waited for: an ack lost
// in a crash only means the message is delivered again (at-least-once).
type acksLog struct {
	log       *storage.Log
	sinceSnap int
	// trimTo is the newest snapshot's offset: what comes before it may go.
	trimTo int64
}

func encodeSettled(rs []queue.Range, frontiers []queue.LevelState) []message.Record {
	recs := make([]message.Record, 0, len(rs)+len(frontiers))
	for _, r := range rs {
		b := []byte{ackSettled, r.Level}
		b = binary.BigEndian.AppendUint64(b, uint64(r.Start))
		b = binary.BigEndian.AppendUint64(b, uint64(r.End))
		recs = append(recs, message.Record{Value: b})
	}
	for lv, st := range frontiers {
		b := []byte{ackFrontier, uint8(lv)}
		b = binary.BigEndian.AppendUint64(b, uint64(st.Frontier))
		recs = append(recs, message.Record{Value: b})
	}
	return recs
}

func encodeSnapshot(states []queue.LevelState) message.Record {
	b := []byte{ackSnapshot}
	for lv, st := range states {
		b = append(b, uint8(lv))
		b = binary.BigEndian.AppendUint64(b, uint64(st.LowWater))
		b = binary.BigEndian.AppendUint64(b, uint64(st.Frontier))
		b = binary.BigEndian.AppendUint32(b, uint32(len(st.Acked)))
		for _, iv := range st.Acked {
			b = binary.BigEndian.AppendUint64(b, uint64(iv.Start))
			b = binary.BigEndian.AppendUint64(b, uint64(iv.End))
		}
	}
	return message.Record{Value: b}
}

// record appends settled ranges and the current frontiers; every
// acksCompactEvery records it writes a snapshot of the whole state, and
// what came before it can be trimmed (trimTo).
func (a *acksLog) record(rs []queue.Range, states []queue.LevelState) error {
	if len(rs) == 0 {
		return nil
	}
	recs := encodeSettled(rs, states)
	a.sinceSnap += len(recs)
	snap := a.sinceSnap >= acksCompactEvery
	if snap {
		recs = []message.Record{encodeSnapshot(states)}
		a.sinceSnap = 0
	}
	pd, err := a.log.AppendAsync(message.EncodeBatch(recs, message.BatchOptions{ProducerID: -1, BaseSequence: -1}), 0)
	if err != nil {
		return fmt.Errorf("%w: acks log: %w", ErrStorage, err)
	}
	a.log.SetHighWatermark(pd.EndOffset)
	if snap {
		// Trimmed later, by trim: it fsyncs a checkpoint, too slow for
		// the queue lock record is called under.
		a.trimTo = pd.BaseOffset
	}
	return nil
}

// trim drops the records before the newest snapshot.
func (a *acksLog) trim(before int64) error {
	if before <= a.log.StartOffset() || before > a.log.HighWatermark() {
		return nil
	}
	if err := a.log.DeleteRecordsBefore(before); err != nil {
		return fmt.Errorf("%w: trim acks log: %w", ErrStorage, err)
	}
	return nil
}

// replayAcks rebuilds each level's recovered state from the acks log and
// the levels' logs (their ends and start offsets).
func replayAcks(l *storage.Log, levels []*storage.Log) ([]queue.LevelState, error) {
	type acc struct {
		frontier int64
		acked    []queue.Interval
	}
	accs := make([]acc, len(levels))
	err := readAll(l, func(r message.Record) error {
		v := r.Value
		if len(v) < 1 {
			return fmt.Errorf("%w: empty acks record", ErrStorage)
		}
		switch v[0] {
		case ackSettled:
			if len(v) != 18 || int(v[1]) >= len(accs) {
				return fmt.Errorf("%w: bad settled record", ErrStorage)
			}
			a := &accs[v[1]]
			a.acked = append(a.acked, queue.Interval{Start: int64(binary.BigEndian.Uint64(v[2:])), End: int64(binary.BigEndian.Uint64(v[10:]))})
		case ackFrontier:
			if len(v) != 10 || int(v[1]) >= len(accs) {
				return fmt.Errorf("%w: bad frontier record", ErrStorage)
			}
			a := &accs[v[1]]
			a.frontier = max(a.frontier, int64(binary.BigEndian.Uint64(v[2:])))
		case ackSnapshot:
			for i := range accs {
				accs[i] = acc{}
			}
			p := v[1:]
			for len(p) > 0 {
				if len(p) < 21 || int(p[0]) >= len(accs) {
					return fmt.Errorf("%w: bad snapshot record", ErrStorage)
				}
				a := &accs[p[0]]
				low := int64(binary.BigEndian.Uint64(p[1:]))
				a.frontier = int64(binary.BigEndian.Uint64(p[9:]))
				n := int(binary.BigEndian.Uint32(p[17:]))
				p = p[21:]
				if len(p) < 16*n {
					return fmt.Errorf("%w: truncated snapshot record", ErrStorage)
				}
				if low > 0 {
					a.acked = append(a.acked, queue.Interval{Start: 0, End: low})
				}
				for i := 0; i < n; i++ {
					a.acked = append(a.acked, queue.Interval{Start: int64(binary.BigEndian.Uint64(p)), End: int64(binary.BigEndian.Uint64(p[8:]))})
					p = p[16:]
				}
			}
		default:
			return fmt.Errorf("%w: unknown acks record kind %d", ErrStorage, v[0])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]queue.LevelState, len(levels))
	for lv, log := range levels {
		start, end := log.StartOffset(), log.EndOffset()
		st := queue.LevelState{End: end, LowWater: start}
		merged := mergeIntervals(accs[lv].acked)
		// Everything acked from the start on moves the low-water mark.
		for len(merged) > 0 && merged[0].Start <= st.LowWater {
			st.LowWater = max(st.LowWater, min(merged[0].End, end))
			merged = merged[1:]
		}
		for _, iv := range merged {
			iv.End = min(iv.End, end)
			if iv.Start < iv.End {
				st.Acked = append(st.Acked, iv)
			}
		}
		st.Frontier = min(max(accs[lv].frontier, st.LowWater), end)
		// Acked intervals must lie below the frontier or be whole: the
		// state machine treats [frontier,end) minus Acked as ready.
		out[lv] = st
	}
	return out, nil
}

func mergeIntervals(ivs []queue.Interval) []queue.Interval {
	slices.SortFunc(ivs, func(a, b queue.Interval) int {
		if a.Start != b.Start {
			return int(a.Start - b.Start)
		}
		return int(a.End - b.End)
	})
	var out []queue.Interval
	for _, iv := range ivs {
		if iv.Start >= iv.End {
			continue
		}
		if n := len(out); n > 0 && iv.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, iv.End)
			continue
		}
		out = append(out, iv)
	}
	return out
}
