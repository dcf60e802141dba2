package admin

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ternmq/tern/internal/broker"
)

// Core is what the metrics and health endpoints read from the broker
// core; *broker.Broker implements it.
type Core interface {
	PartitionStats() []broker.PartitionStats
	QueueStats() []broker.QueueStats
	GroupLags() []broker.GroupLag
	DiskFree() (int64, error)
}

// coreCollector turns the core's snapshots into metrics at scrape time.
type coreCollector struct {
	core  Core
	conns map[string]func() int

	connections *prometheus.Desc
	diskFree    *prometheus.Desc

	partStart, partHW, partSize              *prometheus.Desc
	partRecords, partBytesIn, partBytesOut   *prometheus.Desc
	groupLag, groupLagAge, groupCommitted    *prometheus.Desc
	qReady, qUnacked, qConsumers, qReadyB    *prometheus.Desc
	qPublished, qDelivered, qAcked, qHeadAge *prometheus.Desc
}

func newCoreCollector(core Core, conns map[string]func() int) *coreCollector {
	part := []string{"topic", "partition"}
	grp := []string{"group", "topic", "partition"}
	q := []string{"vhost", "queue"}
	d := prometheus.NewDesc
	return &coreCollector{
		core: core, conns: conns,
		connections: d("tern_connections", "Open client connections by protocol.", []string{"protocol"}, nil),
		diskFree:    d("tern_disk_free_bytes", "Free bytes on the data directory's filesystem (for non-root users).", nil, nil),

		partStart:    d("tern_partition_start_offset", "First offset still in the partition's log.", part, nil),
		partHW:       d("tern_partition_high_watermark", "Offset after the last record consumers may read.", part, nil),
		partSize:     d("tern_partition_size_bytes", "Size of the partition's log on disk.", part, nil),
		partRecords:  d("tern_partition_produced_records_total", "Records appended by producers since the node started.", part, nil),
		partBytesIn:  d("tern_partition_produced_bytes_total", "Record-batch bytes appended by producers since the node started.", part, nil),
		partBytesOut: d("tern_partition_fetched_bytes_total", "Record-batch bytes answered to fetches since the node started.", part, nil),

		groupLag:       d("tern_group_lag_messages", "Messages between a consumer group's committed offset and the partition's high watermark.", grp, nil),
		groupLagAge:    d("tern_group_lag_seconds", "Age of the oldest record a consumer group has not consumed: now minus its timestamp (0 when caught up).", grp, nil),
		groupCommitted: d("tern_group_committed_offset", "A consumer group's committed offset.", grp, nil),

		qReady:     d("tern_queue_messages_ready", "Messages ready to be delivered.", q, nil),
		qUnacked:   d("tern_queue_messages_unacked", "Messages delivered and not yet acknowledged.", q, nil),
		qConsumers: d("tern_queue_consumers", "Consumers of the queue.", q, nil),
		qReadyB:    d("tern_queue_ready_bytes", "Body bytes of ready messages (estimated when no byte limit is set).", q, nil),
		qPublished: d("tern_queue_published_total", "Messages the queue accepted since the node started.", q, nil),
		qDelivered: d("tern_queue_delivered_total", "Messages handed to consumers or basic.get since the node started.", q, nil),
		qAcked:     d("tern_queue_acked_total", "Messages acknowledged since the node started.", q, nil),
		qHeadAge:   d("tern_queue_head_age_seconds", "How long the oldest ready message has waited: the queue's lag in time (0 when empty).", q, nil),
	}
}

func (c *coreCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c *coreCollector) Collect(ch chan<- prometheus.Metric) {
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	m := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, v, labels...)
	}
	for proto, n := range c.conns {
		m(c.connections, gauge, float64(n()), proto)
	}
	if free, err := c.core.DiskFree(); err == nil {
		m(c.diskFree, gauge, float64(free))
	}
	for _, p := range c.core.PartitionStats() {
		l := []string{p.Topic, strconv.Itoa(int(p.Partition))}
		m(c.partStart, gauge, float64(p.StartOffset), l...)
		m(c.partHW, gauge, float64(p.HighWatermark), l...)
		m(c.partSize, gauge, float64(p.SizeBytes), l...)
		m(c.partRecords, counter, float64(p.ProducedRecords), l...)
		m(c.partBytesIn, counter, float64(p.ProducedBytes), l...)
		m(c.partBytesOut, counter, float64(p.FetchedBytes), l...)
	}
	for _, g := range c.core.GroupLags() {
		l := []string{g.Group, g.Topic, strconv.Itoa(int(g.Partition))}
		m(c.groupLag, gauge, float64(g.Lag), l...)
		m(c.groupLagAge, gauge, g.LagAge.Seconds(), l...)
		m(c.groupCommitted, gauge, float64(g.Committed), l...)
	}
	for _, q := range c.core.QueueStats() {
		l := []string{q.VHost, q.Name}
		m(c.qReady, gauge, float64(q.Ready), l...)
		m(c.qUnacked, gauge, float64(q.Unacked), l...)
		m(c.qConsumers, gauge, float64(q.Consumers), l...)
		m(c.qReadyB, gauge, float64(q.ReadyBytes), l...)
		m(c.qPublished, counter, float64(q.Published), l...)
		m(c.qDelivered, counter, float64(q.Delivered), l...)
		m(c.qAcked, counter, float64(q.Acked), l...)
		m(c.qHeadAge, gauge, q.HeadAge.Seconds(), l...)
	}
}
