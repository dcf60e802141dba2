package exchange

import "math/bits"

// pmap is a persistent (immutable) hash array mapped trie from string keys
// to V. Every update returns a new map that shares all untouched nodes with
// the old one, so an update costs O(log32 n) allocations and a published
// Table never changes under a concurrent reader.
//
// Hashes are computed by the caller (Table.hash, seeded per Router) and
// passed in, which keeps this file free of seeds and lets tests force
// collisions. Five hash bits are consumed per level; once all 64 bits are
// used (shift >= 64) a node is a collision bucket searched linearly.
type pmap[V any] struct {
	root *hnode[V]
	size int
}

type hnode[V any] struct {
	bitmap uint32      // which of the 32 slots are present (unused in buckets)
	kids   []hentry[V] // one per set bit, in bit order; leaves in buckets
}

// hentry is a leaf (sub == nil) or a subtree.
type hentry[V any] struct {
	sub  *hnode[V]
	hash uint64
	key  string
	val  V
}

// Len returns the number of keys.
func (m pmap[V]) Len() int { return m.size }

func (m pmap[V]) get(h uint64, key string) (V, bool) {
	n := m.root
	for shift := uint(0); n != nil; shift += 5 {
		if shift >= 64 {
			for i := range n.kids {
				if n.kids[i].key == key {
					return n.kids[i].val, true
				}
			}
			break
		}
		bit := uint32(1) << ((h >> shift) & 31)
		if n.bitmap&bit == 0 {
			break
		}
		e := &n.kids[bits.OnesCount32(n.bitmap&(bit-1))]
		if e.sub == nil {
			if e.hash == h && e.key == key {
				return e.val, true
			}
			break
		}
		n = e.sub
	}
	var zero V
	return zero, false
}

// set returns a map with key bound to val.
func (m pmap[V]) set(h uint64, key string, val V) pmap[V] {
	root := m.root
	if root == nil {
		root = &hnode[V]{}
	}
	nr, added := root.set(0, h, key, val)
	if added {
		return pmap[V]{root: nr, size: m.size + 1}
	}
	return pmap[V]{root: nr, size: m.size}
}

// del returns a map without key (m itself if key is absent).
func (m pmap[V]) del(h uint64, key string) pmap[V] {
	if m.root == nil {
		return m
	}
	nr, removed := m.root.del(0, h, key)
	if !removed {
		return m
	}
	if len(nr.kids) == 0 {
		return pmap[V]{}
	}
	return pmap[V]{root: nr, size: m.size - 1}
}

// each calls fn for every entry, in no particular order, until fn returns
// false.
func (m pmap[V]) each(fn func(key string, v V) bool) bool {
	if m.root == nil {
		return true
	}
	return m.root.each(fn)
}

func (n *hnode[V]) each(fn func(string, V) bool) bool {
	for i := range n.kids {
		e := &n.kids[i]
		if e.sub != nil {
			if !e.sub.each(fn) {
				return false
			}
		} else if !fn(e.key, e.val) {
			return false
		}
	}
	return true
}

// copyKids returns a copy of n with its own kids slice, with capacity for
// extra more entries.
func (n *hnode[V]) copyKids(extra int) *hnode[V] {
	kids := make([]hentry[V], len(n.kids), len(n.kids)+extra)
	copy(kids, n.kids)
	return &hnode[V]{bitmap: n.bitmap, kids: kids}
}

func (n *hnode[V]) set(shift uint, h uint64, key string, val V) (*hnode[V], bool) {
	if shift >= 64 {
		for i := range n.kids {
			if n.kids[i].key == key {
				c := n.copyKids(0)
				c.kids[i].val = val
				return c, false
			}
		}
		c := n.copyKids(1)
		c.kids = append(c.kids, hentry[V]{hash: h, key: key, val: val})
		return c, true
	}
	bit := uint32(1) << ((h >> shift) & 31)
	idx := bits.OnesCount32(n.bitmap & (bit - 1))
	if n.bitmap&bit == 0 {
		c := n.copyKids(1)
		c.bitmap |= bit
		c.kids = append(c.kids, hentry[V]{})
		copy(c.kids[idx+1:], c.kids[idx:])
		c.kids[idx] = hentry[V]{hash: h, key: key, val: val}
		return c, true
	}
	e := n.kids[idx]
	switch {
	case e.sub != nil:
		sub, added := e.sub.set(shift+5, h, key, val)
		c := n.copyKids(0)
		c.kids[idx] = hentry[V]{sub: sub}
		return c, added
	case e.hash == h && e.key == key:
		c := n.copyKids(0)
		c.kids[idx].val = val
		return c, false
	default:
		sub := &hnode[V]{}
		sub, _ = sub.set(shift+5, e.hash, e.key, e.val)
		sub, _ = sub.set(shift+5, h, key, val)
		c := n.copyKids(0)
		c.kids[idx] = hentry[V]{sub: sub}
		return c, true
	}
}

func (n *hnode[V]) del(shift uint, h uint64, key string) (*hnode[V], bool) {
	if shift >= 64 {
		for i := range n.kids {
			if n.kids[i].key == key {
				c := &hnode[V]{kids: make([]hentry[V], 0, len(n.kids)-1)}
				c.kids = append(append(c.kids, n.kids[:i]...), n.kids[i+1:]...)
				return c, true
			}
		}
		return n, false
	}
	bit := uint32(1) << ((h >> shift) & 31)
	if n.bitmap&bit == 0 {
		return n, false
	}
	idx := bits.OnesCount32(n.bitmap & (bit - 1))
	e := n.kids[idx]
	if e.sub == nil {
		if e.hash != h || e.key != key {
			return n, false
		}
		return n.without(idx, bit), true
	}
	sub, removed := e.sub.del(shift+5, h, key)
	if !removed {
		return n, false
	}
	c := n.copyKids(0)
	switch {
	case len(sub.kids) == 0:
		return n.without(idx, bit), true
	case len(sub.kids) == 1 && sub.kids[0].sub == nil:
		// Pull a lone leaf up so lookups stay short after deletes.
		c.kids[idx] = sub.kids[0]
	default:
		c.kids[idx] = hentry[V]{sub: sub}
	}
	return c, true
}

// without returns a copy of n without slot idx (bit).
func (n *hnode[V]) without(idx int, bit uint32) *hnode[V] {
	c := &hnode[V]{bitmap: n.bitmap &^ bit, kids: make([]hentry[V], 0, len(n.kids)-1)}
	c.kids = append(append(c.kids, n.kids[:idx]...), n.kids[idx+1:]...)
	return c
}
