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
	slots    []slot // the table is slots[:n]; allocated as passes need it
	n        int
	maxSlots int
	used     int
	limit    int // entries allowed before the map reports full
}

// slot is one table entry; off holds offset+1, so the zero slot is empty
// and clearing is a memclr.
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

// newOffsetMap makes a map that uses at most bytes of memory (and at
// least two slots). It allocates nothing until prepare.
func newOffsetMap(bytes int64) *offsetMap {
	return &offsetMap{maxSlots: max(int(bytes/slotBytes), 2)}
}

// limitFor is how many keys n slots take: one slot at least stays empty,
// which ends every probe.
func limitFor(n int) int { return max(min(int(float64(n)*loadFactor), n-1), 1) }

// capacity is how many keys the map holds at most.
func (m *offsetMap) capacity() int { return limitFor(m.maxSlots) }

// prepare empties the map for a pass that will offer it at most keys
// keys (the dirty section's offset span bounds them): a small log uses,
// allocates and clears a small table, whatever the configured size.
func (m *offsetMap) prepare(keys int64) {
	clear(m.slots[:m.n])
	n := m.maxSlots
	if want := keys + keys/8 + 2; want < int64(n) {
		n = int(want)
	}
	if n > len(m.slots) {
		m.slots = make([]slot, n)
	}
	m.n, m.used, m.limit = n, 0, limitFor(n)
}

// index is the first slot to probe for h: the high bits of h1 scaled to
// the table (no modulo bias worth the name, no power-of-two size).
func (m *offsetMap) index(h keyHash) int {
	hi, _ := bits.Mul64(h.h1, uint64(m.n))
	return int(hi)
}

// put records offset as the latest for h. It reports false, changing
// nothing, when h is new and the map is full.
func (m *offsetMap) put(h keyHash, offset int64) bool {
	for i := m.index(h); ; i++ {
		if i == m.n {
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
	if m.n == 0 {
		return -1
	}
	for i := m.index(h); ; i++ {
		if i == m.n {
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
