package main

import (
	"context"
	"log/slog"
	"math"
)

// A scenario is one workload. Each lives in its own file (log.go; later
// queue.go, fanout.go, latency.go, backlog.go for AMQP) and is listed in
// scenarios(). run must honour ctx, bound its own time and record count,
// clean up what it created, and fill the measured fields of result;
// main fills the common ones (scenario, brokers, time, duration).
type scenario struct {
	name  string
	usage string
	run   func(ctx context.Context, o options, log *slog.Logger) (result, error)
}

// scenarios lists every scenario, in the order -h shows them.
func scenarios() []scenario {
	return []scenario{
		logScenario(),
	}
}

// result is the JSON summary line of one scenario run. Rates use
// MB = 10^6 bytes of record values (keys and headers are empty);
// latencies are per record, from the Produce call to the ack callback.
type result struct {
	Scenario   string  `json:"scenario"`
	Label      string  `json:"label,omitempty"`
	Brokers    string  `json:"broker"`
	Topic      string  `json:"topic"`
	Partitions int     `json:"partitions"`
	Size       int     `json:"size"`
	Producers  int     `json:"producers"`
	Consumers  int     `json:"consumers"`
	Inflight   int     `json:"inflight"`
	LingerMs   float64 `json:"linger_ms"`

	TargetRecords int64   `json:"target_records"`
	Records       int64   `json:"records"` // acknowledged by the broker
	ProduceS      float64 `json:"produce_s"`
	ProduceMBs    float64 `json:"produce_mb_s"`
	ProduceMsgs   float64 `json:"produce_msgs_s"`
	P50Ms         float64 `json:"p50_ms"`
	P99Ms         float64 `json:"p99_ms"`
	P999Ms        float64 `json:"p999_ms"`
	MaxMs         float64 `json:"max_ms"`
	MeanMs        float64 `json:"mean_ms"`

	ConsumedRecords int64   `json:"consumed_records"`
	ConsumeS        float64 `json:"consume_s"`
	ConsumeMBs      float64 `json:"consume_mb_s"`
	ConsumeMsgs     float64 `json:"consume_msgs_s"`

	DurationS float64 `json:"duration"` // whole scenario, seconds
	Time      string  `json:"time"`     // start, RFC 3339 UTC
	Go        string  `json:"go"`
	CPUs      int     `json:"cpus"`
}

// round rounds v to n decimals so the JSON line stays readable.
func round(v float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(v*p) / p
}
