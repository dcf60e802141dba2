package exchange

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"sync"
)

// Table is an immutable routing snapshot of one virtual host: what
// Router.Table returned at some point. It is safe for any number of
// goroutines to call Route concurrently; nothing ever modifies a Table
// after the Router hands it out (later mutations build a new Table that
// shares the unchanged parts).
type Table struct {
	hs        hasher
	scratch   *scratchPool
	exchanges pmap[*xroute]
	queues    pmap[struct{}] // every known queue, for the default exchange
}

// hasher hashes keys of the persistent maps with a per-Router seed, so
// nobody outside can build colliding keys.
type hasher struct{ seed maphash.Seed }

func (h hasher) sum(s string) uint64 { return maphash.String(h.seed, s) }

// xroute is the routing state of one exchange. Only the index of its
// kind is used.
type xroute struct {
	name      string
	kind      Kind
	internal  bool
	isDefault bool // "": every queue is bound by its own name
	ae        string
	hasAE     bool
	direct    pmap[destSet] // routing key → destinations
	fanout    destSet
	topic     *tnode
	headers   pmap[*headersBinding] // binding id → matcher
}

// destSet is a set of destinations with a count of the bindings that put
// each one there (bindings may differ only in arguments).
type destSet struct{ m pmap[destRef] }

type destRef struct {
	d Destination
	n int
}

func (s destSet) add(hs hasher, d Destination) destSet {
	k := d.key()
	h := hs.sum(k)
	r, _ := s.m.get(h, k)
	r.d, r.n = d, r.n+1
	return destSet{s.m.set(h, k, r)}
}

func (s destSet) remove(hs hasher, d Destination) destSet {
	k := d.key()
	h := hs.sum(k)
	r, ok := s.m.get(h, k)
	switch {
	case !ok:
		return s
	case r.n <= 1:
		return destSet{s.m.del(h, k)}
	default:
		r.n--
		return destSet{s.m.set(h, k, r)}
	}
}

func (s destSet) each(fn func(Destination)) {
	s.m.each(func(_ string, r destRef) bool {
		fn(r.d)
		return true
	})
}

func (d Destination) key() string {
	return string(d.Kind) + ":" + d.Name
}

func (t *Table) exchange(name string) (*xroute, bool) {
	return t.exchanges.get(t.hs.sum(name), name)
}

func (t *Table) putExchange(x *xroute) *Table {
	c := *t
	c.exchanges = t.exchanges.set(t.hs.sum(x.name), x.name, x)
	return &c
}

func (t *Table) dropExchange(name string) *Table {
	c := *t
	c.exchanges = t.exchanges.del(t.hs.sum(name), name)
	return &c
}

func (t *Table) putQueue(name string) *Table {
	c := *t
	c.queues = t.queues.set(t.hs.sum(name), name, struct{}{})
	return &c
}

func (t *Table) dropQueue(name string) *Table {
	c := *t
	c.queues = t.queues.del(t.hs.sum(name), name)
	return &c
}

// newXroute compiles an exchange record (validated by the Router).
func newXroute(rec *ExchangeRecord) *xroute {
	x := &xroute{name: rec.Name, kind: rec.Type, internal: rec.Internal, isDefault: rec.Name == ""}
	x.ae, x.hasAE = AlternateExchange(rec.Args)
	return x
}

