package exchange

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// topicKeys10k returns 10,000 distinct binding keys of 3 to 5 words drawn
// from small vocabularies (so paths are shared, as in real topologies),
// 10% of them with "*" and 5% with "#" in some position.
func topicKeys10k() []string {
	rng := rand.New(rand.NewPCG(42, 42))
	vocab := []string{"stock", "nyse", "nasdaq", "usd", "eur", "order", "created", "paid", "shipped", "eu",
		"us", "asia", "error", "warn", "info", "debug", "kern", "auth", "user", "admin"}
	seen := map[string]bool{}
	var keys []string
	for len(keys) < 10000 {
		n := 3 + rng.IntN(3)
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[rng.IntN(len(vocab))]
			if i == n-1 {
				w[i] += fmt.Sprint(rng.IntN(50))
			}
		}
		switch p := rng.IntN(100); {
		case p < 10:
			w[rng.IntN(n)] = "*"
		case p < 15:
			w[rng.IntN(n)] = "#"
		}
		k := strings.Join(w, ".")
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

func benchRouter(b *testing.B, kind Kind, keys []string) *Router {
	b.Helper()
	r := New()
	must(b)(r.DeclareExchange("x", kind, true, false, false, nil))
	for i, k := range keys {
		q := fmt.Sprintf("q%05d", i)
		must(b)(r.AddQueue(q, true))
		must(b)(r.Bind(QueueDest(q), "x", k, nil))
	}
	return r
}

func BenchmarkRouteTopic10k(b *testing.B) {
	keys := topicKeys10k()
	t := benchRouter(b, Topic, keys).Table()
	// Keys that match: bound keys with the wildcards filled in; and one
	// that matches nothing.
	var routingKeys []string
	for _, k := range keys[:7] {
		k = strings.ReplaceAll(k, "*", "w")
		routingKeys = append(routingKeys, strings.ReplaceAll(k, "#", "w1.w2"))
	}
	routingKeys = append(routingKeys, "no.such.key")
	total := 0
	for _, k := range routingKeys {
		q, _ := t.Route("x", k, nil)
		total += len(q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := t.Route("x", routingKeys[i%len(routingKeys)], nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)/float64(len(routingKeys)), "queues/route")
}

func BenchmarkRouteDirect(b *testing.B) {
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = fmt.Sprintf("rpc.reply.%d", i)
	}
	t := benchRouter(b, Direct, keys).Table()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if q, _ := t.Route("x", keys[i%len(keys)], nil); len(q) != 1 {
			b.Fatal(q)
		}
	}
}

func BenchmarkRouteFanout(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			t := benchRouter(b, Fanout, make([]string, n)).Table()
			b.ReportAllocs()
			for b.Loop() {
				if q, _ := t.Route("x", "", nil); len(q) != n {
					b.Fatal(len(q))
				}
			}
		})
	}
}

func BenchmarkRouteHeaders100(b *testing.B) {
	r := New()
	for i := range 100 {
		q := fmt.Sprintf("q%03d", i)
		must(b)(r.AddQueue(q, true))
		must(b)(r.Bind(QueueDest(q), "amq.headers", "", map[string]any{"region": fmt.Sprint(i % 10), "tier": int32(i % 3)}))
	}
	t := r.Table()
	h := map[string]any{"region": "3", "tier": int64(1), "other": "x"}
	b.ReportAllocs()
	for b.Loop() {
		if q, _ := t.Route("amq.headers", "", h); len(q) == 0 {
			b.Fatal("no match")
		}
	}
}

// BenchmarkBindTopic10k measures building the topology: each Bind updates
// the published Table (O(log n) copying, not a rebuild).
func BenchmarkBindTopic10k(b *testing.B) {
	keys := topicKeys10k()
	b.ReportAllocs()
	for b.Loop() {
		benchRouter(b, Topic, keys)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/bind")
}

// TestConcurrentRoute publishes Tables through an atomic pointer while
// readers route, as the core does; run with -race.
func TestConcurrentRoute(t *testing.T) {
	r := New()
	must(t)(r.AddQueue("q", false))
	must(t)(r.Bind(QueueDest("q"), "amq.topic", "a.#", nil))
	var cur atomic.Pointer[Table]
	cur.Store(r.Table())
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				got, err := cur.Load().Route("amq.topic", "a.b", nil)
				if err != nil || len(got) == 0 || got[0] != "q" {
					t.Errorf("route = %v, %v", got, err)
					return
				}
			}
		})
	}
	for i := range 2000 {
		q := fmt.Sprintf("q%d", i)
		must(t)(r.AddQueue(q, false))
		must(t)(r.Bind(QueueDest(q), "amq.topic", fmt.Sprintf("a.%d.#", i), nil))
		cur.Store(r.Table())
	}
	stop.Store(true)
	wg.Wait()
}
