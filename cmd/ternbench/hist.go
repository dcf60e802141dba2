package main

import (
	"math"
	"math/bits"
	"time"
)

// histogram is a log-bucketed latency histogram in microseconds, in the
// manner of HdrHistogram: values below 2^subBits µs are exact, larger ones
// fall in buckets 1/2^subBits of their power of two wide, so every
// reported quantile is within 0.8% of the true value. It is not safe for
// concurrent use; give each producer its own and merge them.
type histogram struct {
	counts [64 << subBits]uint64
	n      uint64
	sum    uint64
	min    uint64
	max    uint64
}

const (
	subBits  = 7
	subCount = 1 << subBits
)

func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - subBits
	return (shift+1)<<subBits + int((v>>shift)&(subCount-1))
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i)
	}
	shift := i>>subBits - 1
	lo = (subCount | uint64(i&(subCount-1))) << shift
	return lo, lo + (1 << shift) - 1
}

// record adds one observation.
func (h *histogram) record(d time.Duration) {
	v := uint64(max(d.Microseconds(), 0))
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	h.max = max(h.max, v)
	h.n++
	h.sum += v
}

// merge adds every observation of o to h.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// quantile returns the value at quantile q (0 < q ≤ 1) in milliseconds:
// the midpoint of the bucket holding the ⌈q·n⌉-th smallest observation,
// clamped to the exact minimum and maximum. It is 0 when h is empty.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			mid := lo + (hi-lo)/2
			return usToMs(min(max(mid, h.min), h.max))
		}
	}
	return usToMs(h.max)
}

func (h *histogram) meanMs() float64 {
	if h.n == 0 {
		return 0
	}
	return float64(h.sum) / float64(h.n) / 1000
}

func usToMs(v uint64) float64 { return float64(v) / 1000 }
