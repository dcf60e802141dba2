package storage

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// benchBatch is ~16 KiB: 16 records of 1 KiB.
func benchBatch() []byte { return makeBatch(16, 1024, time.Now().UnixMilli()) }

func benchConfig(p SyncPolicy) Config {
	c := DefaultConfig()
	c.Sync = p
	c.SegmentBytes = 64 << 20
	c.RetentionBytes = 256 << 20
	c.RetentionAge = -1
	return c
}

// BenchmarkAppend measures Append throughput per sync policy, with one
// appender and with 8 concurrent appenders (group commit under "always").
//
//	go test -run XXX -bench Append -benchtime 2s ./internal/storage/
func BenchmarkAppend(b *testing.B) {
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncOS} {
		for _, appenders := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/appenders=%d", p, appenders), func(b *testing.B) {
				l, err := Open(b.TempDir(), benchConfig(p), Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				b.SetBytes(int64(len(benchBatch())))
				b.ReportAllocs()
				b.ResetTimer()
				var wg sync.WaitGroup
				per := b.N / appenders
				for w := 0; w < appenders; w++ {
					n := per
					if w == 0 {
						n += b.N % appenders
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						batch := benchBatch()
						for i := 0; i < n; i++ {
							if _, err := l.Append(batch, 0); err != nil {
								b.Error(err)
								return
							}
							if i%4096 == 4095 {
								l.EnforceRetention() // bound the disk used
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				if syncs := l.fsyncCount(); p == SyncAlways {
					b.ReportMetric(float64(b.N)/float64(max(syncs, 1)), "appends/fsync")
				}
			})
		}
	}
}

// BenchmarkRead measures Read+AppendTo of ~1 MiB fetches from a warm log.
func BenchmarkRead(b *testing.B) {
	l, err := Open(b.TempDir(), benchConfig(SyncOS), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	batch := benchBatch()
	for i := 0; i < 2048; i++ { // 32 MiB
		if _, err := l.Append(batch, 0); err != nil {
			b.Fatal(err)
		}
	}
	end := l.EndOffset()
	buf := make([]byte, 0, 2<<20)
	b.ReportAllocs()
	b.ResetTimer()
	var total int64
	off := int64(0)
	for i := 0; i < b.N; i++ {
		s, err := l.Read(off, 1<<20, end)
		if err != nil {
			b.Fatal(err)
		}
		if buf, err = s.AppendTo(buf[:0]); err != nil {
			b.Fatal(err)
		}
		total += s.Size()
		off = s.LastOffset() + 1
		s.Release()
		if off >= end {
			off = 0
		}
	}
	b.SetBytes(total / int64(b.N))
}
