// Package admin is the operators' HTTP face of a node, on one listener:
// the JSON admin API (/api), the web console (/, package console), health
// checks (/healthz, /readyz) and Prometheus metrics (/metrics).
//
// It is an adapter like the Kafka and AMQP ones: it translates HTTP into
// calls of the broker core and never reaches into protocol code. It uses
// only the leaf codecs (message for record batches, amqp/spec for AMQP
// properties) to browse and publish.
//
// The API (api.go, one api_*.go file per resource) keeps the shapes of
// RabbitMQ's management API where one exists (queues, exchanges,
// bindings, users, permissions, overview), so existing scripts work;
// topics, records, consumer groups and tasks are Tern's. openapi.json
// describes every route, and a test keeps the two in step. It needs HTTP
// basic auth of a user tagged administrator. The server starts before
// the core recovers its logs: until Attach, /api answers 503 except
// /api/tasks, which shows the recovery's progress.
//
// Metrics are gathered two ways. Gauges and counters the core already
// keeps (offsets, queue depths, per-partition and per-queue counters,
// group lag in messages and seconds) are read at scrape time by a
// collector (collector.go) through the small Core interface, so a node
// with no scraper pays nothing for them. Latencies that must be observed
// as they happen — fsync, Kafka requests — are histograms fed by hooks
// the server package installs in the storage engine and the Kafka adapter
// (metrics.go). Every metric lives in the node's own registry: no global
// state, so two nodes in one test process do not share series.
package admin
