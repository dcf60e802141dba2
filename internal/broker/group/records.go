package group

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Journal record encoding. Keys and values are Kafka's __consumer_offsets
// encoding (big-endian; string = int16 length + bytes, nullable string
// length -1 = null; bytes = int32 length + bytes; array = int32 count), so
// "latest value per key" is the group's state and compaction is correct:
//
//	offset key   (version 0 or 1): int16 version | string group | string topic | int32 partition
//	group key    (version 2):      int16 version | string group
//
//	offset value (version 3, written; 0-3 read):
//	    int16 version | int64 offset | int32 leader epoch | string metadata | int64 commit time (ms)
//	group value  (version 3, written; 0-3 read):
//	    int16 version | string protocol type | int32 generation | nullable string protocol |
//	    nullable string leader | int64 state time (ms) | int32 member count ×
//	    ( string member id | nullable string instance id | string client id | string client host |
//	      int32 rebalance timeout (ms) | int32 session timeout (ms) |
//	      bytes subscription (metadata of the selected protocol) | bytes assignment )
//
// A nil value is a tombstone. Versions below 3 lack fields (v0: no
// rebalance timeout, no state time, no instance id; v1 adds the rebalance
// timeout, v2 the state time, v3 the instance id); unknown versions are
// ErrCorruptRecord, so a journal written by a newer Tern is refused rather
// than misread.
const (
	offsetKeyVersion   = 1
	groupKeyVersion    = 2
	offsetValueVersion = 3
	groupValueVersion  = 3
)

type encoder struct{ b []byte }

func (w *encoder) i16(v int16) { w.b = binary.BigEndian.AppendUint16(w.b, uint16(v)) }
func (w *encoder) i32(v int32) { w.b = binary.BigEndian.AppendUint32(w.b, uint32(v)) }
func (w *encoder) i64(v int64) { w.b = binary.BigEndian.AppendUint64(w.b, uint64(v)) }

func (w *encoder) str(s string) {
	if len(s) > math.MaxInt16 {
		s = s[:math.MaxInt16] // Kafka strings cannot be longer; ids never are
	}
	w.i16(int16(len(s)))
	w.b = append(w.b, s...)
}

// nstr writes "" as null.
func (w *encoder) nstr(s string) {
	if s == "" {
		w.i16(-1)
		return
	}
	w.str(s)
}

func (w *encoder) bytes(b []byte) {
	w.i32(int32(len(b)))
	w.b = append(w.b, b...)
}

// decoder reads until the first error, which sticks.
type decoder struct {
	b   []byte
	err error
}

