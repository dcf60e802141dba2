package exchange

import (
	"errors"
	"slices"
	"testing"
)

func changeStrings(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

func TestDeclareExchange(t *testing.T) {
	type decl struct {
		name                          string
		kind                          Kind
		durable, autoDelete, internal bool
		args                          map[string]any
	}
	base := decl{name: "x", kind: Direct, durable: true, args: map[string]any{"alternate-exchange": "ae", "other": 1}}
	tests := []struct {
		name    string
		d       decl
		err     error
		changes int
	}{
		{"equivalent redeclare", base, nil, 0},
		{"other args are not compared", decl{"x", Direct, true, false, false, map[string]any{"alternate-exchange": "ae", "other": 2}}, nil, 0},
		{"type differs", decl{"x", Fanout, true, false, false, base.args}, ErrPreconditionFailed, 0},
		{"durable differs", decl{"x", Direct, false, false, false, base.args}, ErrPreconditionFailed, 0},
		{"auto-delete differs", decl{"x", Direct, true, true, false, base.args}, ErrPreconditionFailed, 0},
		{"internal differs", decl{"x", Direct, true, false, true, base.args}, ErrPreconditionFailed, 0},
		{"AE differs", decl{"x", Direct, true, false, false, map[string]any{"alternate-exchange": "other"}}, ErrPreconditionFailed, 0},
		{"AE missing", decl{"x", Direct, true, false, false, nil}, ErrPreconditionFailed, 0},
		{"unknown type", decl{"x", "x-consistent-hash", true, false, false, nil}, ErrCommandInvalid, 0},
		{"unknown type beats equivalence", decl{"amq.direct", "bogus", true, false, false, nil}, ErrCommandInvalid, 0},
		{"default exchange", decl{"", Direct, true, false, false, nil}, ErrAccessRefused, 0},
		{"new amq. name", decl{"amq.foo", Direct, true, false, false, nil}, ErrAccessRefused, 0},
		{"redeclare amq.direct equivalently", decl{"amq.direct", Direct, true, false, false, nil}, nil, 0},
		{"redeclare amq.match equivalently", decl{"amq.match", Headers, true, false, false, nil}, nil, 0},
		{"redeclare amq.topic differently", decl{"amq.topic", Topic, false, false, false, nil}, ErrPreconditionFailed, 0},
		{"unsupported arg type", decl{"y", Direct, true, false, false, map[string]any{"a": []int{1}}}, ErrPreconditionFailed, 0},
		{"new exchange", decl{"y", Topic, false, true, true, nil}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New()
			must(t)(r.DeclareExchange(base.name, base.kind, base.durable, base.autoDelete, base.internal, base.args))
			cs, err := r.DeclareExchange(tt.d.name, tt.d.kind, tt.d.durable, tt.d.autoDelete, tt.d.internal, tt.d.args)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if len(cs) != tt.changes {
				t.Errorf("changes = %v, want %d", cs, tt.changes)
			}
		})
	}
}

func TestPredeclared(t *testing.T) {
	r := New()
	for name, kind := range map[string]Kind{"": Direct, "amq.direct": Direct, "amq.fanout": Fanout,
		"amq.topic": Topic, "amq.headers": Headers, "amq.match": Headers} {
		x, ok := r.Exchange(name)
		if !ok || x.Type != kind || !x.Durable || x.AutoDelete || x.Internal {
			t.Errorf("%q: %+v, %v", name, x, ok)
		}
	}
	if _, ok := r.Exchange("amq.rabbitmq.trace"); ok {
		t.Error("unexpected exchange")
	}
}

// TestArgsCopied: the Router keeps its own copy of arguments.
func TestArgsCopied(t *testing.T) {
	r := New()
	args := map[string]any{"alternate-exchange": "ae", "n": map[string]any{"k": []byte("v")}}
	must(t)(r.DeclareExchange("x", Direct, true, false, false, args))
	args["alternate-exchange"] = "changed"
	args["n"].(map[string]any)["k"].([]byte)[0] = 'X'
	x, _ := r.Exchange("x")
	if x.Args["alternate-exchange"] != "ae" || string(x.Args["n"].(map[string]any)["k"].([]byte)) != "v" {
		t.Errorf("args aliased: %v", x.Args)
	}
}

