package exchange

import (
	"errors"
	"testing"
	"time"
)

func TestHeadersMatch(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	tests := []struct {
		name    string
		binding map[string]any
		headers map[string]any
		want    bool
	}{
		{"all default, all equal", map[string]any{"a": int32(1), "b": "x"}, map[string]any{"a": int64(1), "b": "x", "c": true}, true},
		{"all default, one missing", map[string]any{"a": int32(1), "b": "x"}, map[string]any{"a": int64(1)}, false},
		{"all, one differs", map[string]any{"x-match": "all", "a": 1, "b": "x"}, map[string]any{"a": 1, "b": "y"}, false},
		{"all, no headers", map[string]any{"x-match": "all", "a": 1}, nil, false},
		{"any, one equal", map[string]any{"x-match": "any", "a": 1, "b": "x"}, map[string]any{"a": 2, "b": "x"}, true},
		{"any, none equal", map[string]any{"x-match": "any", "a": 1, "b": "x"}, map[string]any{"a": 2, "b": "y"}, false},
		{"any, no headers", map[string]any{"x-match": "any", "a": 1}, nil, false},
		{"all ignores x- binding keys", map[string]any{"x-match": "all", "x-foo": "y", "a": 1}, map[string]any{"a": 1}, true},
		{"any ignores x- binding keys", map[string]any{"x-match": "any", "x-foo": "y"}, map[string]any{"x-foo": "y"}, false},
		{"all with nothing to compare matches all", map[string]any{}, map[string]any{"z": 1}, true},
		{"all with only x- keys matches all", map[string]any{"x-match": "all", "x-q": 1}, nil, true},
		{"any with nothing to compare matches none", map[string]any{"x-match": "any"}, map[string]any{"z": 1}, false},
		{"all-with-x counts x- keys", map[string]any{"x-match": "all-with-x", "x-foo": "y"}, map[string]any{"x-foo": "y"}, true},
		{"all-with-x, x- key missing", map[string]any{"x-match": "all-with-x", "x-foo": "y", "a": 1}, map[string]any{"a": 1}, false},
		{"any-with-x counts x- keys", map[string]any{"x-match": "any-with-x", "x-foo": "y", "a": 1}, map[string]any{"x-foo": "y"}, true},
		{"all-with-x never compares x-match", map[string]any{"x-match": "all-with-x", "a": 1}, map[string]any{"a": 1}, true},
		{"void matches presence", map[string]any{"a": nil}, map[string]any{"a": "anything"}, true},
		{"void matches void", map[string]any{"a": nil}, map[string]any{"a": nil}, true},
		{"void needs presence", map[string]any{"a": nil}, map[string]any{"b": 1}, false},
		{"any with void", map[string]any{"x-match": "any", "a": nil, "b": 2}, map[string]any{"a": false}, true},
		{"value against void header", map[string]any{"a": 1}, map[string]any{"a": nil}, false},
		{"int8 == int64", map[string]any{"a": int8(5)}, map[string]any{"a": int64(5)}, true},
		{"uint32 == int16", map[string]any{"a": uint32(5)}, map[string]any{"a": int16(5)}, true},
		{"uint8 == int", map[string]any{"a": uint8(200)}, map[string]any{"a": 200}, true},
		{"float64 == int32 by value", map[string]any{"a": 5.0}, map[string]any{"a": int32(5)}, true},
		{"float32 == float64", map[string]any{"a": float32(0.5)}, map[string]any{"a": 0.5}, true},
		{"5.5 != 5", map[string]any{"a": 5.5}, map[string]any{"a": 5}, false},
		{"-1 != uint max", map[string]any{"a": int64(-1)}, map[string]any{"a": uint64(1<<64 - 1)}, false},
		{"uint64 large equal", map[string]any{"a": uint64(1 << 63)}, map[string]any{"a": uint64(1 << 63)}, true},
		{"int != string", map[string]any{"a": 1}, map[string]any{"a": "1"}, false},
		{"bool != int", map[string]any{"a": true}, map[string]any{"a": 1}, false},
		{"bool equal", map[string]any{"a": false}, map[string]any{"a": false}, true},
		{"string == bytes", map[string]any{"a": "xyz"}, map[string]any{"a": []byte("xyz")}, true},
		{"bytes == bytes", map[string]any{"a": []byte{1, 2}}, map[string]any{"a": []byte{1, 2}}, true},
		{"timestamp == its seconds", map[string]any{"a": ts}, map[string]any{"a": int64(1700000000)}, true},
		{"timestamp == timestamp", map[string]any{"a": ts}, map[string]any{"a": ts.In(time.UTC)}, true},
		{"nested table equal", map[string]any{"a": map[string]any{"k": int16(1), "l": []any{"x", nil}}},
			map[string]any{"a": map[string]any{"k": int64(1), "l": []any{[]byte("x"), nil}}}, true},
		{"nested table differs", map[string]any{"a": map[string]any{"k": 1}}, map[string]any{"a": map[string]any{"k": 2}}, false},
		{"nested table extra key", map[string]any{"a": map[string]any{"k": 1}}, map[string]any{"a": map[string]any{"k": 1, "m": 2}}, false},
		{"array length differs", map[string]any{"a": []any{1}}, map[string]any{"a": []any{1, 1}}, false},
		{"unsupported header type", map[string]any{"a": 1}, map[string]any{"a": struct{}{}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validateArgs(tt.binding); err != nil {
				t.Fatal(err)
			}
			if _, err := parseXMatch(tt.binding); err != nil {
				t.Fatal(err)
			}
			if got := compileHeaders(QueueDest("q"), cloneArgs(tt.binding)).match(tt.headers); got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
			// And through a Router and amq.headers.
			r := New()
			must(t)(r.AddQueue("q", false))
			must(t)(r.Bind(QueueDest("q"), "amq.headers", "ignored", tt.binding))
			got, err := r.Route("amq.headers", "any key", tt.headers)
			if err != nil {
				t.Fatal(err)
			}
			if (len(got) == 1) != tt.want {
				t.Errorf("Route = %v, want match %v", got, tt.want)
			}
		})
	}
}

