package admin

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ternmq/tern/internal/broker"
)

// CleanerCore is what the log cleaner's metrics read; *broker.Broker
// implements it. Watch registers them when the core does.
type CleanerCore interface {
	CleanerStats() broker.CleanerStats
}

// cleanerCollector turns the log cleaner's figures into metrics at scrape
// time.
type cleanerCollector struct {
	core CleanerCore

	passes, errs, read, written, reclaimed, removed *prometheus.Desc
	dirtyRatio, uncleanable, uncleanableLogs        *prometheus.Desc
}

func newCleanerCollector(core CleanerCore) *cleanerCollector {
	d := prometheus.NewDesc
	lg := []string{"log"}
	return &cleanerCollector{
		core:            core,
		passes:          d("tern_log_cleaner_passes_total", "Logs the cleaner compacted (one per log and pass) since the node started.", nil, nil),
		errs:            d("tern_log_cleaner_errors_total", "Logs the cleaner marked uncleanable after an error since the node started.", nil, nil),
		read:            d("tern_log_cleaner_read_bytes_total", "Segment bytes the cleaner read and rewrote.", nil, nil),
		written:         d("tern_log_cleaner_written_bytes_total", "Segment bytes the cleaner wrote in their place.", nil, nil),
		reclaimed:       d("tern_log_cleaner_reclaimed_bytes_total", "Bytes compaction freed: read minus written.", nil, nil),
		removed:         d("tern_log_cleaner_removed_records_total", "Records compaction dropped (superseded, expired tombstones, keyless).", nil, nil),
		dirtyRatio:      d("tern_log_cleaner_dirty_ratio", "Share of a compacted log's sealed bytes not cleaned yet, as of the last pass; cleaning starts above min.cleanable.dirty.ratio.", lg, nil),
		uncleanable:     d("tern_log_cleaner_uncleanable", "1 when an error stopped a log's compaction until restart.", lg, nil),
		uncleanableLogs: d("tern_log_cleaner_uncleanable_logs", "Compacted logs whose cleaning an error stopped until restart.", nil, nil),
	}
}

func (c *cleanerCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c *cleanerCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.core.CleanerStats()
	m := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, v, labels...)
	}
	counter, gauge := prometheus.CounterValue, prometheus.GaugeValue
	m(c.passes, counter, float64(st.Passes))
	m(c.errs, counter, float64(st.Errors))
	m(c.read, counter, float64(st.BytesRead))
	m(c.written, counter, float64(st.BytesWritten))
	m(c.reclaimed, counter, float64(max(st.BytesRead-st.BytesWritten, 0)))
	m(c.removed, counter, float64(st.RecordsRemoved))
	bad := 0
	for _, l := range st.Logs {
		u := 0.0
		if l.Uncleanable {
			u, bad = 1, bad+1
		}
		m(c.dirtyRatio, gauge, l.DirtyRatio, l.Log)
		m(c.uncleanable, gauge, u, l.Log)
	}
	m(c.uncleanableLogs, gauge, float64(bad))
}