func TestDeleteExchange(t *testing.T) {
	tests := []struct {
		name     string
		exchange string
		ifUnused bool
		err      error
		changes  []string
	}{
		{"default", "", false, ErrAccessRefused, nil},
		{"amq.direct", "amq.direct", false, ErrAccessRefused, nil},
		{"amq. missing", "amq.nope", false, ErrAccessRefused, nil},
		{"missing is fine", "nope", false, nil, nil},
		{"if-unused with bindings", "src", true, ErrInUse, nil},
		{"if-unused counts only bindings from it", "dst", true, nil, []string{
			`unbind src -> exchange:dst key="k"`, "delete-exchange dst"}},
		{"removes bindings from and to it", "src", false, nil, []string{
			`unbind src -> exchange:dst key="k"`, `unbind src -> queue:q key="k"`,
			`unbind amq.fanout -> exchange:src key=""`, "delete-exchange src"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New()
			must(t)(r.AddQueue("q", true))
			must(t)(r.DeclareExchange("src", Direct, true, false, false, nil))
			must(t)(r.DeclareExchange("dst", Direct, true, false, false, nil))
			must(t)(r.Bind(QueueDest("q"), "src", "k", nil))
			must(t)(r.Bind(ExchangeDest("dst"), "src", "k", nil))
			must(t)(r.Bind(ExchangeDest("src"), "amq.fanout", "", nil))
			cs, err := r.DeleteExchange(tt.exchange, tt.ifUnused)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if errors.Is(err, ErrInUse) && !errors.Is(err, ErrPreconditionFailed) {
				t.Errorf("ErrInUse should also be ErrPreconditionFailed: %v", err)
			}
			if got := changeStrings(cs); !slices.Equal(got, tt.changes) {
				t.Errorf("changes =\n%q\nwant\n%q", got, tt.changes)
			}
			// Nothing routes through a deleted exchange any more.
			if tt.err == nil && tt.exchange == "src" {
				if got, _ := r.Route("amq.fanout", "k", nil); len(got) != 0 {
					t.Errorf("still routes to %v", got)
				}
			}
		})
	}
}

func TestBindErrors(t *testing.T) {
	tests := []struct {
		name   string
		dest   Destination
		source string
		err    error
	}{
		{"from default", QueueDest("q"), "", ErrAccessRefused},
		{"to default", ExchangeDest(""), "amq.direct", ErrAccessRefused},
		{"to default, missing source", ExchangeDest(""), "nope", ErrAccessRefused},
		{"missing source", QueueDest("q"), "nope", ErrNotFound},
		{"missing queue", QueueDest("nope"), "amq.direct", ErrNotFound},
		{"missing dest exchange", ExchangeDest("nope"), "amq.direct", ErrNotFound},
		{"bad dest kind", Destination{Kind: "topic", Name: "q"}, "amq.direct", ErrCommandInvalid},
		{"ok to internal", ExchangeDest("i"), "amq.direct", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New()
			must(t)(r.AddQueue("q", false))
			must(t)(r.DeclareExchange("i", Fanout, false, false, true, nil))
			_, err := r.Bind(tt.dest, tt.source, "k", nil)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("Bind err = %v, want %v", err, tt.err)
			}
			_, err = r.Unbind(tt.dest, tt.source, "k", nil)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("Unbind err = %v, want %v", err, tt.err)
			}
		})
	}
}

func TestBindDurability(t *testing.T) {
	r := New()
	must(t)(r.AddQueue("dq", true))
	must(t)(r.AddQueue("tq", false))
	must(t)(r.DeclareExchange("tx", Fanout, false, false, false, nil))
	for _, tt := range []struct {
		dest   Destination
		source string
		want   bool
	}{
		{QueueDest("dq"), "amq.fanout", true},
		{QueueDest("tq"), "amq.fanout", false},
		{QueueDest("dq"), "tx", false},
		{ExchangeDest("tx"), "amq.fanout", false},
		{ExchangeDest("amq.direct"), "amq.fanout", true},
	} {
		cs := must(t)(r.Bind(tt.dest, tt.source, "", nil))
		if len(cs) != 1 || cs[0].Durable() != tt.want || cs[0].Binding.Durable != tt.want {
			t.Errorf("%s -> %v: changes %v, want durable %v", tt.source, tt.dest, cs, tt.want)
		}
	}
	if _, err := r.AddQueue("dq", false); !errors.Is(err, ErrPreconditionFailed) {
		t.Errorf("AddQueue with other durability: %v", err)
	}
	if cs := must(t)(r.AddQueue("dq", true)); cs != nil {
		t.Errorf("AddQueue again: %v", cs)
	}
}

func TestUnbindMissingIsNoop(t *testing.T) {
	r := New()
	must(t)(r.AddQueue("q", false))
	must(t)(r.DeclareExchange("ad", Direct, false, true, false, nil))
	must(t)(r.Bind(QueueDest("q"), "ad", "k", nil))
	if cs := must(t)(r.Unbind(QueueDest("q"), "ad", "other", nil)); cs != nil {
		t.Errorf("changes %v", cs)
	}
	if _, ok := r.Exchange("ad"); !ok {
		t.Error("auto-delete exchange deleted by a no-op unbind")
	}
}

