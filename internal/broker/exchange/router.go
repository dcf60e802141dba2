package exchange

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
)

// Kind is an exchange type.
type Kind string

// The exchange types of AMQP 0-9-1 that RabbitMQ ships.
const (
	Direct  Kind = "direct"
	Fanout  Kind = "fanout"
	Topic   Kind = "topic"
	Headers Kind = "headers"
)

func (k Kind) valid() bool {
	return k == Direct || k == Fanout || k == Topic || k == Headers
}

// DestKind says whether a binding's destination is a queue or an exchange.
type DestKind string

// Destination kinds.
const (
	DestQueue    DestKind = "queue"
	DestExchange DestKind = "exchange"
)

// Destination is where a binding leads: a queue or, for an
// exchange-to-exchange binding, an exchange.
type Destination struct {
	Kind DestKind `json:"kind"`
	Name string   `json:"name"`
}

// QueueDest is the destination queue name.
func QueueDest(name string) Destination { return Destination{Kind: DestQueue, Name: name} }

// ExchangeDest is the destination exchange name.
func ExchangeDest(name string) Destination { return Destination{Kind: DestExchange, Name: name} }

// predeclared are the exchanges every virtual host has, as in RabbitMQ:
// durable, not auto-delete, not internal, no arguments.
var predeclared = [...]struct {
	name string
	kind Kind
}{
	{"", Direct},
	{"amq.direct", Direct},
	{"amq.fanout", Fanout},
	{"amq.headers", Headers},
	{"amq.match", Headers},
	{"amq.topic", Topic},
}

func isPredeclared(name string) bool {
	for _, p := range predeclared {
		if p.name == name {
			return true
		}
	}
	return false
}

// Router holds the exchanges, bindings and queue names of one virtual host
// and applies RabbitMQ's rules to changes of them.
//
// A Router is not safe for concurrent use: one goroutine (the core's
// metadata loop) owns it and serializes every call. Routing does not go
// through the Router: Table returns an immutable snapshot that any number
// of goroutines may use at once (publish it through an atomic.Pointer).
//
// Every mutation returns the Changes it made, in order, including
// cascades (bindings removed with a queue, auto-deleted exchanges); a
// change that fails makes no change at all.
type Router struct {
	hs        hasher
	exchanges map[string]*exchangeState
	queues    map[string]bool // name → durable
	byDest    map[Destination]map[bindingRef]struct{}
	table     *Table
}

type exchangeState struct {
	rec      ExchangeRecord
	bindings map[string]*BindingRecord // as source, by binding id
}

type bindingRef struct{ source, id string }

// New returns a Router holding only the predeclared exchanges: "" (the
// default exchange), amq.direct, amq.fanout, amq.topic, amq.headers and
// amq.match.
func New() *Router {
	hs := hasher{seed: maphash.MakeSeed()}
	r := &Router{
		hs:        hs,
		exchanges: make(map[string]*exchangeState),
		queues:    make(map[string]bool),
		byDest:    make(map[Destination]map[bindingRef]struct{}),
		table:     &Table{hs: hs, scratch: newScratchPool()},
	}
	for _, p := range predeclared {
		r.addExchange(ExchangeRecord{Name: p.name, Type: p.kind, Durable: true})
	}
	return r
}

// Table returns the current routing snapshot. It is O(1): mutations keep
// the snapshot up to date as they go. The Table returned never changes.
func (r *Router) Table() *Table { return r.table }

// Route is r.Table().Route, for callers that own the Router.
func (r *Router) Route(exchange, routingKey string, headers map[string]any) ([]string, error) {
	return r.table.Route(exchange, routingKey, headers)
}

// Exchange returns the exchange named (passive declare), including the
// predeclared ones.
func (r *Router) Exchange(name string) (ExchangeRecord, bool) {
	x, ok := r.exchanges[name]
	if !ok {
		return ExchangeRecord{}, false
	}
	rec := x.rec
	rec.Args = cloneArgs(rec.Args)
	return rec, true
}

// HasQueue reports whether the queue is known to the Router.
func (r *Router) HasQueue(name string) bool {
	_, ok := r.queues[name]
	return ok
}

// DeclareExchange is exchange.declare (not passive). Redeclaring an
// existing exchange with the same type, durable, auto-delete, internal and
// alternate-exchange succeeds with no change (other arguments are not
// compared, as in RabbitMQ); any difference is ErrPreconditionFailed.
// An unknown kind is ErrCommandInvalid; the default exchange "" and new
// names starting with "amq." are ErrAccessRefused (redeclaring an existing
// amq.* exchange equivalently is allowed).
func (r *Router) DeclareExchange(name string, kind Kind, durable, autoDelete, internal bool, args map[string]any) ([]Change, error) {
	if !kind.valid() {
		return nil, fmt.Errorf("%w: unknown exchange type %q", ErrCommandInvalid, kind)
	}
	if name == "" {
		return nil, fmt.Errorf("%w: operation not permitted on the default exchange", ErrAccessRefused)
	}
	if err := validateArgs(args); err != nil {
		return nil, fmt.Errorf("exchange %q: %w", name, err)
	}
	want := ExchangeRecord{Name: name, Type: kind, Durable: durable, AutoDelete: autoDelete,
		Internal: internal, Args: cloneArgs(args)}
	if x, ok := r.exchanges[name]; ok {
		return nil, equivalent(&x.rec, &want)
	}
	if strings.HasPrefix(name, "amq.") {
		return nil, fmt.Errorf("%w: exchange name %q contains reserved prefix 'amq.*'", ErrAccessRefused, name)
	}
	r.addExchange(want)
	return []Change{{V: ChangeVersion, Op: OpDeclareExchange, Exchange: recordPtr(want)}}, nil
}

// equivalent is RabbitMQ's exchange assert_equivalence.
func equivalent(have, want *ExchangeRecord) error {
	fail := func(arg string, received, current any) error {
		return fmt.Errorf("%w: inequivalent arg '%s' for exchange %q: received '%v' but current is '%v'",
			ErrPreconditionFailed, arg, have.Name, received, current)
	}
	switch {
	case have.Type != want.Type:
		return fail("type", want.Type, have.Type)
	case have.Durable != want.Durable:
		return fail("durable", want.Durable, have.Durable)
	case have.AutoDelete != want.AutoDelete:
		return fail("auto_delete", want.AutoDelete, have.AutoDelete)
	case have.Internal != want.Internal:
		return fail("internal", want.Internal, have.Internal)
	}
	hv, hok := have.Args["alternate-exchange"]
	wv, wok := want.Args["alternate-exchange"]
	if hok != wok || !valuesEqual(hv, wv) {
		return fail("alternate-exchange", wv, hv)
	}
	return nil
}

func (r *Router) addExchange(rec ExchangeRecord) {
	r.exchanges[rec.Name] = &exchangeState{rec: rec, bindings: make(map[string]*BindingRecord)}
	r.table = r.table.putExchange(newXroute(&rec))
}

// DeleteExchange is exchange.delete. Deleting a missing exchange succeeds
// with no change (as RabbitMQ 3.x does). "" and "amq.*" are
// ErrAccessRefused; ifUnused with bindings from the exchange is ErrInUse
// (also ErrPreconditionFailed). Bindings from and to the exchange go with
// it, and sources that lose their last binding this way are auto-deleted.
func (r *Router) DeleteExchange(name string, ifUnused bool) ([]Change, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: operation not permitted on the default exchange", ErrAccessRefused)
	}
	if strings.HasPrefix(name, "amq.") {
		return nil, fmt.Errorf("%w: deletion of system exchange %q not allowed", ErrAccessRefused, name)
	}
	x, ok := r.exchanges[name]
	if !ok {
		return nil, nil
	}
	if ifUnused && len(x.bindings) > 0 {
		return nil, fmt.Errorf("%w: %w: exchange %q", ErrInUse, ErrPreconditionFailed, name)
	}
	var out []Change
	r.deleteExchange(name, &out)
	return out, nil
}

// deleteExchange removes the exchange and its bindings, then auto-deletes
// the sources of bindings to it that are left with none.
func (r *Router) deleteExchange(name string, out *[]Change) {
	x, ok := r.exchanges[name]
	if !ok {
		return
	}
	for _, id := range sortedKeys(x.bindings) {
		r.removeBinding(name, id, out)
	}
	sources := r.removeBindingsTo(ExchangeDest(name), out)
	delete(r.exchanges, name)
	r.table = r.table.dropExchange(name)
	*out = append(*out, Change{V: ChangeVersion, Op: OpDeleteExchange, Exchange: recordPtr(x.rec)})
	for _, s := range sources {
		r.maybeAutoDelete(s, out)
	}
}

// maybeAutoDelete deletes an auto-delete exchange that is the source of no
// binding (RabbitMQ: when its last binding is removed).
func (r *Router) maybeAutoDelete(name string, out *[]Change) {
	if x, ok := r.exchanges[name]; ok && x.rec.AutoDelete && len(x.bindings) == 0 {
		r.deleteExchange(name, out)
	}
}

// AddQueue tells the Router that a queue exists: the default exchange
// routes to it by name and it may be bound. Adding a known queue again is
// a no-op. durable decides whether its bindings are durable.
func (r *Router) AddQueue(name string, durable bool) ([]Change, error) {
	if d, ok := r.queues[name]; ok {
		if d != durable {
			return nil, fmt.Errorf("%w: queue %q already known with durable=%v", ErrPreconditionFailed, name, d)
		}
		return nil, nil
	}
	r.queues[name] = durable
	r.table = r.table.putQueue(name)
	return []Change{{V: ChangeVersion, Op: OpAddQueue, Queue: &QueueRecord{Name: name, Durable: durable}}}, nil
}

// RemoveQueue forgets a queue (deleted, or a transient queue gone at
// restart): its bindings are removed and auto-delete exchanges left
// without bindings are deleted. A missing queue is a no-op.
func (r *Router) RemoveQueue(name string) ([]Change, error) {
	durable, ok := r.queues[name]
	if !ok {
		return nil, nil
	}
	var out []Change
	sources := r.removeBindingsTo(QueueDest(name), &out)
	delete(r.queues, name)
	r.table = r.table.dropQueue(name)
	out = append(out, Change{V: ChangeVersion, Op: OpRemoveQueue, Queue: &QueueRecord{Name: name, Durable: durable}})
	for _, s := range sources {
		r.maybeAutoDelete(s, &out)
	}
	return out, nil
}

func recordPtr(rec ExchangeRecord) *ExchangeRecord {
	rec.Args = cloneArgs(rec.Args)
	return &rec
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Exchanges lists every exchange, the predeclared ones included, by name.
func (r *Router) Exchanges() []ExchangeRecord {
	out := make([]ExchangeRecord, 0, len(r.exchanges))
	for name := range r.exchanges {
		rec, _ := r.Exchange(name)
		out = append(out, rec)
	}
	slices.SortFunc(out, func(a, b ExchangeRecord) int { return strings.Compare(a.Name, b.Name) })
	return out
}
