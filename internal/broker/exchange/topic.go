package exchange

import "strings"

// Topic routing: a trie over the dot-separated words of binding keys, as
// RabbitMQ's topic exchange keeps (rabbit_exchange_type_topic). An edge is
// a literal word, "*" (exactly one word) or "#" (zero or more words). A
// routing key is matched by walking every edge that can consume the next
// word; "#" edges try every possible number of words. A node below a "#"
// edge can be reached at the same word position along several paths (think
// "#.#.a"), so those (node, position) pairs are memoized per match: the
// work is bounded by nodes × (words+1) instead of growing exponentially.
//
// Nodes are immutable: insert and remove copy the path from the root, so a
// published Table keeps its trie.

// splitWords splits a key as RabbitMQ does: "" has no words; otherwise
// every '.' separates two (possibly empty) words, so "a." is ["a", ""] and
// "." is ["", ""].
func splitWords(key string, buf []string) []string {
	if key == "" {
		return buf
	}
	for {
		i := strings.IndexByte(key, '.')
		if i < 0 {
			return append(buf, key)
		}
		buf = append(buf, key[:i])
		key = key[i+1:]
	}
}

type tnode struct {
	lits      pmap[*tnode] // literal word → child
	star      *tnode       // "*" child
	hash      *tnode       // "#" child
	dests     destSet      // bindings whose key ends here
	underHash bool         // some edge on the path from the root is "#"
}

func (n *tnode) empty() bool {
	return n.lits.Len() == 0 && n.star == nil && n.hash == nil && n.dests.m.Len() == 0
}

// insert returns a copy of n (nil: an empty node) with d bound at words.
func (n *tnode) insert(hs hasher, words []string, underHash bool, d Destination) *tnode {
	c := &tnode{underHash: underHash}
	if n != nil {
		*c = *n
	}
	if len(words) == 0 {
		c.dests = c.dests.add(hs, d)
		return c
	}
	switch w := words[0]; w {
	case "*":
		c.star = c.star.insert(hs, words[1:], underHash, d)
	case "#":
		c.hash = c.hash.insert(hs, words[1:], true, d)
	default:
		h := hs.sum(w)
		child, _ := c.lits.get(h, w)
		c.lits = c.lits.set(h, w, child.insert(hs, words[1:], underHash, d))
	}
	return c
}

// remove returns a copy of n with one binding of d at words removed, or nil
// if the node is left empty. Absent bindings leave n unchanged.
func (n *tnode) remove(hs hasher, words []string, d Destination) *tnode {
	if n == nil {
		return nil
	}
	c := *n
	if len(words) == 0 {
		c.dests = c.dests.remove(hs, d)
	} else {
		switch w := words[0]; w {
		case "*":
			c.star = c.star.remove(hs, words[1:], d)
		case "#":
			c.hash = c.hash.remove(hs, words[1:], d)
		default:
			h := hs.sum(w)
			child, ok := c.lits.get(h, w)
			if !ok {
				return n
			}
			if nc := child.remove(hs, words[1:], d); nc == nil {
				c.lits = c.lits.del(h, w)
			} else {
				c.lits = c.lits.set(h, w, nc)
			}
		}
	}
	if c.empty() {
		return nil
	}
	return &c
}

// matchTopic emits the destinations of every binding of the trie rooted at
// n that matches s.words.
func (s *routeState) matchTopic(n *tnode) {
	s.memo = s.memoBuf[:0]
	s.memoMap = nil
	s.visitTopic(n, 0)
}

func (s *routeState) visitTopic(n *tnode, i int) {
	if n.underHash && s.visited(n, i) {
		return
	}
	words := s.words
	if i == len(words) {
		s.emitSet(n.dests.m.root)
	}
	if n.hash != nil {
		for k := i; k <= len(words); k++ {
			s.visitTopic(n.hash, k)
		}
	}
	if i < len(words) {
		if c, ok := n.lits.get(s.t.hs.sum(words[i]), words[i]); ok {
			s.visitTopic(c, i+1)
		}
		if n.star != nil {
			s.visitTopic(n.star, i+1)
		}
	}
}

type visit struct {
	n *tnode
	i int
}

// visited records (n, i) and reports whether it was already recorded.
func (s *routeState) visited(n *tnode, i int) bool {
	v := visit{n, i}
	if s.memoMap != nil {
		if _, ok := s.memoMap[v]; ok {
			return true
		}
		s.memoMap[v] = struct{}{}
		return false
	}
	for _, m := range s.memo {
		if m == v {
			return true
		}
	}
	if len(s.memo) < cap(s.memo) {
		s.memo = append(s.memo, v)
		return false
	}
	s.memoMap = make(map[visit]struct{}, 4*len(s.memo))
	for _, m := range s.memo {
		s.memoMap[m] = struct{}{}
	}
	s.memoMap[v] = struct{}{}
	return false
}
