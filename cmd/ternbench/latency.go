package main

import (
	"context"
	"fmt"
	"log/slog"
)

// latencyLevel is one paced run of the latency scenario.
type latencyLevel struct {
	Load         float64 `json:"load"` // fraction of the peak
	Rate         float64 `json:"rate"` // offered publish rate, msgs/s
	PeakMsgs     float64 `json:"peak_msgs_s"`
	DeliverMsgs  float64 `json:"deliver_msgs_s"`
	E2EP50Ms     float64 `json:"e2e_p50_ms"`
	E2EP99Ms     float64 `json:"e2e_p99_ms"`
	E2EP999Ms    float64 `json:"e2e_p999_ms"`
	E2EMaxMs     float64 `json:"e2e_max_ms"`
	ConfirmP99Ms float64 `json:"confirm_p99_ms"`
}

// latencyScenario is the queue workload run first unpaced, to find the
// peak a broker sustains end to end (the lower of its publish rate and
// its delivery rate while publishers run: above it the queue only grows),
// then paced at fixed fractions
// of that peak, open loop. Latency at a fixed offered load is what tells
// brokers apart; latency at saturation only measures a growing backlog.
// Paced latencies count from each message's due time, so a stalled
// publisher cannot hide the stall (coordinated omission).
func latencyScenario() scenario {
	return scenario{
		name: "latency",
		usage: "AMQP: the queue workload unpaced for -duration to find the peak (the lower of publish msg/s and deliver msg/s while publishing), " +
			"then paced at each -latency-loads fraction of it (or of -latency-peak) for -duration each; publish→delivery p50/p99/p99.9 per load, " +
			"from each message's due time (corrected for coordinated omission)",
		run: func(ctx context.Context, o options, log *slog.Logger) (result, error) {
			w := amqpWorkload{prefix: "latency", queues: 1, publishers: o.publishers, consumersPerQueue: o.consumers}
			var res result
			peak := o.latencyPeak
			if peak == 0 {
				peakOpts := o
				peakOpts.rate = 0
				var err error
				if res, err = runAMQP(ctx, peakOpts, w, log); err != nil {
					return res, fmt.Errorf("peak run: %w", err)
				}
				live := res.ConsumeLiveMsgs
				if live <= 0 { // a run too short to see deliveries while publishing
					live = res.ConsumeMsgs
				}
				peak = min(res.ProduceMsgs, live)
				log.Info("peak measured", "publish_msgs_s", res.ProduceMsgs, "deliver_live_msgs_s", res.ConsumeLiveMsgs, "peak_msgs_s", peak)
			}
			res.LatencyPeakMsgs, res.LatencyPeakGiven = peak, o.latencyPeak > 0
			for _, f := range o.latencyLoads {
				lo := o
				lo.rate = f * peak
				r, err := runAMQP(ctx, lo, w, log)
				if err != nil {
					return res, fmt.Errorf("run at %.0f%% of peak: %w", f*100, err)
				}
				if res.Queues == 0 { // no peak run: describe the workload by the first paced one
					res = r
					res.LatencyPeakMsgs, res.LatencyPeakGiven = peak, true
				}
				res.Latency = append(res.Latency, latencyLevel{
					Load: f, Rate: round(lo.rate, 0), PeakMsgs: peak, DeliverMsgs: r.ConsumeMsgs,
					E2EP50Ms: r.E2EP50Ms, E2EP99Ms: r.E2EP99Ms, E2EP999Ms: r.E2EP999Ms, E2EMaxMs: r.E2EMaxMs,
					ConfirmP99Ms: r.P99Ms,
				})
			}
			return res, nil
		},
	}
}
