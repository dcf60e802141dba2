package exchange

import (
	"errors"
	"slices"
	"testing"
)

// topo is a compact topology for route tests.
type topo struct {
	exchanges []ExchangeRecord
	queues    []string
	bindings  []BindingRecord
}

func (tp topo) build(t *testing.T) *Router {
	t.Helper()
	r := New()
	for _, q := range tp.queues {
		must(t)(r.AddQueue(q, true))
	}
	for _, x := range tp.exchanges {
		must(t)(r.DeclareExchange(x.Name, x.Type, x.Durable, x.AutoDelete, x.Internal, x.Args))
	}
	for _, b := range tp.bindings {
		must(t)(r.Bind(b.Destination, b.Source, b.RoutingKey, b.Args))
	}
	return r
}

func xr(name string, kind Kind, args ...any) ExchangeRecord {
	rec := ExchangeRecord{Name: name, Type: kind, Durable: true}
	if len(args) > 0 {
		rec.Args = Args{}
		for i := 0; i+1 < len(args); i += 2 {
			rec.Args[args[i].(string)] = args[i+1]
		}
	}
	return rec
}

func internalX(name string, kind Kind) ExchangeRecord {
	rec := xr(name, kind)
	rec.Internal = true
	return rec
}

func bq(source, key, queue string) BindingRecord {
	return BindingRecord{Source: source, Destination: QueueDest(queue), RoutingKey: key}
}

func bx(source, key, dest string) BindingRecord {
	return BindingRecord{Source: source, Destination: ExchangeDest(dest), RoutingKey: key}
}

