// Package queue is the delivery state machine of an AMQP 0-9-1 queue
// stored as a log (docs/decisions/0003-amqp-queues-over-logs.md), with
// RabbitMQ's semantics: prefetch, fair round-robin dispatch, consumer
// priorities, exclusive and single-active consumers, ack/nack/reject with
// requeue keeping a message's place, redelivered flags, channel close
// requeueing, max-length overflow, dead-lettering reasons, purge and
// priority queues. It imports only the standard library.
//
// # Shape
//
// As in etcd-raft, a deterministic core: a Queue takes events (Append,
// AddConsumer, Ack, Reject, ChannelClosed, Expire, …) and returns what to
// do: Deliveries (offsets to read from the log and send) and Effects
// (ranges to persist in the acks log, messages to dead-letter, low-water
// marks below which the log may be deleted, consumers activated). It never
// sees message bodies, reads no clock, does no I/O and starts no
// goroutine; the core's per-queue delivery loop owns it, serializes the
// calls, reads records, checks TTLs (Head, Expire) and persists.
// testdata/*.txt drive it directly.
//
// # State of one level (one log; a priority queue has MaxPriority+1)
//
//	offset: 0 ......... lowWater ........................ frontier .............. end
//	        |  settled  | settled (acked set) / unacked / |  ready, except holes  |
//	        |  (log may |  requeued (ready again)         |  (settled, in acked)  |
//	        |  be gone) |                                 |                       |
//
// Life of one offset:
//
//	      Append
//	        |
//	        v              Dispatch, Get
//	+---> READY ---------------------------> UNACKED ---+
//	|       |                                   |       |
//	|       | drop-head, Expire, Purge,         |       | Ack,
//	|       | NoAck delivery                    |       | Reject(requeue=false)
//	|       v                                   |       |
//	|    SETTLED <------------------------------|-------+
//	|                                           |
//	+-------------------------------------------+
//	  Reject(requeue=true), ChannelClosed, restart: requeued,
//	  keeps its place, redelivered next time
//
// READY is [frontier, end) minus holes, plus the requeued set; UNACKED is
// the unacked map; SETTLED is below lowWater or in the acked set.
//
// Settled means acked, dropped (overflow, purge, NoAck), expired or
// dead-lettered; a settled offset is never delivered again.
//
// # Invariants (checked by checkInvariants in tests and FuzzQueueOps)
//
//   - lowWater <= frontier <= end; every offset below lowWater is settled;
//     the acked set holds only offsets in [lowWater, end) and never
//     starts at lowWater.
//   - Every offset in [lowWater, frontier) is in exactly one of: acked,
//     unacked, requeued. Every offset in [frontier, end) is ready or a
//     hole (in acked); holes counts them; the frontier itself is never a
//     hole.
//   - An offset is unacked by at most one delivery; a consumer holds at
//     most its prefetch unacked deliveries and a channel at most its
//     global prefetch (lowering a limit only withholds new deliveries).
//   - lowWater only grows.
//
// # Memory
//
// A level's memory is O(unacked + requeued + fragments of acked); the
// backlog [frontier, end) costs nothing (unless MaxLengthBytes is set:
// then 4 bytes per undelivered message, to drop the head byte-exactly).
// unacked is bounded by the sum of prefetch limits (consumers with
// prefetch 0 and basic.get are bounded only by the adapter's flow
// control); requeued by what was unacked; acked by out-of-order
// settlement within that window. Dispatch picks a consumer in
// O(consumers) per message.
//
// # Durability (the caller's side)
//
// Settled ranges are appended to the queue's acks log; State() is the
// checkpoint (end, low water, frontier, acked intervals) written from
// time to time so that the acks log can be truncated. On restart New
// rebuilds from it: unsettled offsets below the checkpointed frontier come
// back requeued with redelivered=true. A settlement or frontier move lost
// in a crash makes a message come back (at-least-once), as in RabbitMQ.
// Dead-lettered messages must be republished before their settlement is
// persisted and before the log below the low-water mark is deleted (see
// Effects), so a crash between the two duplicates rather than loses.
//
// # Not implemented here
//
// Message TTL evaluation (the caller reads timestamps and calls Expire),
// queue TTL/auto-delete (the catalog's), x-delivery-limit, consumer
// timeouts (the adapter closes the channel), basic.recover (the adapter
// can Reject with requeue), and RabbitMQ's channel-wide qos across
// queues (SetChannelPrefetch counts this queue's deliveries only).
package queue
