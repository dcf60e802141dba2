package exchange

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestArgsJSONRoundTrip(t *testing.T) {
	in := Args{
		"void": nil, "bool": true, "i8": int8(-8), "u8": uint8(8), "i16": int16(-16), "u16": uint16(16),
		"i32": int32(-32), "u32": uint32(32), "i64": int64(math.MinInt64), "u64": uint64(math.MaxUint64),
		"f32": float32(1.5), "f64": math.Pi, "nan": math.NaN(), "inf": math.Inf(-1), "s": "str",
		"bytes": []byte{0, 1, 255}, "time": time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		"table": map[string]any{"k": int16(1), "deep": map[string]any{"l": []any{"a", uint8(1), nil}}},
		"array": []any{int32(1), "x", []any{}},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Args
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	nan := out["nan"].(float64)
	if !math.IsNaN(nan) {
		t.Errorf("nan = %v", nan)
	}
	delete(in, "nan")
	delete(out, "nan")
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n in %#v\nout %#v", in, out)
	}
	for _, bad := range []string{`{"a":1}`, `{"a":["?",1]}`, `{"a":["b",1000]}`, `{"a":[]}`, `{"a":["S"]}`, `{"a":["d","x"]}`} {
		if err := json.Unmarshal([]byte(bad), &out); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if _, err := json.Marshal(Args{"a": struct{}{}}); err == nil {
		t.Error("unsupported type marshalled")
	}
}

func TestSnapshotRestore(t *testing.T) {
	r := New()
	must(t)(r.AddQueue("dq", true))
	must(t)(r.AddQueue("tq", false))
	must(t)(r.DeclareExchange("dx", Topic, true, false, false, map[string]any{"alternate-exchange": "ae"}))
	must(t)(r.DeclareExchange("ae", Fanout, true, false, true, nil))
	must(t)(r.DeclareExchange("tx", Headers, false, true, false, nil))
	must(t)(r.Bind(QueueDest("dq"), "dx", "a.#", nil))
	must(t)(r.Bind(QueueDest("tq"), "dx", "a.*", nil))
	must(t)(r.Bind(QueueDest("dq"), "ae", "", nil))
	must(t)(r.Bind(ExchangeDest("tx"), "dx", "#", nil))
	must(t)(r.Bind(QueueDest("tq"), "tx", "", map[string]any{"x-match": "any", "n": int8(1), "b": []byte("x")}))
	must(t)(r.Bind(QueueDest("dq"), "amq.direct", "k", nil))
	snap := r.Snapshot()

	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	var back Snapshot
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(snap, back) {
		t.Fatalf("JSON round trip differs:\n%+v\n%+v", snap, back)
	}
	r2, err := Restore(back)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r2.Snapshot(), snap) {
		t.Fatalf("restored snapshot differs:\n%+v\n%+v", r2.Snapshot(), snap)
	}
	for _, key := range []string{"a", "a.b", "a.b.c", "z"} {
		h := map[string]any{"n": int64(1)}
		got1, err1 := r.Route("dx", key, h)
		got2, err2 := r2.Route("dx", key, h)
		if !slices.Equal(got1, got2) || err1 != nil || err2 != nil {
			t.Errorf("key %q: %v %v vs %v %v", key, got1, err1, got2, err2)
		}
	}

	d := snap.Durable()
	names := func(xs []ExchangeRecord) (n []string) {
		for _, x := range xs {
			n = append(n, x.Name)
		}
		return n
	}
	if got := names(d.Exchanges); !slices.Equal(got, []string{"ae", "dx"}) {
		t.Errorf("durable exchanges %v", got)
	}
	if len(d.Queues) != 1 || d.Queues[0].Name != "dq" {
		t.Errorf("durable queues %v", d.Queues)
	}
	if len(d.Bindings) != 3 {
		t.Errorf("durable bindings %+v", d.Bindings)
	}
	if _, err := Restore(d); err != nil {
		t.Errorf("restore durable: %v", err)
	}
}

