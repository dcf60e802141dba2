// Package admin is the operators' HTTP face of a node: health checks
// (/healthz, /readyz) and Prometheus metrics (/metrics). Later the admin
// API and the web console join it on the same listener.
//
// It is an adapter like the Kafka and AMQP ones: it reads the broker core
// through the small Core interface and never reaches into protocol code.
// Metrics are gathered two ways. Gauges and counters the core already
// keeps (offsets, queue depths, per-partition and per-queue counters,
// group lag) are read at scrape time by a collector (collector.go), so a
// node with no scraper pays nothing for them. Latencies that must be
// observed as they happen — fsync, Kafka requests — are histograms fed by
// hooks the server package installs in the storage engine and the Kafka
// adapter (metrics.go). Every metric lives in the node's own registry: no
// global state, so two nodes in one test process do not share series.
package admin
