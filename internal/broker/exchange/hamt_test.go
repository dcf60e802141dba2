package exchange

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"testing"
)

// TestPmap checks the persistent map against a Go map under random
// operations, with a real hash and with a weak one (few bits: many full
// collisions, exercising collision buckets), and checks that old versions
// are unchanged.
func TestPmap(t *testing.T) {
	seed := maphash.MakeSeed()
	hashes := map[string]func(string) uint64{
		"maphash":   func(s string) uint64 { return maphash.String(seed, s) },
		"collide":   func(s string) uint64 { return maphash.String(seed, s) & 3 },
		"high bits": func(s string) uint64 { return maphash.String(seed, s) & (0xf << 60) },
	}
	for name, hash := range hashes {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			var m pmap[int]
			ref := map[string]int{}
			type version struct {
				m   pmap[int]
				ref map[string]int
			}
			var versions []version
			for i := range 5000 {
				k := fmt.Sprint(rng.IntN(300))
				if rng.IntN(3) == 0 {
					m = m.del(hash(k), k)
					delete(ref, k)
				} else {
					m = m.set(hash(k), k, i)
					ref[k] = i
				}
				if i%500 == 0 {
					c := make(map[string]int, len(ref))
					for k, v := range ref {
						c[k] = v
					}
					versions = append(versions, version{m, c})
				}
			}
			versions = append(versions, version{m, ref})
			for vi, v := range versions {
				if v.m.Len() != len(v.ref) {
					t.Fatalf("version %d: Len %d, want %d", vi, v.m.Len(), len(v.ref))
				}
				for k, want := range v.ref {
					if got, ok := v.m.get(hash(k), k); !ok || got != want {
						t.Fatalf("version %d: get %q = %d %v, want %d", vi, k, got, ok, want)
					}
				}
				for i := 300; i < 310; i++ {
					k := fmt.Sprint(i)
					if _, ok := v.m.get(hash(k), k); ok {
						t.Fatalf("found absent key %q", k)
					}
				}
				seen := 0
				v.m.each(func(k string, val int) bool {
					seen++
					if v.ref[k] != val {
						t.Fatalf("each: %q = %d, want %d", k, val, v.ref[k])
					}
					return true
				})
				if seen != len(v.ref) {
					t.Fatalf("each saw %d, want %d", seen, len(v.ref))
				}
			}
			for k := range ref {
				m = m.del(hash(k), k)
			}
			if m.Len() != 0 || m.root != nil {
				t.Fatalf("not empty after deleting all: %d", m.Len())
			}
		})
	}
}
