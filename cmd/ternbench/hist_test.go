package main

import (
	"math"
	"testing"
	"time"
)

func TestBucketRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 257, 1000, 1 << 20, 123456789, math.MaxUint64 >> 1} {
		lo, hi := bucketRange(bucketOf(v))
		if v < lo || v > hi {
			t.Errorf("value %d in bucket %d = [%d, %d]", v, bucketOf(v), lo, hi)
		}
		if lo > 0 && float64(hi-lo)/float64(lo) > 1.0/subCount {
			t.Errorf("bucket of %d too wide: [%d, %d]", v, lo, hi)
		}
	}
}

func TestQuantiles(t *testing.T) {
	tests := []struct {
		name string
		vals []time.Duration // each recorded once
		q    float64
		want float64 // ms
	}{
		{"empty", nil, 0.5, 0},
		{"single", []time.Duration{3 * time.Millisecond}, 0.99, 3},
		{"exact small", []time.Duration{10 * time.Microsecond, 20 * time.Microsecond, 30 * time.Microsecond}, 0.5, 0.02},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h histogram
			for _, v := range tc.vals {
				h.record(v)
			}
			if got := h.quantile(tc.q); math.Abs(got-tc.want) > tc.want/subCount+1e-9 {
				t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}

	// 1..10000 ms uniformly: p50 ≈ 5000 ms, p99 ≈ 9900 ms, within 1%.
	var a, b histogram
	for i := 1; i <= 10000; i++ {
		if i%2 == 0 {
			a.record(time.Duration(i) * time.Millisecond)
		} else {
			b.record(time.Duration(i) * time.Millisecond)
		}
	}
	a.merge(&b)
	for q, want := range map[float64]float64{0.5: 5000, 0.99: 9900, 0.999: 9990, 1: 10000} {
		if got := a.quantile(q); math.Abs(got-want)/want > 0.01 {
			t.Errorf("merged quantile(%v) = %v, want ≈%v", q, got, want)
		}
	}
	if a.n != 10000 || a.min != 1000 || a.max != 10000000 {
		t.Errorf("merged n=%d min=%d max=%d", a.n, a.min, a.max)
	}
}
