package kafka_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// BenchmarkConsumerGroupJoinLeave measures a member joining then leaving a
// group while another consumes a 6-partition topic fed every millisecond
// (runJoinLeave): how long the newcomer waits for its first partitions
// (first-assign-ms) and the longest the steady member goes without a
// record from the partitions it keeps (max-gap-ms), for the consumer
// protocol (KIP-848, server-side uniform and range) and its peer, the
// classic protocol with the cooperative-sticky balancer. Heartbeats every
// 100 ms on both sides, and at the defaults (consumer protocol: the
// broker's 5 s; classic: franz-go's 3 s). Run with -benchtime=3x: one
// iteration is a whole join and leave.
func BenchmarkConsumerGroupJoinLeave(b *testing.B) {
	for _, tc := range []struct {
		name     string
		interval time.Duration // 0: the defaults
		opts     []kgo.Opt
	}{
		{"kip848-uniform/hb=100ms", 100 * time.Millisecond, nextGen(kgo.StickyBalancer())},
		{"kip848-range/hb=100ms", 100 * time.Millisecond, nextGen(kgo.RangeBalancer())},
		{"classic-cooperative-sticky/hb=100ms", 100 * time.Millisecond, []kgo.Opt{kgo.Balancers(kgo.CooperativeStickyBalancer()), kgo.HeartbeatInterval(100 * time.Millisecond)}},
		{"kip848-uniform/hb=default", 0, nextGen(kgo.StickyBalancer())},
		{"classic-cooperative-sticky/hb=default", 0, []kgo.Opt{kgo.Balancers(kgo.CooperativeStickyBalancer())}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			br := testbroker.Start(b, testbroker.WithConfig(func(c *config.Config) {
				if tc.interval > 0 {
					c.Group.ConsumerHeartbeatInterval = tc.interval
				}
			}))
			opts := append([]kgo.Opt{kgo.SessionTimeout(45 * time.Second)}, tc.opts...)
			var assign, gap time.Duration
			dups := 0
			i := 0
			for b.Loop() {
				res := runJoinLeave(b, br.Addr, fmt.Sprintf("bench-%d", i), opts)
				assign += res.firstAssignment
				gap = max(gap, res.maxGap)
				dups += res.duplicates + res.missing
				i++
			}
			b.ReportMetric(float64(assign.Milliseconds())/float64(i), "first-assign-ms")
			b.ReportMetric(float64(gap.Milliseconds()), "max-gap-ms")
			b.ReportMetric(float64(dups), "dup+missing")
			b.ReportMetric(0, "ns/op")
		})
	}
}
