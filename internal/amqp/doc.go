// Package amqp is Tern's AMQP 0-9-1 adapter with RabbitMQ's semantics: a
// connection state machine (conn.go: protocol header, PLAIN/AMQPLAIN
// authentication, tune, heartbeats, connection.close), channels
// (channel.go: content assembly, soft errors that close only the
// channel), and one file per concern translating methods to the broker
// core: topology.go (exchange.*, queue.*), basic.go (publish, consume,
// deliveries, get, ack/nack/reject, qos, recover, confirms), tx.go.
// Before each method that touches a queue or exchange it asks the core
// whether the connection's user may (broker.Principal) and sends a
// refusal as 403; the policy is not decided here.
//
// The adapter keeps no durable state: exchanges, queues, bindings,
// messages and acks live in the core (internal/broker, packages exchange
// and queue) over the storage engine. Reply codes are decided in one
// table (errors.go). Wire encoding is generated (package spec).
package amqp
