package storage

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// fuzzTemplate is a crashed log (no clean shutdown) of three segments,
// built once and copied into each fuzz iteration's directory.
var fuzzTemplate struct {
	once    sync.Once
	files   map[string][]byte
	active  string   // name of the active segment file
	batches [][]byte // every batch, in order
	inert   int      // batches wholly in sealed segments
	pos     []int64  // positions of the active segment's batches
	err     error
}

func fuzzConfig() Config {
	c := testConfig()
	c.SegmentBytes = 1200
	c.IndexIntervalBytes = 200
	return c
}

func buildFuzzTemplate(t testing.TB) {
	ft := &fuzzTemplate
	ft.once.Do(func() {
		dir, err := os.MkdirTemp("", "tern-fuzz-template")
		if err != nil {
			ft.err = err
			return
		}
		defer os.RemoveAll(dir)
		l, err := Open(dir, fuzzConfig(), Options{})
		if err != nil {
			ft.err = err
			return
		}
		for i := 0; i < 18; i++ {
			b := makeBatch(1+i%4, 30+i, int64(i)*100)
			if _, err := l.Append(b, int32(i/6)); err != nil {
				ft.err = err
				return
			}
			ft.batches = append(ft.batches, b)
		}
		active := l.segs[len(l.segs)-1]
		var pos int64
		for _, b := range ft.batches {
			if h, _ := ParseBatchHeader(b); h.BaseOffset < active.base {
				ft.inert++
				continue
			}
			ft.pos = append(ft.pos, pos)
			pos += int64(len(b))
		}
		ft.active = segmentName(active.base, logSuffix)
		crash(t, l)
		ft.files = map[string][]byte{}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				ft.err = err
				return
			}
			ft.files[e.Name()] = b
		}
	})
	if ft.err != nil {
		t.Fatal(ft.err)
	}
}

// FuzzRecover damages the active segment of a crashed log — appending,
// overwriting or truncating and appending — and opens it. Open must not
// fail or panic, must keep every batch before the damage, and every batch
// it serves must be whole and pass its CRC, with contiguous offsets.
func FuzzRecover(f *testing.F) {
	buildFuzzTemplate(f)
	ft := &fuzzTemplate
	last := ft.batches[len(ft.batches)-1]
	f.Add([]byte{}, uint32(0), uint8(0))                             // clean crash
	f.Add([]byte("garbage"), uint32(0), uint8(0))                    // junk appended
	f.Add(last[:40], uint32(0), uint8(0))                            // torn header appended
	f.Add(append([]byte(nil), last...), uint32(0), uint8(0))         // a duplicate batch (offsets go back)
	f.Add([]byte{0xff}, uint32(ft.pos[1]+offCRC), uint8(1))          // CRC byte flipped
	f.Add([]byte{0x7f, 0xff}, uint32(ft.pos[1]+offLength), uint8(1)) // huge length
	f.Add([]byte{}, uint32(ft.pos[2]+30), uint8(2))                  // torn mid-header
	f.Add(make([]byte, 4096), uint32(ft.pos[1]), uint8(2))           // zero-filled tail
	f.Fuzz(func(t *testing.T, data []byte, at uint32, mode uint8) {
		dir := t.TempDir()
		for name, b := range ft.files {
			if name == ft.active {
				continue
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		orig := ft.files[ft.active]
		seg := append([]byte(nil), orig...)
		switch mode % 3 {
		case 0: // append
			seg = append(seg, data...)
		case 1: // overwrite in place (may extend)
			p := int(at) % (len(seg) + 1)
			seg = append(seg[:p], append(data, orig[min(p+len(data), len(orig)):]...)...)
		case 2: // truncate, then append
			p := int(at) % (len(seg) + 1)
			seg = append(seg[:p], data...)
		}
		// damageAt: the first byte of the original segment that changed.
		damageAt := int64(len(orig))
		for i := range min(len(seg), len(orig)) {
			if seg[i] != orig[i] {
				damageAt = int64(i)
				break
			}
		}
		damageAt = min(damageAt, int64(len(seg)))
		if err := os.WriteFile(filepath.Join(dir, ft.active), seg, 0o644); err != nil {
			t.Fatal(err)
		}

		l, err := Open(dir, fuzzConfig(), Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer l.Close()
		got := readBatches(t, l, 0, l.EndOffset()) // checks every CRC
		want := ft.inert
		for i, p := range ft.pos {
			if p+int64(len(ft.batches[ft.inert+i])) <= damageAt {
				want = ft.inert + i + 1
			}
		}
		if len(got) < want {
			t.Fatalf("recovered %d batches, %d were intact", len(got), want)
		}
		next := int64(0)
		for i, b := range got {
			h, _ := ParseBatchHeader(b)
			if i < want && !bytes.Equal(b, ft.batches[i]) {
				t.Fatalf("intact batch %d changed", i)
			}
			if h.BaseOffset < next {
				t.Fatalf("batch %d offset %d below %d", i, h.BaseOffset, next)
			}
			next = h.LastOffset() + 1
		}
		if l.EndOffset() != next {
			t.Fatalf("EndOffset %d, batches end at %d", l.EndOffset(), next)
		}
		// The recovered log takes appends.
		if _, err := l.Append(makeBatch(1, 1, 0), 0); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseBatchHeader: arbitrary bytes never panic, and an accepted header
// is self-consistent.
func FuzzParseBatchHeader(f *testing.F) {
	good := makeBatch(3, 10, 1234)
	f.Add(good)
	f.Add(good[:headerSize])
	f.Add(good[:headerSize-1])
	bad := append([]byte(nil), good...)
	bad[offMagic] = 1
	f.Add(bad)
	neg := append([]byte(nil), good...)
	copy(neg[offLength:], []byte{0xff, 0xff, 0xff, 0xff})
	f.Add(neg)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseBatchHeader(b)
		crcErr := VerifyCRC(b)
		if err != nil {
			if crcErr == nil {
				t.Fatal("VerifyCRC accepted what ParseBatchHeader refused")
			}
			return
		}
		if h.Magic != batchMagic || h.Size() < headerSize || h.LastOffset() < h.BaseOffset {
			t.Fatalf("inconsistent header accepted: %+v", h)
		}
		if crcErr == nil && h.Size() != int64(len(b)) {
			t.Fatal("VerifyCRC accepted a length mismatch")
		}
	})
}