// AlternateExchange reads the alternate-exchange argument. Like RabbitMQ,
// any string (or bytes) names an exchange; other types name none. The
// permission check reads it here too, so it sees every form routing does.
func AlternateExchange(args Args) (string, bool) {
	switch v := args["alternate-exchange"].(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return "", false
}

// withBinding returns t with b (whose source exists in t) added or
// removed. The Router calls it once per distinct binding.
func (t *Table) withBinding(b *BindingRecord, id string, add bool) *Table {
	old, ok := t.exchange(b.Source)
	if !ok {
		return t
	}
	x := *old
	hs := t.hs
	switch x.kind {
	case Direct:
		h := hs.sum(b.RoutingKey)
		ds, _ := x.direct.get(h, b.RoutingKey)
		if add {
			ds = ds.add(hs, b.Destination)
		} else {
			ds = ds.remove(hs, b.Destination)
		}
		if ds.m.Len() == 0 {
			x.direct = x.direct.del(h, b.RoutingKey)
		} else {
			x.direct = x.direct.set(h, b.RoutingKey, ds)
		}
	case Fanout:
		if add {
			x.fanout = x.fanout.add(hs, b.Destination)
		} else {
			x.fanout = x.fanout.remove(hs, b.Destination)
		}
	case Topic:
		var buf [16]string
		words := splitWords(b.RoutingKey, buf[:0])
		if add {
			x.topic = x.topic.insert(hs, words, false, b.Destination)
		} else {
			x.topic = x.topic.remove(hs, words, b.Destination)
		}
	case Headers:
		if add {
			x.headers = x.headers.set(hs.sum(id), id, compileHeaders(b.Destination, b.Args))
		} else {
			x.headers = x.headers.del(hs.sum(id), id)
		}
	}
	return t.putExchange(&x)
}

// Route returns the queues a message published to exchange with this
// routing key and these headers goes to: sorted, each at most once,
// following exchange-to-exchange bindings and alternate exchanges.
// An empty result means unroutable (basic.return when mandatory).
//
// Errors: ErrNotFound if the exchange does not exist, ErrAccessRefused if
// it is internal. headers may be nil; it is only read.
func (t *Table) Route(exchange, routingKey string, headers map[string]any) ([]string, error) {
	return t.route(exchange, nil, routingKey, headers)
}

// RouteKeys is Route with several routing keys at once, for RabbitMQ's
// sender-selected distribution (the routing key plus the CC and BCC
// headers): a destination matched by any key is included once, and an
// alternate exchange is used only if no key matched anything.
func (t *Table) RouteKeys(exchange string, keys []string, headers map[string]any) ([]string, error) {
	return t.route(exchange, keys, "", headers)
}

// route routes with keys, or with the single key if keys is nil.
func (t *Table) route(exchange string, keys []string, key string, headers map[string]any) ([]string, error) {
	x, ok := t.exchange(exchange)
	if !ok {
		return nil, fmt.Errorf("%w: no exchange %q", ErrNotFound, exchange)
	}
	if x.internal {
		return nil, fmt.Errorf("%w: cannot publish to internal exchange %q", ErrAccessRefused, exchange)
	}
	s := t.scratch.get()
	defer t.scratch.put(s)
	s.t, s.keys, s.headers = t, keys, headers
	if keys == nil {
		s.keyBuf[0] = key
		s.keys = s.keyBuf[:]
	}
	s.seen = append(s.seen, x.name)
	s.work = append(s.work, x)
	// As rabbit_exchange:route/2: a work list of exchanges, each visited
	// once; an exchange's alternate exchange joins the list only when the
	// exchange's own bindings matched nothing (not even an exchange).
	for len(s.work) > 0 {
		x := s.work[len(s.work)-1]
		s.work = s.work[:len(s.work)-1]
		s.n = 0
		s.match(x)
		if s.n == 0 && x.hasAE {
			s.follow(x.ae)
		}
	}
	q := s.queues
	s.queues = nil // returned to the caller, never reused
	if len(q) > 1 {
		slices.Sort(q)
		q = slices.Compact(q)
	}
	return q, nil
}

// routeState is the scratch space of one Route call.
type routeState struct {
	t       *Table
	keys    []string
	headers map[string]any
	n       int // destinations matched by the current exchange
	queues  []string
	seen    []string // exchanges already on the work list
	seenMap map[string]struct{}
	work    []*xroute
	words   []string
	memo    []visit
	memoMap map[visit]struct{}
	wordBuf []string // reused for each routing key
	memoBuf []visit  // reused for each topic match
	keyBuf  [1]string
}

// scratchPool recycles routeStates so that routing allocates only its
// result. One pool per Router, shared by all its Tables.
type scratchPool struct{ p sync.Pool }

func newScratchPool() *scratchPool {
	return &scratchPool{p: sync.Pool{New: func() any {
		return &routeState{
			seen:    make([]string, 0, 8),
			work:    make([]*xroute, 0, 8),
			wordBuf: make([]string, 16),
			memoBuf: make([]visit, 32),
		}
	}}}
}

func (p *scratchPool) get() *routeState { return p.p.Get().(*routeState) }

// put clears everything that points into a Table or the caller's data and
// returns s to the pool; oversized buffers are dropped.
func (p *scratchPool) put(s *routeState) {
	if cap(s.seen) > 64 || cap(s.work) > 64 || len(s.wordBuf) > 256 {
		return
	}
	clear(s.seen[:cap(s.seen)])
	clear(s.work[:cap(s.work)])
	clear(s.wordBuf)
	clear(s.memoBuf)
	*s = routeState{seen: s.seen[:0], work: s.work[:0], wordBuf: s.wordBuf, memoBuf: s.memoBuf}
	p.p.Put(s)
}

func (s *routeState) match(x *xroute) {
	switch {
	case x.isDefault:
		for _, k := range s.keys {
			if _, ok := s.t.queues.get(s.t.hs.sum(k), k); ok {
				s.emit(Destination{Kind: DestQueue, Name: k})
			}
		}
	case x.kind == Direct:
		for _, k := range s.keys {
			if ds, ok := x.direct.get(s.t.hs.sum(k), k); ok {
				s.emitSet(ds.m.root)
			}
		}
	case x.kind == Fanout:
		s.queues = slices.Grow(s.queues, x.fanout.m.Len())
		s.emitSet(x.fanout.m.root)
	case x.kind == Topic:
		if x.topic == nil {
			return
		}
		for _, k := range s.keys {
			s.words = splitWords(k, s.wordBuf[:0])
			s.matchTopic(x.topic)
		}
	case x.kind == Headers:
		s.matchHeaders(x.headers.root)
	}
}

// emitSet emits every destination of a destSet's tree. The walks are
// written out rather than given a callback so that the route state stays
// on the stack.
func (s *routeState) emitSet(n *hnode[destRef]) {
	if n == nil {
		return
	}
	for i := range n.kids {
		if e := &n.kids[i]; e.sub != nil {
			s.emitSet(e.sub)
		} else {
			s.emit(e.val.d)
		}
	}
}

func (s *routeState) matchHeaders(n *hnode[*headersBinding]) {
	if n == nil {
		return
	}
	for i := range n.kids {
		if e := &n.kids[i]; e.sub != nil {
			s.matchHeaders(e.sub)
		} else if e.val.match(s.headers) {
			s.emit(e.val.dest)
		}
	}
}

func (s *routeState) emit(d Destination) {
	s.n++
	if d.Kind == DestQueue {
		s.queues = append(s.queues, d.Name)
		return
	}
	s.follow(d.Name)
}

// follow puts the exchange named on the work list unless it was already
// there; a missing exchange is skipped (as RabbitMQ does for a dangling
// alternate exchange).
func (s *routeState) follow(name string) {
	if s.seenMap != nil {
		if _, ok := s.seenMap[name]; ok {
			return
		}
		s.seenMap[name] = struct{}{}
	} else {
		if slices.Contains(s.seen, name) {
			return
		}
		s.seen = append(s.seen, name)
		if len(s.seen) > 32 {
			s.seenMap = make(map[string]struct{}, 2*len(s.seen))
			for _, n := range s.seen {
				s.seenMap[n] = struct{}{}
			}
		}
	}
	if x, ok := s.t.exchange(name); ok {
		s.work = append(s.work, x)
	}
}

// bindingID identifies a binding within its source: destination, routing
// key and arguments, length-prefixed so that no two differ only in where
// a separator falls.
func bindingID(d Destination, key string, args Args) string {
	return string(d.Kind) + ":" + strconv.Itoa(len(d.Name)) + ":" + d.Name +
		strconv.Itoa(len(key)) + ":" + key + canonical(args)
}
