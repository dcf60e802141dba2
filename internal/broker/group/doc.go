// Package group is Tern's Kafka consumer-group coordinator: the classic
// JoinGroup/SyncGroup/Heartbeat/LeaveGroup rebalance protocol, the
// consumer group protocol of KIP-848 (ConsumerGroupHeartbeat with
// server-side assignment, ConsumerGroupDescribe), committed offsets
// (OffsetCommit, OffsetFetch, OffsetDelete) and group administration
// (DescribeGroups, ListGroups, DeleteGroups), with the semantics of Apache
// Kafka 4's group coordinator. It knows no wire format:
// the Kafka adapter translates requests into the calls of Coordinator and
// maps the sentinel errors of errors.go to Kafka error codes. It imports
// only the standard library.
//
// # Shape
//
// As in etcd-raft, a deterministic core sits inside a thin wrapper:
//
//   - machine (machine.go, join.go, membership.go, offsets.go,
//     describe.go, replay.go; consumer_*.go and assign_*.go for KIP-848)
//     holds every group. Each event (join, sync, heartbeat, leave, commit
//     validation, "the time is now T") takes the current time and returns
//     effects: answers addressed to blocked request ids, journal records
//     to persist, the group's next deadline. No goroutines, clock reads or
//     I/O; the topic catalog is read through the Topics interface the
//     broker provides; testdata/*.txt drive it directly.
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
// # Consumer groups (KIP-848)
//
// A group id is either a classic group or a consumer group (a *group with
// its consumer field set; consumer.go). Members join, heartbeat and leave
// with ConsumerGroupHeartbeat; nothing blocks. Each heartbeat creates or
// updates the member; a new member, a changed subscription, a member
// leaving or failing, or a change in the subscribed topics' metadata
// (created, deleted, grown: the catalog is read on each heartbeat) bumps
// the group epoch. The next heartbeat past the target assignment's epoch
// computes a new target with the preferred server assignor (the one most
// members name, else the first of Config.ConsumerAssignors): uniform or
// range, both sticky (assign_*.go). Then the member reconciles towards
// its target (consumer_reconcile.go): it first revokes what it must give
// up, keeping its epoch, and only after it reported the revocation moves
// to the target epoch and takes the partitions that are free; those still
// owned by another member come on a later heartbeat. A partition is never
// owned by two members, and members keep the partitions that do not move.
//
//	     group states                           member states
//	Empty      no members                stable      at the target of its epoch
//	Assigning  group epoch > target's    unrevoked   must revoke first (rebalance timeout runs)
//	Reconciling a member not at target   unreleased  at the target epoch, waits for partitions
//	Stable     every member at target
//
// Deadlines: a member's session (Config.ConsumerSessionTimeout since its
// last heartbeat) and, while it must revoke, its rebalance timeout; either
// fences it (removes it, frees its partitions, bumps the epoch). Epochs
// fence stale members: an epoch ahead of the coordinator's, or behind by
// more than the one step a lost answer explains, is FENCED_MEMBER_EPOCH;
// epoch 0 from a known member re-sends its assignment. Static members
// leaving with epoch -2 keep their partitions for a new incarnation of
// the same instance id until their session ends. Offsets of a consumer
// group are committed and fetched with the member epoch
// (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID); a commit is not a heartbeat.
//
// An empty group of one kind becomes the other kind when a member of the
// other protocol arrives (its offsets stay, its metadata is tombstoned);
// a group with members refuses the other protocol: GROUP_ID_NOT_FOUND for
// a ConsumerGroupHeartbeat to a classic group (Kafka with
// group.consumer.migration.policy=disabled), INCONSISTENT_GROUP_PROTOCOL
// for a JoinGroup to a consumer group.
//
// Durability: the records Kafka 4.0 writes for consumer groups, in its
// encoding (consumer_records.go): group epoch (type 3), the subscribed
// topics' metadata (4), member subscriptions (5), target assignment
// epoch and members (6, 7), and each member's current assignment with
// its epochs, state and pending revocations (8). Each key is one piece of
// state and deletions are tombstones, so the journal may be compacted.
// Answers that changed the group wait until these records are durable.
// Resolved regular expressions (type 16) are not persisted: they are a
// function of the catalog, durable elsewhere, and are resolved again by
// the first heartbeat after a restart; the partition metadata record
// tells whether the result differs. After a restart a consumer group is
// back with its epochs, members, targets and offsets, every session
// starting then. If an append fails, the heartbeat is answered
// COORDINATOR_NOT_AVAILABLE and the group's next event rewrites all of
// its records.
//
// # Not implemented
//
// Offset retention/expiry (offsets.retention.minutes), transactional
// offset commits, sharding groups across coordinators (one Coordinator
// owns every group), and, of KIP-848: classic members inside consumer
// groups and online conversion of groups with members (Kafka 4's
// migration policies), rack-aware assignment (RackID is stored only),
// per-partition assignment epochs for commits (KIP-1251, Kafka 4.3), and
// per-group dynamic configs (the group.consumer.* settings are the
// broker's).
package group
