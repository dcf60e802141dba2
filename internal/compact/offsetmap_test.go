package compact

import (
	"fmt"
	"testing"
)

func TestOffsetMap(t *testing.T) {
	tests := []struct {
		name  string
		bytes int64
		keys  int
		full  bool // the map fills before every key is in
	}{
		{"roomy", 1 << 20, 10_000, false},
		{"exactly full", 100 * slotBytes, 90, false},
		{"one too many", 100 * slotBytes, 91, true},
		{"smallest", 0, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newOffsetMap(tt.bytes)
			m.prepare(1 << 40)
			stopped := -1
			for i := 0; i < tt.keys; i++ {
				if !m.put(hashKey(fmt.Appendf(nil, "key-%d", i)), int64(i)) {
					stopped = i
					break
				}
			}
			if (stopped >= 0) != tt.full {
				t.Fatalf("stopped at %d of %d keys (capacity %d)", stopped, tt.keys, m.capacity())
			}
			n := tt.keys
			if stopped >= 0 {
				n = stopped
				if n != m.capacity() {
					t.Fatalf("full after %d keys, capacity %d", n, m.capacity())
				}
				// A key already in the map still updates when it is full.
				if !m.put(hashKey([]byte("key-0")), 1<<40) || m.get(hashKey([]byte("key-0"))) != 1<<40 {
					t.Fatal("update of a present key refused when full")
				}
				m.put(hashKey([]byte("key-0")), 0)
			}
			for i := 0; i < n; i++ {
				if got := m.get(hashKey(fmt.Appendf(nil, "key-%d", i))); got != int64(i) && !(i == 0 && got == 1<<40) {
					t.Fatalf("get(key-%d) = %d", i, got)
				}
			}
			if got := m.get(hashKey([]byte("absent"))); got != -1 {
				t.Fatalf("get(absent) = %d", got)
			}
			m.prepare(int64(n))
			if got := m.get(hashKey([]byte("key-1"))); got != -1 || m.used != 0 {
				t.Fatalf("after prepare: get = %d, used %d", got, m.used)
			}
		})
	}
}

func TestOffsetMapKeepsLatest(t *testing.T) {
	m := newOffsetMap(1 << 10)
	m.prepare(10)
	k := hashKey([]byte("k"))
	m.put(k, 10)
	m.put(k, 7) // an older record never hides the newer one
	if got := m.get(k); got != 10 {
		t.Fatalf("get = %d, want 10", got)
	}
}

// TestOffsetMapSizedByPass: a pass over few offsets uses a table of their
// size, however large the configured map, and every key it offers fits.
func TestOffsetMapSizedByPass(t *testing.T) {
	m := newOffsetMap(32 << 20)
	for _, keys := range []int64{0, 1, 7, 1000, 100_000} {
		m.prepare(keys)
		if m.n > int(keys)*2+2 || len(m.slots) > 200_000 {
			t.Fatalf("prepare(%d): %d slots in use, %d allocated", keys, m.n, len(m.slots))
		}
		for i := range keys {
			if !m.put(hashKey(fmt.Appendf(nil, "k%d", i)), i) {
				t.Fatalf("prepare(%d): full after %d keys", keys, i)
			}
		}
	}
	m.prepare(3)
	if got := m.get(hashKey([]byte("k5"))); got != -1 {
		t.Fatalf("a key of an earlier pass is still there: %d", got)
	}
}
