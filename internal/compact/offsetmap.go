package compact

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// offsetMap remembers, for each key of the dirty section, the offset of
// its latest record: Kafka's SkimpyOffsetMap. Its size is fixed when it is
// made (log.cleaner.dedupe.buffer.size), whatever the log holds; when it
// fills, the cleaner cleans only the part of the dirty section the map
// covers and continues from there on the next pass.
//
// Keys are not stored, only a 128-bit hash of each: the first half of its
// SHA-256. Two keys sharing a hash would make the older one's records
// vanish behind the newer one's, so the hash must make that impossible in
// practice, also for keys chosen to collide: 2^64 work for a birthday
// collision, against a hash that was never broken for that.
type offsetMap struct {
	slots []slot
	used  int
	limit int // entries allowed before the map reports full
}

// slot is one table entry; off holds offset+1, so the zero slot is empty
// and reset is a clear.
type slot struct {
	h1, h2 uint64
	off    int64
}

// slotBytes is the memory of one slot.
const slotBytes = 24

// loadFactor keeps linear probes short, as Kafka's
// log.cleaner.io.buffer.load.factor (0.9).
const loadFactor = 0.9

// keyHash is a key's 128-bit hash.
type keyHash struct{ h1, h2 uint64 }

func hashKey(key []byte) keyHash {
	s := sha256.Sum256(key)
	return keyHash{binary.BigEndian.Uint64(s[0:8]), binary.BigEndian.Uint64(s[8:16])}
}

// newOffsetMap makes a map using at most bytes of memory (at least two
// slots). One slot at least stays empty, which ends every probe.
func newOffsetMap(bytes int64) *offsetMap {
	n := max(int(bytes/slotBytes), 2)
	limit := max(min(int(float64(n)*loadFactor), n-1), 1)
	return &offsetMap{slots: make([]slot, n), limit: limit}
}

// capacity is how many keys the map holds before it is full.
func (m *offsetMap) capacity() int { return m.limit }

func (m *offsetMap) reset() {
	clear(m.slots)
	m.used = 0
}

// index is the first slot to probe for h: the high bits of h1 scaled to
// the table (no modulo bias worth the name, no power-of-two size).
func (m *offsetMap) index(h keyHash) int {
	hi, _ := bits.Mul64(h.h1, uint64(len(m.slots)))
	return int(hi)
}

// put records offset as the latest for h. It reports false, changing
// nothing, when h is new and the map is full.
func (m *offsetMap) put(h keyHash, offset int64) bool {
	for i := m.index(h); ; i++ {
		if i == len(m.slots) {
			i = 0
		}
		s := &m.slots[i]
		switch {
		case s.off == 0:
			if m.used >= m.limit {
				return false
			}
			*s = slot{h.h1, h.h2, offset + 1}
			m.used++
			return true
		case s.h1 == h.h1 && s.h2 == h.h2:
			s.off = max(s.off, offset+1)
			return true
		}
	}
}

// get returns the latest offset recorded for h, -1 if none.
func (m *offsetMap) get(h keyHash) int64 {
	for i := m.index(h); ; i++ {
		if i == len(m.slots) {
			i = 0
		}
		s := &m.slots[i]
		switch {
		case s.off == 0:
			return -1
		case s.h1 == h.h1 && s.h2 == h.h2:
			return s.off - 1
		}
	}
}
