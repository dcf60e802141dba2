package storage

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEpochCache(t *testing.T) {
	var c epochCache
	for _, a := range []struct {
		epoch int32
		off   int64
	}{{1, 0}, {1, 5}, {2, 10}, {0, 12}, {5, 20}} {
		c.assign(a.epoch, a.off)
	}
	if c.latest() != 5 || len(c.entries) != 3 {
		t.Fatalf("entries %v", c.entries)
	}
	tests := []struct {
		epoch   int32
		wantE   int32
		wantEnd int64
	}{
		{0, -1, -1}, // below the first known epoch
		{1, 1, 10},
		{2, 2, 20},
		{3, 2, 20}, // unknown epoch: the largest below it
		{5, 5, 30},
		{9, 5, 30},
	}
	for _, tt := range tests {
		e, end := c.endOffsetFor(tt.epoch, 30)
		if e != tt.wantE || end != tt.wantEnd {
			t.Errorf("endOffsetFor(%d) = %d, %d; want %d, %d", tt.epoch, e, end, tt.wantE, tt.wantEnd)
		}
	}
	d, err := decodeEpochCache(c.encode())
	if err != nil || len(d.entries) != 3 || d.entries[2] != c.entries[2] {
		t.Fatalf("round trip: %v %v", d.entries, err)
	}
	c.truncateFromStart(15)
	if c.entries[0] != (epochEntry{2, 15}) || len(c.entries) != 2 {
		t.Fatalf("truncateFromStart: %v", c.entries)
	}
	c.truncateFromEnd(20)
	if c.latest() != 2 {
		t.Fatalf("truncateFromEnd: %v", c.entries)
	}
	var empty epochCache
	if e, end := empty.endOffsetFor(3, 10); e != -1 || end != -1 {
		t.Fatal("empty cache answered")
	}
}

func TestLeaderEpochsPersistAndRebuild(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 800
	l := openTest(t, dir, cfg, Options{})
	for i, e := range []int32{0, 0, 3, 3, 3, 4, 4, 9} {
		a := mustAppend(t, l, makeBatch(2, 50, int64(i)), e)
		if a.base != int64(2*i) {
			t.Fatal("offsets")
		}
	}
	if l.LatestEpoch() != 9 {
		t.Fatalf("LatestEpoch %d", l.LatestEpoch())
	}
	wantFor := map[int32][2]int64{0: {0, 4}, 3: {3, 10}, 4: {4, 14}, 9: {9, 16}, 5: {4, 14}}
	check := func(l *Log) {
		t.Helper()
		for req, w := range wantFor {
			if e, end := l.EndOffsetForEpoch(req); int64(e) != w[0] || end != w[1] {
				t.Errorf("EndOffsetForEpoch(%d) = %d, %d; want %v", req, e, end, w)
			}
		}
	}
	check(l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openTestClose(t, dir, cfg)
	check(l2)
	l2.Close()
	// Lost checkpoint: rebuilt from the batch headers.
	if err := os.Remove(filepath.Join(dir, leaderEpochFile)); err != nil {
		t.Fatal(err)
	}
	l3 := openTestClose(t, dir, cfg)
	check(l3)
	l3.Close()
	// Corrupt checkpoint: same.
	if err := os.WriteFile(filepath.Join(dir, leaderEpochFile), []byte{1, 4, 0, 0, 0, 1, 9, 9, 9, 9}, 0o644); err != nil {
		t.Fatal(err)
	}
	check(openTestClose(t, dir, cfg))
}

// openTestClose opens dir and returns a log that check may use, closing it
// when the next one is opened (two Logs must never share a directory).
func openTestClose(t *testing.T, dir string, cfg Config) *Log {
	t.Helper()
	l := openTest(t, dir, cfg, Options{})
	t.Cleanup(func() { l.Close() })
	return l
}