func TestHeadersXMatchValidation(t *testing.T) {
	for _, v := range []any{"ALL", "none", "", 1, []byte("all"), nil} {
		r := New()
		must(t)(r.AddQueue("q", false))
		_, err := r.Bind(QueueDest("q"), "amq.match", "", map[string]any{"x-match": v})
		if !errors.Is(err, ErrPreconditionFailed) {
			t.Errorf("x-match %#v: err = %v, want ErrPreconditionFailed", v, err)
		}
		// Only headers exchanges validate x-match.
		must(t)(r.Bind(QueueDest("q"), "amq.direct", "", map[string]any{"x-match": v}))
	}
	r := New()
	must(t)(r.AddQueue("q", false))
	if _, err := r.Bind(QueueDest("q"), "amq.direct", "", map[string]any{"a": struct{}{}}); !errors.Is(err, ErrPreconditionFailed) {
		t.Errorf("unsupported arg type: err = %v, want ErrPreconditionFailed", err)
	}
}

// TestHeadersDistinctBindings: bindings that differ only in arguments are
// distinct, and unbinding one leaves the other.
func TestHeadersDistinctBindings(t *testing.T) {
	r := New()
	must(t)(r.AddQueue("q", false))
	must(t)(r.Bind(QueueDest("q"), "amq.headers", "", map[string]any{"a": 1}))
	must(t)(r.Bind(QueueDest("q"), "amq.headers", "", map[string]any{"b": 1}))
	if c := must(t)(r.Bind(QueueDest("q"), "amq.headers", "", map[string]any{"b": 1})); len(c) != 0 {
		t.Fatalf("rebinding made changes %v", c)
	}
	route := func(h map[string]any) int {
		got, err := r.Route("amq.headers", "", h)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if route(map[string]any{"a": 1}) != 1 || route(map[string]any{"b": 1}) != 1 || route(map[string]any{"a": 1, "b": 1}) != 1 {
		t.Fatal("both bindings should route, once")
	}
	must(t)(r.Unbind(QueueDest("q"), "amq.headers", "", map[string]any{"a": 1}))
	if route(map[string]any{"a": 1}) != 0 || route(map[string]any{"b": 1}) != 1 {
		t.Fatal("unbind removed the wrong binding")
	}
}
