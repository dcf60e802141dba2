// Package exchange is AMQP 0-9-1 routing with RabbitMQ's semantics, for one
// virtual host: exchanges (direct, fanout, topic, headers), bindings to
// queues and to exchanges, alternate exchanges, auto-delete, the default
// exchange and the predeclared amq.* exchanges. It is protocol-neutral and
// deterministic: it imports only the standard library (no wire codec:
// arguments and headers are plain Go values, see Args), reads no clock,
// does no I/O and starts no goroutine.
//
// # Shape
//
//	Router  (mutable, one owner)          Table  (immutable, shared)
//	  DeclareExchange / DeleteExchange      Route(exchange, key, headers)
//	  AddQueue / RemoveQueue                RouteKeys(exchange, keys, headers)
//	  Bind / Unbind
//	  Exchange, HasQueue (lookups)
//	  Snapshot / Restore / Apply  (persistence)
//	  Table() ───────────────────────────►  current routing snapshot
//
// The Router checks every rule and keeps the bookkeeping; each mutation
// also produces a new Table that shares everything it did not change
// (persistent hash tries, hamt.go; a copy-on-write topic trie, topic.go),
// so one binding change costs O(log n), not a rebuild, and Table() is O(1).
//
// # Concurrency contract
//
// A Router is not safe for concurrent use: one goroutine (the core's
// metadata loop) owns it and serializes every call. A *Table is never
// modified once returned, so any number of goroutines may call Route on it
// concurrently without locks. The intended wiring: after each mutation
// the owner stores r.Table() in an atomic.Pointer[Table]; publishers Load
// it per message. A publish sees the topology as of the Table it loaded;
// the owner must publish the new Table before answering the client's
// bind-ok/declare-ok so that later publishes on that connection see it.
//
// # Queues
//
// Queues belong to the broker core; the Router only needs their names
// (the default exchange routes to the queue named by the routing key,
// binding to a missing queue is 404) and whether they are durable (a
// binding is durable when both ends are). The core calls AddQueue when it
// declares a queue and RemoveQueue when it deletes one; RemoveQueue drops
// the queue's bindings and auto-deletes exchanges left without bindings.
//
// # Errors
//
// Methods return sentinels wrapped with context; the AMQP adapter maps
// them: ErrNotFound 404, ErrAccessRefused 403, ErrPreconditionFailed 406
// (ErrInUse is also ErrPreconditionFailed), ErrCommandInvalid 503
// (connection error). ErrInvalidSnapshot is internal (corrupt metadata).
// Failed mutations change nothing.
//
// # Routing (RabbitMQ's rabbit_exchange:route/2)
//
// Starting from the exchange published to (404 if missing, 403 if
// internal), each exchange reached is matched once: its bindings' queue
// destinations are collected and its exchange destinations join a work
// list unless already seen (so exchange-to-exchange cycles end). If an
// exchange's own bindings matched nothing at all (not even an exchange),
// its alternate-exchange argument (a string naming an exchange; a missing
// one is ignored) joins the work list the same way, so AE chains and AE
// cycles end too. Internal exchanges are reachable this way. The result
// is the set of queues, sorted by name: deterministic, each queue once.
// Route allocates only its result.
//
//   - direct: binding key == routing key; fanout: every binding.
//   - topic: words split on '.' ("" is zero words, "a." is "a" and ""),
//     "*" is exactly one word, "#" zero or more, anywhere and repeated;
//     wildcards only as whole words. Matching walks a trie with
//     memoization of (node, word) pairs below "#", so "#.#.#..." patterns
//     stay linear.
//   - headers: x-match all (default), any, all-with-x, any-with-x; any
//     other value or a non-string is refused at bind time (406). x-match
//     itself never takes part; other "x-" binding keys take part only in
//     the -with-x modes. A nil binding value matches the header's
//     presence. Values compare as Erlang's == does in RabbitMQ: numbers of
//     any width and kind by value (int8(5) == int64(5) == 5.0), timestamps
//     (time.Time) as their Unix seconds, string and []byte by bytes, bool
//     only with bool, nil only with nil. "all" with nothing to compare
//     matches every message; "any" with nothing to compare matches none.
//   - default exchange "": the queue named by the routing key, if known.
//   - RouteKeys routes several keys at once (routing key plus CC/BCC):
//     the alternate exchange is used only if no key matched anything.
//
// # Declaring, binding, deleting
//
// Exactly RabbitMQ's checks, in its order: unknown type 503; "" 403;
// redeclare compares type, durable, auto-delete, internal and the
// alternate-exchange argument (other arguments are not compared, as in
// RabbitMQ) else 406; a new name starting with "amq." 403. Delete: "" and
// amq.* 403, missing exchange succeeds, if-unused counts only bindings
// from the exchange. Bind/unbind: "" as source or destination 403, missing
// source or destination 404; rebinding and unbinding what is not bound
// succeed with no change. Bindings are identified by source, destination,
// routing key and arguments. An auto-delete exchange is deleted when its
// last binding as a source is removed (by unbind, queue removal or
// deletion of a destination exchange), cascading.
//
// # Persistence (persist.go)
//
// Every mutation returns []Change (its effects in order, cascades
// spelled out); the core appends those with Durable() to its metadata
// log and replays them with Apply. Snapshot/Restore serve compaction;
// Snapshot.Durable keeps what survives a restart. The records are
// versioned and marshal to JSON losslessly (Args tags each value's type).
//
// # Deviations from RabbitMQ
//
//   - Nested tables in headers compare by key set (Go maps have no order)
//     and values by the same value rules; RabbitMQ compares nested tables
//     as ordered, type-tagged lists.
//   - An alternate exchange of "" routes by queue name (older RabbitMQ
//     did; newer versions route nothing there).
//   - Not here, by design: permissions, exclusive-queue checks and the
//     direct reply-to pseudo-queue (adapter); policies (an AE can only
//     come from the argument); plugin exchange types (x-consistent-hash,
//     x-delayed-message, ...) are 503; amq.rabbitmq.trace is not
//     predeclared.
package exchange
