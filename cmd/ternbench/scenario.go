package main

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// A scenario is one workload. Each lives in its own file (log.go for Kafka;
// queue.go and fanout.go for AMQP, on the engine in amqp.go) and is listed in
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
		queueScenario(),
		fanoutScenario(),
		backlogScenario(),
		latencyScenario(),
		jsLogScenario(),
	}
}

// result is the JSON summary line of one scenario run. Rates use
// MB = 10^6 bytes of record values (keys and headers are empty);
// latencies are per record, from the Produce call to the ack callback.
//
// For the AMQP scenarios (queue, fanout) broker is the URL without its
// password, topic the queue (or exchange) name, producers the publishers,
// records/produce_* the confirmed publishes, p50_ms… the publish→confirm
// latency, consumed_records/consume_* the deliveries over all queues and
// e2e_* the publish→delivery latency (timestamp in the body).
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
	Queues     int     `json:"queues,omitempty"`     // AMQP
	Prefetch   int     `json:"prefetch,omitempty"`   // AMQP
	AckEvery   int     `json:"ack_every,omitempty"`  // AMQP: multiple-ack every k deliveries (1: each)
	Rate       float64 `json:"rate,omitempty"`       // AMQP: offered publish rate, msgs/s (0: unpaced)
	QueueType  string  `json:"queue_type,omitempty"` // AMQP: x-queue-type ("": default)

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
	ConsumeLiveMsgs float64 `json:"consume_live_msgs_s,omitempty"` // AMQP: deliveries/s while publishers ran
	Redelivered     int64   `json:"redelivered,omitempty"`         // AMQP
	E2EP50Ms        float64 `json:"e2e_p50_ms,omitempty"`          // AMQP
	E2EP99Ms        float64 `json:"e2e_p99_ms,omitempty"`
	E2EP999Ms       float64 `json:"e2e_p999_ms,omitempty"`
	E2EMaxMs        float64 `json:"e2e_max_ms,omitempty"`

	// Latency is the latency scenario's runs at fixed fractions of the
	// peak; the fields above are the peak run's (with -latency-peak,
	// the first paced run's).
	Latency          []latencyLevel `json:"latency,omitempty"`
	LatencyPeakMsgs  float64        `json:"latency_peak_msgs_s,omitempty"`
	LatencyPeakGiven bool           `json:"latency_peak_given,omitempty"` // -latency-peak: not this broker's own

	// RSS samples the broker's resident set (with -broker-pid).
	RSSMaxMB float64     `json:"rss_max_mb,omitempty"`
	RSS      []rssSample `json:"rss,omitempty"`

	Command   string  `json:"command"`  // the ternbench command line that measured it
	DurationS float64 `json:"duration"` // whole scenario, seconds
	Time      string  `json:"time"`     // start, RFC 3339 UTC
	Go        string  `json:"go"`
	CPUs      int     `json:"cpus"`
}

// resourceName is the topic, queue or stream a run works on: -topic, or
// a fresh ternbench-KIND-UNIXNANO so runs never meet each other's data.
func (o options) resourceName(kind string) string {
	if o.topic != "" {
		return o.topic
	}
	return fmt.Sprintf("ternbench-%s-%d", kind, time.Now().UnixNano())
}

// round rounds v to n decimals so the JSON line stays readable.
func round(v float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(v*p) / p
}

// randomPool returns at least minBytes (and 4 record sizes) of random
// bytes. Record values are windows of it: incompressible, cheap to make,
// and distinct enough that nothing downstream can dedupe them.
func randomPool(minBytes, size int) ([]byte, error) {
	pool := make([]byte, max(minBytes, 4*size))
	if _, err := crand.Read(pool); err != nil {
		return nil, fmt.Errorf("random payload: %w", err)
	}
	return pool, nil
}

// claimWindow is the context that ends the claiming of new records: by
// the returned cancel, or once d has passed when d > 0. Records already
// handed to a client are not cut off by it.
func claimWindow(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return context.WithCancel(ctx)
}

// fillProduce sets the produce fields of res from a produce phase.
func (pr *produceResult) fillProduce(res *result, size int) {
	res.Records = pr.acked
	res.ProduceS = round(pr.elapsed.Seconds(), 3)
	res.ProduceMBs = round(float64(pr.acked)*float64(size)/1e6/pr.elapsed.Seconds(), 2)
	res.ProduceMsgs = round(float64(pr.acked)/pr.elapsed.Seconds(), 0)
	res.P50Ms, res.P99Ms, res.P999Ms = pr.hist.quantile(0.50), pr.hist.quantile(0.99), pr.hist.quantile(0.999)
	res.MaxMs, res.MeanMs = usToMs(pr.hist.max), round(pr.hist.meanMs(), 3)
}

// fillConsume sets the consume fields of res from a consume phase.
func (cr *consumeResult) fillConsume(res *result) {
	res.ConsumedRecords = cr.records
	res.ConsumeS = round(cr.elapsed.Seconds(), 3)
	res.ConsumeMBs = round(float64(cr.bytes)/1e6/cr.elapsed.Seconds(), 2)
	res.ConsumeMsgs = round(float64(cr.records)/cr.elapsed.Seconds(), 0)
}
