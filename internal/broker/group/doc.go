// Package group is Tern's classic Kafka consumer-group coordinator: the
// JoinGroup/SyncGroup/Heartbeat/LeaveGroup rebalance protocol, committed
// offsets (OffsetCommit, OffsetFetch, OffsetDelete) and group
// administration (DescribeGroups, ListGroups, DeleteGroups), with the
// semantics of Apache Kafka's GroupCoordinator. It knows no wire format:
// the Kafka adapter translates requests into the calls of Coordinator and
// maps the sentinel errors of errors.go to Kafka error codes. It imports
// only the standard library.
//
// # Shape
//
// As in etcd-raft, a deterministic core sits inside a thin wrapper:
//
//   - machine (machine.go, join.go, membership.go, offsets.go,
//     describe.go, replay.go) holds every group. Each event (join, sync,
//     heartbeat, leave, commit validation, "the time is now T") takes the
//     current time and returns effects: answers addressed to blocked
//     request ids, journal records to persist, the group's next deadline.
//     No goroutines, clock reads or I/O; testdata/*.txt drive it directly.
//   - Coordinator (coordinator.go, timers.go, writer.go) owns the mutex,
//     the clock, a timer goroutine that ticks groups at their deadlines,
//     and a journal writer goroutine that appends records in state order
//     and releases the answers that depended on them.
//
// # Group states
//
//	                 join (initial delay)
//	     +-------+ ----------------------> +--------------------+
//	     | Empty |                         | PreparingRebalance | <--------------+
//	     +-------+ <---------------------- +--------------------+                |
//	       |  ^     join phase ends with        |  all members rejoined,         |
//	delete |  |     no members                  |  or rebalance timeout          |
//	       v  |                                 v                                |
//	     +------+                      +---------------------+  member joins,    |
//	     | Dead |                      | CompletingRebalance | leaves, fails or  |
//	     +------+                      +---------------------+ -- misses sync -->+
//	                                            |  leader's SyncGroup            |
//	                                            v  (assignment persisted)        |
//	                                       +--------+  member joins/changes,     |
//	                                       | Stable | -- leaves or fails ------->+
//	                                       +--------+
//
// Deadlines, all computed from the time of the event that set them:
//
//   - join deadline: the initial rebalance delay (a group leaving Empty;
//     extended by the delay while new members arrive, up to the rebalance
//     timeout), else the rebalance timeout (the largest of the members').
//     At the deadline dynamic members that did not rejoin are removed;
//     static members stay until their session expires.
//   - session deadline, per member: now + session timeout at each
//     heartbeat, commit, sync and join completion. Members waiting in a
//     rebalance are kept alive by it, except a new member that waited
//     NewMemberJoinTimeout.
//   - pending sync deadline: members of a new generation that do not send
//     SyncGroup within the rebalance timeout are removed.
//   - pending member deadline: an id handed out with ErrMemberIDRequired
//     expires after the session timeout.
//
// # Durability
//
// Group metadata is written when a generation becomes Stable (leader's
// SyncGroup), when a static member is replaced, when a group empties, and
// as a tombstone when it is deleted; offsets when committed (visible only
// once durable) and as tombstones when deleted. The encoding is Kafka's
// __consumer_offsets key/value format (records.go), so the last record per
// key is the state and the journal may be compacted. On restart groups
// with members come back Stable with sessions starting then.
//
// # Not implemented
//
// Offset retention/expiry (offsets.retention.minutes), transactional
// offset commits, the consumer-group protocol of KIP-848, and
// sharding groups across coordinators (one Coordinator owns every group).
package group
