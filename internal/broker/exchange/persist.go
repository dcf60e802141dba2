package exchange

import (
	"errors"
	"fmt"
	"strings"
)

// Persistence. The core keeps topology in its metadata log (a log of
// changes with snapshots, DESIGN.md §1). This file gives it two stable,
// versioned, JSON-friendly forms:
//
//   - Change: one effect of a mutation. Every Router mutation returns its
//     changes, in order, cascades included; the core appends the durable
//     ones (Change.Durable) to its log. Apply replays them.
//   - Snapshot: the whole topology at one point, for log compaction.
//     Restore rebuilds a Router from it; Snapshot.Durable keeps what
//     survives a restart.
//
// Evolution: SnapshotVersion and ChangeVersion are bumped on any change of
// meaning; readers accept their own version and refuse newer ones
// (ErrInvalidSnapshot). Fields are only ever added with omitempty.

// Versions of the persisted forms.
const (
	SnapshotVersion = 1
	ChangeVersion   = 1
)

// ErrInvalidSnapshot: a Snapshot or Change of an unknown version, or one
// that contradicts itself (a binding to a missing queue, an unknown
// exchange type).
var ErrInvalidSnapshot = errors.New("exchange: invalid snapshot")

// ExchangeRecord is an exchange as persisted.
type ExchangeRecord struct {
	Name       string `json:"name"`
	Type       Kind   `json:"type"`
	Durable    bool   `json:"durable"`
	AutoDelete bool   `json:"auto_delete,omitempty"`
	Internal   bool   `json:"internal,omitempty"`
	Args       Args   `json:"args,omitempty"`
}

// QueueRecord is a queue as the Router knows it: a name and whether it is
// durable (which decides whether bindings to it are).
type QueueRecord struct {
	Name    string `json:"name"`
	Durable bool   `json:"durable"`
}

// BindingRecord is a binding as persisted. Durable is computed by the
// Router: true when source and destination are both durable.
type BindingRecord struct {
	Source      string      `json:"source"`
	Destination Destination `json:"destination"`
	RoutingKey  string      `json:"routing_key"`
	Args        Args        `json:"args,omitempty"`
	Durable     bool        `json:"durable"`
}

// Snapshot is the topology of one virtual host. The predeclared exchanges
// are not in it (every Router has them); bindings from them are.
// Everything is sorted, so equal topologies give equal snapshots.
type Snapshot struct {
	Version   int              `json:"version"`
	Exchanges []ExchangeRecord `json:"exchanges"`
	Queues    []QueueRecord    `json:"queues"`
	Bindings  []BindingRecord  `json:"bindings"`
}

// Op is the kind of a Change.
type Op string

// Change operations. Exchange is set for the exchange ops, Queue for the
// queue ops, Binding for bind and unbind.
const (
	OpDeclareExchange Op = "declare-exchange"
	OpDeleteExchange  Op = "delete-exchange"
	OpAddQueue        Op = "add-queue"
	OpRemoveQueue     Op = "remove-queue"
	OpBind            Op = "bind"
	OpUnbind          Op = "unbind"
)

// Change is one effect of a mutation. A cascade is spelled out: deleting
// an exchange yields an unbind for each of its bindings before the
// delete-exchange, and an auto-deleted exchange its own changes.
type Change struct {
	V        int             `json:"v"`
	Op       Op              `json:"op"`
	Exchange *ExchangeRecord `json:"exchange,omitempty"`
	Queue    *QueueRecord    `json:"queue,omitempty"`
	Binding  *BindingRecord  `json:"binding,omitempty"`
}

// Durable reports whether the change concerns durable topology, and so
// belongs in the metadata log.
func (c Change) Durable() bool {
	switch {
	case c.Exchange != nil:
		return c.Exchange.Durable
	case c.Queue != nil:
		return c.Queue.Durable
	case c.Binding != nil:
		return c.Binding.Durable
	}
	return false
}

// Snapshot returns the current topology. The records are copies.
func (r *Router) Snapshot() Snapshot {
	s := Snapshot{Version: SnapshotVersion, Exchanges: []ExchangeRecord{}, Queues: []QueueRecord{}, Bindings: []BindingRecord{}}
	for _, name := range sortedKeys(r.exchanges) {
		x := r.exchanges[name]
		if !isPredeclared(name) {
			s.Exchanges = append(s.Exchanges, *recordPtr(x.rec))
		}
		for _, id := range sortedKeys(x.bindings) {
			b := *x.bindings[id]
			b.Args = cloneArgs(b.Args)
			s.Bindings = append(s.Bindings, b)
		}
	}
	for _, name := range sortedKeys(r.queues) {
		s.Queues = append(s.Queues, QueueRecord{Name: name, Durable: r.queues[name]})
	}
	return s
}

// Durable returns the part of s that survives a restart: durable
// exchanges, queues and bindings.
func (s Snapshot) Durable() Snapshot {
	d := Snapshot{Version: s.Version, Exchanges: []ExchangeRecord{}, Queues: []QueueRecord{}, Bindings: []BindingRecord{}}
	for _, x := range s.Exchanges {
		if x.Durable {
			d.Exchanges = append(d.Exchanges, x)
		}
	}
	for _, q := range s.Queues {
		if q.Durable {
			d.Queues = append(d.Queues, q)
		}
	}
	for _, b := range s.Bindings {
		if b.Durable {
			d.Bindings = append(d.Bindings, b)
		}
	}
	return d
}