func TestAutoDelete(t *testing.T) {
	tests := []struct {
		name    string
		act     func(t *testing.T, r *Router) ([]Change, error)
		changes []string
		gone    []string // exchanges that must be gone
		kept    []string
	}{
		{
			name: "last unbind deletes",
			act: func(t *testing.T, r *Router) ([]Change, error) {
				must(t)(r.Unbind(QueueDest("q1"), "ad", "k", nil))
				return r.Unbind(QueueDest("q2"), "ad", "k", nil)
			},
			changes: []string{`unbind ad -> queue:q2 key="k"`, `unbind ad2 -> exchange:ad key=""`, `unbind plain -> exchange:ad key=""`, "delete-exchange ad",
				"delete-exchange ad2"},
			gone: []string{"ad", "ad2"}, kept: []string{"plain"},
		},
		{
			name: "not while bindings remain",
			act: func(t *testing.T, r *Router) ([]Change, error) {
				return r.Unbind(QueueDest("q1"), "ad", "k", nil)
			},
			changes: []string{`unbind ad -> queue:q1 key="k"`},
			kept:    []string{"ad", "ad2", "plain"},
		},
		{
			name: "queue removal cascades",
			act: func(t *testing.T, r *Router) ([]Change, error) {
				must(t)(r.RemoveQueue("q1"))
				return r.RemoveQueue("q2")
			},
			changes: []string{`unbind ad -> queue:q2 key="k"`, `unbind plain -> queue:q2 key="k"`, "remove-queue q2",
				`unbind ad2 -> exchange:ad key=""`, `unbind plain -> exchange:ad key=""`, "delete-exchange ad", "delete-exchange ad2"},
			gone: []string{"ad", "ad2"}, kept: []string{"plain"},
		},
		{
			name: "delete of a destination exchange auto-deletes its source",
			act: func(t *testing.T, r *Router) ([]Change, error) {
				return r.DeleteExchange("ad", false)
			},
			changes: []string{`unbind ad -> queue:q1 key="k"`, `unbind ad -> queue:q2 key="k"`,
				`unbind ad2 -> exchange:ad key=""`, `unbind plain -> exchange:ad key=""`, "delete-exchange ad", "delete-exchange ad2"},
			gone: []string{"ad", "ad2"}, kept: []string{"plain"},
		},
		{
			name: "auto-delete without bindings is kept until one goes",
			act: func(t *testing.T, r *Router) ([]Change, error) {
				return r.DeclareExchange("fresh", Fanout, false, true, false, nil)
			},
			changes: []string{"declare-exchange fresh"},
			kept:    []string{"ad", "ad2", "fresh"},
		},
		{
			name: "losing bindings as destination does not auto-delete",
			act: func(t *testing.T, r *Router) ([]Change, error) {
				return r.Unbind(ExchangeDest("ad"), "plain", "", nil)
			},
			changes: []string{`unbind plain -> exchange:ad key=""`},
			kept:    []string{"ad"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New()
			must(t)(r.AddQueue("q1", false))
			must(t)(r.AddQueue("q2", false))
			must(t)(r.DeclareExchange("ad", Direct, false, true, false, nil))
			must(t)(r.DeclareExchange("ad2", Fanout, false, true, false, nil))
			must(t)(r.DeclareExchange("plain", Direct, false, false, false, nil))
			must(t)(r.Bind(QueueDest("q1"), "ad", "k", nil))
			must(t)(r.Bind(QueueDest("q2"), "ad", "k", nil))
			must(t)(r.Bind(ExchangeDest("ad"), "ad2", "", nil))
			must(t)(r.Bind(ExchangeDest("ad"), "plain", "", nil))
			must(t)(r.Bind(QueueDest("q2"), "plain", "k", nil))
			cs, err := tt.act(t, r)
			if err != nil {
				t.Fatal(err)
			}
			if got := changeStrings(cs); !slices.Equal(got, tt.changes) {
				t.Errorf("changes =\n%q\nwant\n%q", got, tt.changes)
			}
			for _, x := range tt.gone {
				if _, ok := r.Exchange(x); ok {
					t.Errorf("%s not deleted", x)
				}
				if _, err := r.Route(x, "k", nil); !errors.Is(err, ErrNotFound) {
					t.Errorf("%s still routable: %v", x, err)
				}
			}
			for _, x := range tt.kept {
				if _, ok := r.Exchange(x); !ok {
					t.Errorf("%s deleted", x)
				}
			}
			checkConsistent(t, r)
		})
	}
}

// checkConsistent checks the Router's indexes against each other and the
// Table: every binding is in byDest and vice versa, and a Router rebuilt
// from the snapshot routes the same.
func checkConsistent(t *testing.T, r *Router) {
	t.Helper()
	n := 0
	for src, x := range r.exchanges {
		for id, b := range x.bindings {
			n++
			if _, ok := r.byDest[b.Destination][bindingRef{src, id}]; !ok {
				t.Errorf("binding %s/%s missing from byDest", src, id)
			}
			if !r.destExists(b.Destination) {
				t.Errorf("binding %s/%s to a missing destination", src, id)
			}
		}
	}
	m := 0
	for _, refs := range r.byDest {
		m += len(refs)
	}
	if n != m {
		t.Errorf("%d bindings, %d in byDest", n, m)
	}
	if got, want := r.table.exchanges.Len(), len(r.exchanges); got != want {
		t.Errorf("table has %d exchanges, router %d", got, want)
	}
	if got, want := r.table.queues.Len(), len(r.queues); got != want {
		t.Errorf("table has %d queues, router %d", got, want)
	}
}
