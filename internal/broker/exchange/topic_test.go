package exchange

import (
	"hash/maphash"
	"slices"
	"strings"
	"testing"
)

// refTopicMatch is the reference matcher: dynamic programming over words,
// written from RabbitMQ's definition and independent of the trie.
// dp[i][j]: pattern words p[i:] match key words k[j:].
func refTopicMatch(pattern, key string) bool {
	p, k := splitWords(pattern, nil), splitWords(key, nil)
	dp := make([][]bool, len(p)+1)
	for i := range dp {
		dp[i] = make([]bool, len(k)+1)
	}
	dp[len(p)][len(k)] = true
	for i := len(p) - 1; i >= 0; i-- {
		for j := len(k); j >= 0; j-- {
			switch p[i] {
			case "#":
				dp[i][j] = dp[i+1][j] || (j < len(k) && dp[i][j+1])
			case "*":
				dp[i][j] = j < len(k) && dp[i+1][j+1]
			default:
				dp[i][j] = j < len(k) && k[j] == p[i] && dp[i+1][j+1]
			}
		}
	}
	return dp[0][0]
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		key  string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a.b", []string{"a", "b"}},
		{"a.", []string{"a", ""}},
		{".", []string{"", ""}},
		{"..a", []string{"", "", "a"}},
	}
	for _, tt := range tests {
		if got := splitWords(tt.key, nil); !slices.Equal(got, tt.want) {
			t.Errorf("splitWords(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

var topicCases = []struct {
	pattern, key string
	want         bool
}{
	{"#", "", true},
	{"#", "a", true},
	{"#", "a.b.c", true},
	{"#", ".", true},
	{"a.#", "a", true},
	{"a.#", "a.b", true},
	{"a.#", "a.b.c", true},
	{"a.#", "b", false},
	{"a.#", "", false},
	{"#.a", "a", true},
	{"#.a", "b.a", true},
	{"#.a", "b.c.a", true},
	{"#.a", "a.b", false},
	{"*", "", false},
	{"*", "a", true},
	{"*", ".", false},
	{"*", "a.b", false},
	{"*.*", "a", false},
	{"*.*", "a.b", true},
	{"*.*", ".", true},
	{"*.*", "a.b.c", false},
	{"a.*.#", "a", false},
	{"a.*.#", "a.b", true},
	{"a.*.#", "a.b.c.d", true},
	{"a.*.#", "b.b", false},
	{"", "", true},
	{"", "a", false},
	{"a", "", false},
	{"a.", "a.", true},
	{"a.", "a", false},
	{"a.*", "a.", true},
	{"a..b", "a..b", true},
	{"a.*.b", "a..b", true},
	{"a.b", "a.b.", false},
	{"#.#", "", true},
	{"#.#", "a.b.c", true},
	{"#.*", "", false},
	{"#.*", "a", true},
	{"*.#", "a", true},
	{"*.#.*", "a", false},
	{"*.#.*", "a.b", true},
	{"*.#.*", "a.b.c.d", true},
	{"a.#.b", "a.b", true},
	{"a.#.b", "a.x.b", true},
	{"a.#.b", "a.x.y.b", true},
	{"a.#.b", "a.b.c", false},
	{"a.#.#.b", "a.b", true},
	{"#.b.#", "b", true},
	{"#.b.#", "a.b.c", true},
	{"#.b.#", "a.c", false},
	{"a.*", "a.*", true},  // a literal "*" word in a key is just a word
	{"a.b", "a.*", false}, // and is not a wildcard there
	{"a.#", "a.#", true},
	{"a*.b", "ab.b", false}, // wildcards are whole words only
	{"a*.b", "a*.b", true},
	{"#.#.#.#.#.#.#.#.z", strings.Repeat("a.", 40) + "z", true},
	{"#.#.#.#.#.#.#.#.z", strings.Repeat("a.", 40) + "y", false},
}

func TestTopicMatch(t *testing.T) {
	for _, tt := range topicCases {
		if got := refTopicMatch(tt.pattern, tt.key); got != tt.want {
			t.Errorf("reference: %q matches %q = %v, want %v", tt.pattern, tt.key, got, tt.want)
		}
		r := New()
		must(t)(r.DeclareExchange("t", Topic, false, false, false, nil))
		must(t)(r.AddQueue("q", false))
		must(t)(r.Bind(QueueDest("q"), "t", tt.pattern, nil))
		got, err := r.Route("t", tt.key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if (len(got) == 1) != tt.want {
			t.Errorf("trie: %q matches %q = %v, want %v", tt.pattern, tt.key, got, tt.want)
		}
	}
}

// TestTopicSharedTrie binds every case's pattern into one exchange and
// routes every key, so patterns share trie paths.
func TestTopicSharedTrie(t *testing.T) {
	r := New()
	must(t)(r.DeclareExchange("t", Topic, false, false, false, nil))
	patterns := map[string]string{} // pattern → queue
	for _, tt := range topicCases {
		if _, ok := patterns[tt.pattern]; ok {
			continue
		}
		q := "q" + string(rune('A'+len(patterns)))
		patterns[tt.pattern] = q
		must(t)(r.AddQueue(q, false))
		must(t)(r.Bind(QueueDest(q), "t", tt.pattern, nil))
	}
	for _, tt := range topicCases {
		var want []string
		for p, q := range patterns {
			if refTopicMatch(p, tt.key) {
				want = append(want, q)
			}
		}
		slices.Sort(want)
		got, err := r.Route("t", tt.key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("key %q: got %v, want %v", tt.key, got, want)
		}
	}
}

// FuzzTopicMatch checks the trie against the reference matcher, with two
// patterns sharing one trie, and again after removing the first.
func FuzzTopicMatch(f *testing.F) {
	for _, tt := range topicCases {
		f.Add(tt.pattern, "a.#.*", tt.key)
	}
	f.Fuzz(func(t *testing.T, p1, p2, key string) {
		if len(p1)+len(p2)+len(key) > 1024 {
			return
		}
		hs := hasher{seed: maphash.MakeSeed()}
		tbl := &Table{hs: hs, scratch: newScratchPool()}
		tbl = tbl.putExchange(&xroute{name: "t", kind: Topic})
		b1 := &BindingRecord{Source: "t", Destination: QueueDest("q1"), RoutingKey: p1}
		b2 := &BindingRecord{Source: "t", Destination: QueueDest("q2"), RoutingKey: p2}
		tbl = tbl.withBinding(b1, "1", true).withBinding(b2, "2", true)
		check := func(withP1 bool) {
			t.Helper()
			var want []string
			if withP1 && refTopicMatch(p1, key) {
				want = append(want, "q1")
			}
			if refTopicMatch(p2, key) {
				want = append(want, "q2")
			}
			got, err := tbl.Route("t", key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("patterns %q %q key %q: got %v, want %v", p1, p2, key, got, want)
			}
		}
		check(true)
		tbl = tbl.withBinding(b1, "1", false)
		check(false)
		tbl = tbl.withBinding(b2, "2", false)
		if x, _ := tbl.exchange("t"); x.topic != nil {
			t.Fatalf("trie not empty after removing every binding")
		}
	})
}

// must fails the test on an error: must(t)(r.Bind(...)).
func must(t testing.TB) func([]Change, error) []Change {
	return func(c []Change, err error) []Change {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}