// Restore builds a Router from a snapshot: its exchanges, queues and
// bindings plus the predeclared exchanges. It checks what Declare and
// Bind would, except the reserved amq. prefix, and fails with
// ErrInvalidSnapshot (wrapping the cause) on anything inconsistent.
func Restore(s Snapshot) (*Router, error) {
	if s.Version != SnapshotVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrInvalidSnapshot, s.Version, SnapshotVersion)
	}
	r := New()
	for _, q := range s.Queues {
		if err := r.Apply(Change{V: ChangeVersion, Op: OpAddQueue, Queue: &q}); err != nil {
			return nil, err
		}
	}
	for _, x := range s.Exchanges {
		if err := r.Apply(Change{V: ChangeVersion, Op: OpDeclareExchange, Exchange: &x}); err != nil {
			return nil, err
		}
	}
	for _, b := range s.Bindings {
		if err := r.Apply(Change{V: ChangeVersion, Op: OpBind, Binding: &b}); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Apply replays one change from the metadata log. Changes are effects,
// not commands: Apply does exactly what the change says and cascades
// nothing (the cascade was logged as changes of its own). It is
// idempotent: declaring what exists, adding a known queue, binding what is
// bound, and removing what is absent are no-ops. Errors wrap
// ErrInvalidSnapshot.
func (r *Router) Apply(c Change) error {
	if c.V != ChangeVersion {
		return fmt.Errorf("%w: change version %d, want %d", ErrInvalidSnapshot, c.V, ChangeVersion)
	}
	switch {
	case (c.Op == OpDeclareExchange || c.Op == OpDeleteExchange) && c.Exchange != nil:
		return r.applyExchange(c.Op, c.Exchange)
	case c.Op == OpAddQueue && c.Queue != nil:
		if _, ok := r.queues[c.Queue.Name]; !ok {
			r.queues[c.Queue.Name] = c.Queue.Durable
			r.table = r.table.putQueue(c.Queue.Name)
		}
		return nil
	case c.Op == OpRemoveQueue && c.Queue != nil:
		var discard []Change
		r.removeBindingsTo(QueueDest(c.Queue.Name), &discard)
		if _, ok := r.queues[c.Queue.Name]; ok {
			delete(r.queues, c.Queue.Name)
			r.table = r.table.dropQueue(c.Queue.Name)
		}
		return nil
	case (c.Op == OpBind || c.Op == OpUnbind) && c.Binding != nil:
		return r.applyBinding(c.Op, c.Binding)
	}
	return fmt.Errorf("%w: malformed change %q", ErrInvalidSnapshot, c.Op)
}

func (r *Router) applyExchange(op Op, rec *ExchangeRecord) error {
	if isPredeclared(rec.Name) {
		return nil
	}
	if op == OpDeleteExchange {
		if _, ok := r.exchanges[rec.Name]; ok {
			var discard []Change
			r.deleteExchange(rec.Name, &discard)
		}
		return nil
	}
	if !rec.Type.valid() {
		return fmt.Errorf("%w: exchange %q: %w: unknown type %q", ErrInvalidSnapshot, rec.Name, ErrCommandInvalid, rec.Type)
	}
	if err := validateArgs(rec.Args); err != nil {
		return fmt.Errorf("%w: exchange %q: %w", ErrInvalidSnapshot, rec.Name, err)
	}
	if _, ok := r.exchanges[rec.Name]; !ok {
		r.addExchange(*recordPtr(*rec))
	}
	return nil
}

func (r *Router) applyBinding(op Op, rec *BindingRecord) error {
	b := *rec
	b.Args = cloneArgs(b.Args)
	id := bindingID(b.Destination, b.RoutingKey, b.Args)
	if op == OpUnbind {
		var discard []Change
		r.removeBinding(b.Source, id, &discard)
		return nil
	}
	x, err := r.checkBinding(b.Destination, b.Source)
	if err == nil {
		err = validateArgs(b.Args)
	}
	if err == nil && x.rec.Type == Headers {
		_, err = parseXMatch(b.Args)
	}
	if err != nil {
		return fmt.Errorf("%w: binding %s -> %s %q: %w", ErrInvalidSnapshot, b.Source, b.Destination.Kind,
			b.Destination.Name, err)
	}
	if _, ok := x.bindings[id]; !ok {
		b.Durable = x.rec.Durable && r.destDurable(b.Destination)
		r.addBinding(x, &b, id)
	}
	return nil
}

// String is a short human form for logs and test failures.
func (c Change) String() string {
	var sb strings.Builder
	sb.WriteString(string(c.Op))
	switch {
	case c.Exchange != nil:
		fmt.Fprintf(&sb, " %s", c.Exchange.Name)
	case c.Queue != nil:
		fmt.Fprintf(&sb, " %s", c.Queue.Name)
	case c.Binding != nil:
		fmt.Fprintf(&sb, " %s -> %s:%s key=%q", c.Binding.Source, c.Binding.Destination.Kind,
			c.Binding.Destination.Name, c.Binding.RoutingKey)
		if len(c.Binding.Args) > 0 {
			fmt.Fprintf(&sb, " args=%s", canonical(c.Binding.Args))
		}
	}
	return sb.String()
}