func TestRestoreErrors(t *testing.T) {
	tests := []struct {
		name string
		s    Snapshot
	}{
		{"version", Snapshot{Version: 2}},
		{"bad type", Snapshot{Version: 1, Exchanges: []ExchangeRecord{{Name: "x", Type: "bogus"}}}},
		{"binding to missing queue", Snapshot{Version: 1, Bindings: []BindingRecord{bq("amq.direct", "k", "q")}}},
		{"binding from missing exchange", Snapshot{Version: 1, Queues: []QueueRecord{{Name: "q"}},
			Bindings: []BindingRecord{bq("x", "k", "q")}}},
		{"bad x-match", Snapshot{Version: 1, Queues: []QueueRecord{{Name: "q"}},
			Bindings: []BindingRecord{{Source: "amq.headers", Destination: QueueDest("q"), Args: Args{"x-match": "some"}}}}},
	}
	for _, tt := range tests {
		if _, err := Restore(tt.s); !errors.Is(err, ErrInvalidSnapshot) {
			t.Errorf("%s: err = %v, want ErrInvalidSnapshot", tt.name, err)
		}
	}
	if err := New().Apply(Change{V: 1, Op: "frobnicate"}); !errors.Is(err, ErrInvalidSnapshot) {
		t.Errorf("bad op: %v", err)
	}
	if err := New().Apply(Change{V: 9, Op: OpAddQueue, Queue: &QueueRecord{Name: "q"}}); !errors.Is(err, ErrInvalidSnapshot) {
		t.Errorf("bad version: %v", err)
	}
}

// TestChangeReplay drives a Router with random operations and checks that
// (1) replaying every change on a fresh Router, through JSON, rebuilds the
// same topology; (2) replaying only durable changes rebuilds the durable
// part; (3) Restore(Snapshot) is the identity; (4) indexes stay consistent.
func TestChangeReplay(t *testing.T) {
	for seed := range uint64(50) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			r := New()
			all, durable := New(), New()
			names := []string{"a", "b", "c", "d", "amq.direct", "amq.topic", "amq.headers"}
			queues := []string{"q1", "q2", "q3"}
			kinds := []Kind{Direct, Fanout, Topic, Headers}
			keys := []string{"", "k", "a.b", "#", "*.b"}
			for range 300 {
				var cs []Change
				var err error
				switch rng.IntN(7) {
				case 0:
					cs, err = r.DeclareExchange(names[rng.IntN(4)], kinds[rng.IntN(4)], rng.IntN(2) == 0,
						rng.IntN(2) == 0, false, nil)
				case 1:
					cs, err = r.DeleteExchange(names[rng.IntN(4)], rng.IntN(2) == 0)
				case 2:
					cs, err = r.AddQueue(queues[rng.IntN(3)], rng.IntN(2) == 0)
				case 3:
					cs, err = r.RemoveQueue(queues[rng.IntN(3)])
				case 4, 5:
					d := QueueDest(queues[rng.IntN(3)])
					if rng.IntN(3) == 0 {
						d = ExchangeDest(names[rng.IntN(len(names))])
					}
					cs, err = r.Bind(d, names[rng.IntN(len(names))], keys[rng.IntN(len(keys))],
						map[string]any{"n": int8(rng.IntN(2))})
				case 6:
					d := QueueDest(queues[rng.IntN(3)])
					if rng.IntN(3) == 0 {
						d = ExchangeDest(names[rng.IntN(len(names))])
					}
					cs, err = r.Unbind(d, names[rng.IntN(len(names))], keys[rng.IntN(len(keys))],
						map[string]any{"n": int8(rng.IntN(2))})
				}
				if err != nil && len(cs) > 0 {
					t.Fatalf("error with changes: %v %v", err, cs)
				}
				for _, c := range cs {
					b, err := json.Marshal(c)
					if err != nil {
						t.Fatal(err)
					}
					var back Change
					if err := json.Unmarshal(b, &back); err != nil {
						t.Fatal(err)
					}
					if err := all.Apply(back); err != nil {
						t.Fatalf("apply %v: %v", c, err)
					}
					if c.Durable() {
						if err := durable.Apply(back); err != nil {
							t.Fatalf("apply durable %v: %v", c, err)
						}
					}
				}
				checkConsistent(t, r)
			}
			snap := r.Snapshot()
			t.Logf("%d exchanges, %d queues, %d bindings (%d durable)", len(snap.Exchanges), len(snap.Queues), len(snap.Bindings), len(snap.Durable().Bindings))
			if got := all.Snapshot(); !reflect.DeepEqual(got, snap) {
				t.Fatalf("replay differs:\n%+v\n%+v", got, snap)
			}
			if got := durable.Snapshot(); !reflect.DeepEqual(got, snap.Durable()) {
				t.Fatalf("durable replay differs:\n%+v\n%+v", got, snap.Durable())
			}
			r2, err := Restore(snap)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r2.Snapshot(), snap) {
				t.Fatal("restore is not the identity")
			}
			checkConsistent(t, all)
			checkConsistent(t, r2)
			for _, x := range names {
				for _, k := range keys {
					h := map[string]any{"n": 1}
					g1, e1 := r.Route(x, k, h)
					g2, e2 := all.Route(x, k, h)
					if !slices.Equal(g1, g2) || (e1 == nil) != (e2 == nil) {
						t.Errorf("route %s %q: %v %v vs %v %v", x, k, g1, e1, g2, e2)
					}
				}
			}
		})
	}
}
