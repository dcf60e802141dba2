package exchange

import (
	"fmt"
	"slices"
)

// Bind is queue.bind (dest a queue) or exchange.bind (dest an exchange).
// A binding is identified by source, destination, routing key and
// arguments; binding again is a no-op. Errors: ErrAccessRefused when the
// source or destination is the default exchange; ErrNotFound when either
// does not exist; ErrPreconditionFailed for an invalid x-match on a
// headers exchange or an unsupported argument type; ErrCommandInvalid for
// a destination of unknown kind.
//
// The binding is durable when both ends are durable (RabbitMQ's rule).
func (r *Router) Bind(dest Destination, source, routingKey string, args map[string]any) ([]Change, error) {
	x, err := r.checkBinding(dest, source)
	if err != nil {
		return nil, err
	}
	if err := validateArgs(args); err != nil {
		return nil, fmt.Errorf("binding from %q: %w", source, err)
	}
	if x.rec.Type == Headers {
		if _, err := parseXMatch(args); err != nil {
			return nil, fmt.Errorf("binding from %q: %w", source, err)
		}
	}
	b := BindingRecord{Source: source, Destination: dest, RoutingKey: routingKey,
		Args: cloneArgs(args), Durable: x.rec.Durable && r.destDurable(dest)}
	id := bindingID(dest, routingKey, b.Args)
	if _, ok := x.bindings[id]; ok {
		return nil, nil
	}
	r.addBinding(x, &b, id)
	c := b
	return []Change{{V: ChangeVersion, Op: OpBind, Binding: &c}}, nil
}

// Unbind is queue.unbind or exchange.unbind. Removing a binding that does
// not exist succeeds with no change; the source and destination must
// exist (ErrNotFound) and neither may be the default exchange
// (ErrAccessRefused). If the source is auto-delete and this was its last
// binding, it is deleted too, with whatever that cascades to.
func (r *Router) Unbind(dest Destination, source, routingKey string, args map[string]any) ([]Change, error) {
	x, err := r.checkBinding(dest, source)
	if err != nil {
		return nil, err
	}
	id := bindingID(dest, routingKey, cloneArgs(args))
	if _, ok := x.bindings[id]; !ok {
		return nil, nil
	}
	var out []Change
	r.removeBinding(source, id, &out)
	r.maybeAutoDelete(source, &out)
	return out, nil
}

// checkBinding applies the checks common to bind and unbind, in
// RabbitMQ's order, and returns the source.
func (r *Router) checkBinding(dest Destination, source string) (*exchangeState, error) {
	if dest.Kind != DestQueue && dest.Kind != DestExchange {
		return nil, fmt.Errorf("%w: unknown destination kind %q", ErrCommandInvalid, dest.Kind)
	}
	if source == "" || (dest.Kind == DestExchange && dest.Name == "") {
		return nil, fmt.Errorf("%w: operation not permitted on the default exchange", ErrAccessRefused)
	}
	x, ok := r.exchanges[source]
	if !ok {
		return nil, fmt.Errorf("%w: no exchange %q", ErrNotFound, source)
	}
	if !r.destExists(dest) {
		return nil, fmt.Errorf("%w: no %s %q", ErrNotFound, dest.Kind, dest.Name)
	}
	return x, nil
}

func (r *Router) destExists(d Destination) bool {
	if d.Kind == DestQueue {
		_, ok := r.queues[d.Name]
		return ok
	}
	_, ok := r.exchanges[d.Name]
	return ok
}

func (r *Router) destDurable(d Destination) bool {
	if d.Kind == DestQueue {
		return r.queues[d.Name]
	}
	x, ok := r.exchanges[d.Name]
	return ok && x.rec.Durable
}

// addBinding records a new binding (b owned by the Router from now on).
func (r *Router) addBinding(x *exchangeState, b *BindingRecord, id string) {
	x.bindings[id] = b
	refs := r.byDest[b.Destination]
	if refs == nil {
		refs = make(map[bindingRef]struct{})
		r.byDest[b.Destination] = refs
	}
	refs[bindingRef{b.Source, id}] = struct{}{}
	r.table = r.table.withBinding(b, id, true)
}

// removeBinding removes an existing binding and records the change; it
// does not auto-delete the source (callers decide when).
func (r *Router) removeBinding(source, id string, out *[]Change) {
	x, ok := r.exchanges[source]
	if !ok {
		return
	}
	b, ok := x.bindings[id]
	if !ok {
		return
	}
	delete(x.bindings, id)
	if refs := r.byDest[b.Destination]; refs != nil {
		delete(refs, bindingRef{source, id})
		if len(refs) == 0 {
			delete(r.byDest, b.Destination)
		}
	}
	r.table = r.table.withBinding(b, id, false)
	c := *b
	c.Args = cloneArgs(c.Args)
	*out = append(*out, Change{V: ChangeVersion, Op: OpUnbind, Binding: &c})
}

// removeBindingsTo removes every binding to d, in a deterministic order,
// and returns their sources (sorted, once each).
func (r *Router) removeBindingsTo(d Destination, out *[]Change) []string {
	refs := r.byDest[d]
	if len(refs) == 0 {
		return nil
	}
	list := make([]bindingRef, 0, len(refs))
	for ref := range refs {
		list = append(list, ref)
	}
	slices.SortFunc(list, func(a, b bindingRef) int {
		if a.source != b.source {
			if a.source < b.source {
				return -1
			}
			return 1
		}
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	var sources []string
	for _, ref := range list {
		r.removeBinding(ref.source, ref.id, out)
		if len(sources) == 0 || sources[len(sources)-1] != ref.source {
			sources = append(sources, ref.source)
		}
	}
	return sources
}
