package compact

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

// BenchmarkClean measures cleaning throughput: bytes of dirty log cleaned
// per second (b.SetBytes is the log's size), fsyncs of the swaps included.
// The log holds 20,000 keys written 10 times each in batches of 100
// records of about 130 bytes, in 1 MiB segments; a pass keeps one record
// in ten. Each iteration cleans a fresh copy.
//
//	go test -run '^$' -bench Clean -benchtime 3x -count 3 ./internal/compact
func BenchmarkClean(b *testing.B) {
	for _, codec := range []string{"uncompressed", "zstd"} {
		b.Run(codec, func(b *testing.B) {
			src := b.TempDir()
			cfg := testConfig()
			cfg.SegmentBytes = 1 << 20
			l, err := storage.Open(src, cfg, storage.Options{})
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			value := make([]byte, 100)
			const keys, versions, perBatch = 20_000, 10, 100
			var recs []message.Record
			for v := range versions {
				for k := range keys {
					for i := range value {
						value[i] = byte('a' + rng.IntN(26))
					}
					recs = append(recs, message.Record{Key: fmt.Appendf(nil, "key-%06d", k), Value: append([]byte(nil), value...), Timestamp: int64(v*keys + k)})
					if len(recs) == perBatch {
						raw := message.EncodeBatch(recs, plainBatch)
						if codec == "zstd" {
							raw = zstdBatch(b, raw)
						}
						if _, err := l.Append(raw, 0); err != nil {
							b.Fatal(err)
						}
						recs = recs[:0]
					}
				}
			}
			seal(b, l)
			size := l.Size()
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				dir := copyDir(b, src)
				l, err := storage.Open(dir, cfg, storage.Options{})
				if err != nil {
					b.Fatal(err)
				}
				c := New(Config{})
				c.Register(Target{Name: "bench", Log: l, Settings: func() Settings { return SettingsOf(l.Config(), -1) }})
				b.StartTimer()
				if n, err := c.CleanOnce(context.Background()); n != 1 || err != nil {
					b.Fatalf("CleanOnce = %d, %v", n, err)
				}
				b.StopTimer()
				after := l.Size()
				c.Close()
				if err := l.Close(); err != nil {
					b.Fatal(err)
				}
				os.RemoveAll(dir)
				b.ReportMetric(float64(after)/float64(size), "kept/ratio")
				b.StartTimer()
			}
		})
	}
}

func copyDir(b *testing.B, src string) string {
	b.Helper()
	dst := b.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			b.Fatal(err)
		}
		in.Close()
		out.Close()
	}
	return dst
}