func (r *decoder) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = fmt.Errorf("%w: truncated", ErrCorruptRecord)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *decoder) i16() int16 {
	if b := r.take(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (r *decoder) i32() int32 {
	if b := r.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (r *decoder) i64() int64 {
	if b := r.take(8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

func (r *decoder) str() string {
	n := r.i16()
	if n == -1 {
		return ""
	}
	return string(r.take(int(n)))
}

func (r *decoder) bytes() []byte {
	n := r.i32()
	if n == -1 {
		return nil
	}
	return append([]byte{}, r.take(int(n))...)
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms < 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func offsetKey(group string, tp topicPartition) []byte {
	w := encoder{b: make([]byte, 0, 12+len(group)+len(tp.topic))}
	w.i16(offsetKeyVersion)
	w.str(group)
	w.str(tp.topic)
	w.i32(tp.partition)
	return w.b
}

func groupKey(group string) []byte {
	w := encoder{b: make([]byte, 0, 4+len(group))}
	w.i16(groupKeyVersion)
	w.str(group)
	return w.b
}

func offsetRecord(group string, tp topicPartition, o offsetEntry) JournalRecord {
	w := encoder{}
	w.i16(offsetValueVersion)
	w.i64(o.offset)
	w.i32(o.leaderEpoch)
	w.str(o.metadata)
	w.i64(millis(o.commitTime))
	return JournalRecord{Key: offsetKey(group, tp), Value: w.b}
}

// groupRecord is the group's metadata as of now.
func groupRecord(g *group, now time.Time) JournalRecord {
	w := encoder{}
	w.i16(groupValueVersion)
	w.str(g.protocolType)
	w.i32(g.generation)
	w.nstr(g.protocol)
	w.nstr(g.leader)
	w.i64(millis(now))
	w.i32(int32(len(g.order)))
	for _, id := range g.order {
		m := g.members[id]
		w.str(m.id)
		w.nstr(m.instanceID)
		w.str(m.clientID)
		w.str(m.clientHost)
		w.i32(int32(m.rebalanceTimeout.Milliseconds()))
		w.i32(int32(m.sessionTimeout.Milliseconds()))
		md, _ := m.metadataFor(g.protocol)
		w.bytes(md)
		w.bytes(m.assignment)
	}
	return JournalRecord{Key: groupKey(g.id), Value: w.b}
}

// recordKey is a decoded key: an offset key (isOffset), a classic group
// key, or a consumer group key (consumerKind, see consumer_records.go).
type recordKey struct {
	group        string
	isOffset     bool
	tp           topicPartition
	consumerKind int16
	member       string
}

func decodeKey(b []byte) (recordKey, error) {
	r := decoder{b: b}
	var k recordKey
	switch v := r.i16(); v {
	case 0, 1:
		k.isOffset = true
		k.group = r.str()
		k.tp.topic = r.str()
		k.tp.partition = r.i32()
	case 2:
		k.group = r.str()
	default:
		if r.err == nil && !decodeConsumerKey(v, &r, &k) {
			return k, fmt.Errorf("%w: unknown key version %d", ErrCorruptRecord, v)
		}
	}
	return k, r.err
}

func decodeOffsetValue(b []byte) (offsetEntry, error) {
	r := decoder{b: b}
	o := offsetEntry{leaderEpoch: -1}
	switch v := r.i16(); v {
	case 0, 2:
		o.offset = r.i64()
		o.metadata = r.str()
		o.commitTime = fromMillis(r.i64())
	case 1:
		o.offset = r.i64()
		o.metadata = r.str()
		o.commitTime = fromMillis(r.i64())
		r.i64() // expire timestamp, ignored
	case 3:
		o.offset = r.i64()
		o.leaderEpoch = r.i32()
		o.metadata = r.str()
		o.commitTime = fromMillis(r.i64())
	default:
		if r.err == nil {
			return o, fmt.Errorf("%w: unknown offset value version %d", ErrCorruptRecord, v)
		}
	}
	return o, r.err
}

// groupValue is a decoded group metadata value.
type groupValue struct {
	protocolType, protocol, leader string
	generation                     int32
	stateTime                      time.Time
	members                        []*member
}

func decodeGroupValue(b []byte) (groupValue, error) {
	r := decoder{b: b}
	var gv groupValue
	v := r.i16()
	if r.err == nil && (v < 0 || v > 3) {
		return gv, fmt.Errorf("%w: unknown group value version %d", ErrCorruptRecord, v)
	}
	gv.protocolType = r.str()
	gv.generation = r.i32()
	gv.protocol = r.str()
	gv.leader = r.str()
	if v >= 2 {
		gv.stateTime = fromMillis(r.i64())
	}
	n := r.i32()
	if r.err == nil && (n < 0 || int(n) > len(r.b)) {
		return gv, fmt.Errorf("%w: bad member count %d", ErrCorruptRecord, n)
	}
	for i := int32(0); i < n && r.err == nil; i++ {
		m := &member{}
		m.id = r.str()
		if v >= 3 {
			m.instanceID = r.str()
		}
		m.clientID = r.str()
		m.clientHost = r.str()
		if v >= 1 {
			m.rebalanceTimeout = time.Duration(r.i32()) * time.Millisecond
		}
		m.sessionTimeout = time.Duration(r.i32()) * time.Millisecond
		if v == 0 {
			m.rebalanceTimeout = m.sessionTimeout
		}
		m.protocols = []Protocol{{Name: gv.protocol, Metadata: r.bytes()}}
		m.assignment = r.bytes()
		gv.members = append(gv.members, m)
	}
	return gv, r.err
}