func TestRoute(t *testing.T) {
	tests := []struct {
		name     string
		topo     topo
		exchange string
		keys     []string
		headers  map[string]any
		want     []string
		err      error
	}{
		{name: "direct exact key", topo: topo{queues: []string{"q1", "q2"},
			bindings: []BindingRecord{bq("amq.direct", "k", "q1"), bq("amq.direct", "k2", "q2")}},
			exchange: "amq.direct", keys: []string{"k"}, want: []string{"q1"}},
		{name: "direct no match", topo: topo{queues: []string{"q1"}, bindings: []BindingRecord{bq("amq.direct", "k", "q1")}},
			exchange: "amq.direct", keys: []string{"K"}},
		{name: "direct same queue two keys, one result", topo: topo{queues: []string{"q1"},
			bindings: []BindingRecord{bq("amq.direct", "a", "q1"), bq("amq.direct", "b", "q1")}},
			exchange: "amq.direct", keys: []string{"a", "b"}, want: []string{"q1"}},
		{name: "direct several queues sorted", topo: topo{queues: []string{"c", "a", "b"},
			bindings: []BindingRecord{bq("amq.direct", "k", "c"), bq("amq.direct", "k", "a"), bq("amq.direct", "k", "b")}},
			exchange: "amq.direct", keys: []string{"k"}, want: []string{"a", "b", "c"}},
		{name: "fanout ignores key", topo: topo{queues: []string{"q1", "q2"},
			bindings: []BindingRecord{bq("amq.fanout", "x", "q1"), bq("amq.fanout", "", "q2")}},
			exchange: "amq.fanout", keys: []string{"whatever"}, want: []string{"q1", "q2"}},
		{name: "fanout empty", exchange: "amq.fanout", keys: []string{"k"}},
		{name: "default exchange routes by queue name", topo: topo{queues: []string{"q1", "q2"}},
			exchange: "", keys: []string{"q2"}, want: []string{"q2"}},
		{name: "default exchange unknown queue", topo: topo{queues: []string{"q1"}},
			exchange: "", keys: []string{"nope"}},
		{name: "default exchange CC", topo: topo{queues: []string{"q1", "q2"}},
			exchange: "", keys: []string{"q2", "q1", "q2"}, want: []string{"q1", "q2"}},
		{name: "missing exchange", exchange: "nope", keys: []string{"k"}, err: ErrNotFound},
		{name: "internal exchange refused", topo: topo{exchanges: []ExchangeRecord{internalX("i", Fanout)}},
			exchange: "i", keys: []string{"k"}, err: ErrAccessRefused},
		{name: "e2e through internal exchange", topo: topo{queues: []string{"q"},
			exchanges: []ExchangeRecord{xr("x", Direct), internalX("i", Fanout)},
			bindings:  []BindingRecord{bx("x", "k", "i"), bq("i", "", "q")}},
			exchange: "x", keys: []string{"k"}, want: []string{"q"}},
		{name: "e2e topic to headers", topo: topo{queues: []string{"q1", "q2"},
			exchanges: []ExchangeRecord{xr("t", Topic), xr("h", Headers)},
			bindings: []BindingRecord{bx("t", "a.#", "h"), bq("t", "#", "q1"),
				{Source: "h", Destination: QueueDest("q2"), Args: Args{"color": "red"}}}},
			exchange: "t", keys: []string{"a.b"}, headers: map[string]any{"color": "red"}, want: []string{"q1", "q2"}},
		{name: "e2e diamond: queue once", topo: topo{queues: []string{"q"},
			exchanges: []ExchangeRecord{xr("a", Fanout), xr("b", Fanout), xr("c", Fanout), xr("d", Fanout)},
			bindings: []BindingRecord{bx("a", "", "b"), bx("a", "", "c"), bx("b", "", "d"), bx("c", "", "d"),
				bq("d", "", "q"), bq("b", "", "q")}},
			exchange: "a", keys: []string{""}, want: []string{"q"}},
		{name: "e2e cycle", topo: topo{queues: []string{"q1", "q2"},
			exchanges: []ExchangeRecord{xr("a", Fanout), xr("b", Fanout)},
			bindings:  []BindingRecord{bx("a", "", "b"), bx("b", "", "a"), bq("a", "", "q1"), bq("b", "", "q2")}},
			exchange: "b", keys: []string{""}, want: []string{"q1", "q2"}},
		{name: "e2e self binding", topo: topo{queues: []string{"q"},
			exchanges: []ExchangeRecord{xr("a", Fanout)},
			bindings:  []BindingRecord{bx("a", "", "a"), bq("a", "", "q")}},
			exchange: "a", keys: []string{""}, want: []string{"q"}},
		{name: "e2e key filters at each hop", topo: topo{queues: []string{"q"},
			exchanges: []ExchangeRecord{xr("a", Direct), xr("b", Direct)},
			bindings:  []BindingRecord{bx("a", "k", "b"), bq("b", "other", "q")}},
			exchange: "a", keys: []string{"k"}},
		{name: "AE when unroutable", topo: topo{queues: []string{"q", "lost"},
			exchanges: []ExchangeRecord{xr("x", Direct, "alternate-exchange", "ae"), xr("ae", Fanout)},
			bindings:  []BindingRecord{bq("x", "k", "q"), bq("ae", "", "lost")}},
			exchange: "x", keys: []string{"other"}, want: []string{"lost"}},
		{name: "AE not used when routed", topo: topo{queues: []string{"q", "lost"},
			exchanges: []ExchangeRecord{xr("x", Direct, "alternate-exchange", "ae"), xr("ae", Fanout)},
			bindings:  []BindingRecord{bq("x", "k", "q"), bq("ae", "", "lost")}},
			exchange: "x", keys: []string{"k"}, want: []string{"q"}},
		{name: "AE not used when routed only to an exchange that routes nowhere", topo: topo{queues: []string{"lost"},
			exchanges: []ExchangeRecord{xr("x", Direct, "alternate-exchange", "ae"), xr("ae", Fanout), xr("y", Direct)},
			bindings:  []BindingRecord{bx("x", "k", "y"), bq("ae", "", "lost")}},
			exchange: "x", keys: []string{"k"}},
		{name: "AE of a downstream exchange", topo: topo{queues: []string{"lost"},
			exchanges: []ExchangeRecord{xr("x", Fanout), xr("y", Direct, "alternate-exchange", "ae"), xr("ae", Fanout)},
			bindings:  []BindingRecord{bx("x", "", "y"), bq("ae", "", "lost")}},
			exchange: "x", keys: []string{"k"}, want: []string{"lost"}},
		{name: "AE chain", topo: topo{queues: []string{"end"},
			exchanges: []ExchangeRecord{xr("x", Direct, "alternate-exchange", "ae1"),
				xr("ae1", Direct, "alternate-exchange", "ae2"), xr("ae2", Topic)},
			bindings: []BindingRecord{bq("ae2", "#", "end")}},
			exchange: "x", keys: []string{"k"}, want: []string{"end"}},
		{name: "AE cycle", topo: topo{queues: []string{"q"},
			exchanges: []ExchangeRecord{xr("a", Direct, "alternate-exchange", "b"), xr("b", Direct, "alternate-exchange", "a")},
			bindings:  []BindingRecord{bq("a", "x", "q"), bq("b", "y", "q")}},
			exchange: "a", keys: []string{"k"}},
		{name: "AE cycle, routed in the cycle", topo: topo{queues: []string{"q"},
			exchanges: []ExchangeRecord{xr("a", Direct, "alternate-exchange", "b"), xr("b", Direct, "alternate-exchange", "a")},
			bindings:  []BindingRecord{bq("b", "k", "q")}},
			exchange: "a", keys: []string{"k"}, want: []string{"q"}},
		{name: "AE self", topo: topo{exchanges: []ExchangeRecord{xr("a", Direct, "alternate-exchange", "a")}},
			exchange: "a", keys: []string{"k"}},
		{name: "AE missing", topo: topo{exchanges: []ExchangeRecord{xr("a", Direct, "alternate-exchange", "nope")}},
			exchange: "a", keys: []string{"k"}},
		{name: "AE internal is fine", topo: topo{queues: []string{"lost"},
			exchanges: []ExchangeRecord{xr("a", Direct, "alternate-exchange", "ae"), internalX("ae", Fanout)},
			bindings:  []BindingRecord{bq("ae", "", "lost")}},
			exchange: "a", keys: []string{"k"}, want: []string{"lost"}},
		{name: "AE as bytes", topo: topo{queues: []string{"lost"},
			exchanges: []ExchangeRecord{xr("a", Direct, "alternate-exchange", []byte("ae")), xr("ae", Fanout)},
			bindings:  []BindingRecord{bq("ae", "", "lost")}},
			exchange: "a", keys: []string{"k"}, want: []string{"lost"}},
		{name: "AE of non-string type ignored", topo: topo{
			exchanges: []ExchangeRecord{xr("a", Direct, "alternate-exchange", 7)}},
			exchange: "a", keys: []string{"k"}},
		{name: "AE is the default exchange: routes by queue name", topo: topo{queues: []string{"k"},
			exchanges: []ExchangeRecord{xr("a", Direct, "alternate-exchange", "")}},
			exchange: "a", keys: []string{"k"}, want: []string{"k"}},
		{name: "headers exchange with AE", topo: topo{queues: []string{"q", "lost"},
			exchanges: []ExchangeRecord{xr("h", Headers, "alternate-exchange", "ae"), xr("ae", Fanout)},
			bindings: []BindingRecord{{Source: "h", Destination: QueueDest("q"), Args: Args{"a": 1}},
				bq("ae", "", "lost")}},
			exchange: "h", keys: []string{""}, headers: map[string]any{"a": 2}, want: []string{"lost"}},
		{name: "topic CC keys", topo: topo{queues: []string{"q1", "q2", "q3"},
			bindings: []BindingRecord{bq("amq.topic", "a.*", "q1"), bq("amq.topic", "b.#", "q2"), bq("amq.topic", "c", "q3")}},
			exchange: "amq.topic", keys: []string{"a.x", "b"}, want: []string{"q1", "q2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.topo.build(t)
			got, err := r.Table().RouteKeys(tt.exchange, tt.keys, tt.headers)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("queues = %q, want %q", got, tt.want)
			}
			if len(tt.keys) == 1 {
				got2, _ := r.Route(tt.exchange, tt.keys[0], tt.headers)
				if !slices.Equal(got2, got) {
					t.Errorf("Route = %q, RouteKeys = %q", got2, got)
				}
			}
		})
	}
}

// TestTableImmutable: a Table taken before a mutation routes as before.
func TestTableImmutable(t *testing.T) {
	r := New()
	must(t)(r.AddQueue("q1", false))
	must(t)(r.Bind(QueueDest("q1"), "amq.topic", "a.#", nil))
	before := r.Table()
	must(t)(r.AddQueue("q2", false))
	must(t)(r.Bind(QueueDest("q2"), "amq.topic", "a.b", nil))
	must(t)(r.Unbind(QueueDest("q1"), "amq.topic", "a.#", nil))
	must(t)(r.DeclareExchange("x", Fanout, false, false, false, nil))
	got, _ := before.Route("amq.topic", "a.b", nil)
	if !slices.Equal(got, []string{"q1"}) {
		t.Errorf("old table routes %q, want [q1]", got)
	}
	if _, err := before.Route("x", "", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("old table sees a later exchange: %v", err)
	}
	got, _ = r.Route("amq.topic", "a.b", nil)
	if !slices.Equal(got, []string{"q2"}) {
		t.Errorf("new table routes %q, want [q2]", got)
	}
}
