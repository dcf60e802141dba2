package admin

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metrics is a node's Prometheus registry and the histograms its hooks
// feed. Create it before the broker opens (the fsync hook is part of the
// broker's config), then Watch the core once it is open.
type Metrics struct {
	reg     *prometheus.Registry
	fsync   prometheus.Histogram
	kafkaRq *prometheus.HistogramVec
	// kafkaAPIs caches each API key's histogram (a prometheus.Observer),
	// so the request hook does no label lookup per request.
	kafkaAPIs [kmsgMaxKey + 1]atomic.Value
}

// kmsgMaxKey bounds the API keys the request hook keeps a histogram for;
// larger ones (none are served) share the "unknown" series.
const kmsgMaxKey = 127

// NewMetrics makes the registry with the process and Go runtime
// collectors (memory, CPU, file descriptors, goroutines).
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	m.fsync = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "tern_fsync_duration_seconds",
		Help: "Duration of each group-commit fdatasync of any log (topic partitions, queues, internal logs).",
		// 50 µs … 1.6 s: a healthy SSD flush sits at the low end, a
		// saturated or failing disk at the high one.
		Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16),
	})
	m.kafkaRq = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "tern_kafka_request_duration_seconds",
		Help: "Kafka requests by API, from read off the socket to answer written (long polls included); _count is the request count.",
		// 100 µs … 26 s, so a Fetch long poll of max.wait.ms lands in a bucket.
		Buckets: prometheus.ExponentialBuckets(100e-6, 2, 19),
	}, []string{"api"})
	m.reg.MustRegister(m.fsync, m.kafkaRq)
	return m
}

// ObserveFsync is the storage engine's OnSync hook.
func (m *Metrics) ObserveFsync(d time.Duration) { m.fsync.Observe(d.Seconds()) }

// ObserveKafkaRequest is the Kafka adapter's Observer hook. It runs on a
// connection's writer goroutine; the per-key histogram is looked up once.
func (m *Metrics) ObserveKafkaRequest(key int16, d time.Duration) {
	if key < 0 || int(key) > kmsgMaxKey {
		m.kafkaRq.WithLabelValues("unknown").Observe(d.Seconds())
		return
	}
	o, _ := m.kafkaAPIs[key].Load().(prometheus.Observer)
	if o == nil {
		// Racing first observations may both look the series up; they
		// get the same one, so either store is right.
		name := kmsg.NameForKey(key)
		if name == "" {
			name = "unknown"
		}
		o = m.kafkaRq.WithLabelValues(name)
		m.kafkaAPIs[key].Store(o)
	}
	o.Observe(d.Seconds())
}

// Watch registers the collector that reads the core, and the connection
// counts of each protocol listener, at scrape time.
func (m *Metrics) Watch(core Core, conns map[string]func() int) {
	m.reg.MustRegister(newCoreCollector(core, conns))
	if cc, ok := core.(CleanerCore); ok {
		m.reg.MustRegister(newCleanerCollector(cc))
	}
}

// Registry is the node's registry, for the /metrics handler and tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }
