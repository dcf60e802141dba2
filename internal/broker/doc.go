// Package broker is Tern's protocol-neutral core. Both protocol adapters
// (internal/kafka today, internal/amqp next) translate wire requests into
// calls on *Broker and map its sentinel errors (errors.go) back to wire
// codes; routing, retention, idempotence and group logic live here, once.
//
// What it owns:
//   - the catalog of topics and their configs, kept durable as a log of
//     changes (catalog.go, topic.go, configs*.go) in DataDir/__cluster_metadata-0;
//   - partitions (partition.go): one storage.Log each, the idempotent
//     producer state (producer.go) and the fetches parked on them;
//   - produce (produce.go): validate batches, check sequences, write in
//     order, then wait for durability outside the lock (group commit);
//   - fetch (fetch.go): long polls woken by high-watermark moves, never by
//     polling; results are file ranges the adapter copies to the socket;
//   - the consumer-group coordinator (package group), journaled to
//     DataDir/__consumer_offsets-0 (groups.go);
//   - retention, run on a ticker (broker.go), and log compaction: one
//     cleaner (internal/compact) over compacted partitions and the group
//     log (compaction.go);
//   - users, their logins and connection counts (users.go, logins.go),
//     Kafka ACLs with the authorization decisions made from them (acl.go,
//     acl_authorize.go), AMQP virtual hosts (amqpvhost.go, vhosts.go) and
//     the permission policy every front end applies: which permission
//     each operation needs and how a pattern matches (authz.go); all kept
//     in the catalog.
//
// Invariants: a record is visible to fetchers only once it is durable
// under its topic's fsync policy (the high watermark follows durability
// on a single node); a partition's write order is the order of Produce
// calls; the core imports no wire types (kmsg, AMQP spec).
//
// Imports: broker/group, message, storage, compact. The design brief places
// replication between the core and storage; until it exists, partitions
// hold a *storage.Log directly (docs/decisions/0002-core-over-storage.md).
package broker
