// Package txn is Tern's Kafka transaction coordinator: the state of every
// transactional id (its producer id and epoch, the partitions and groups
// of its open transaction, the offsets it commits on behalf of a consumer
// group) and the two-phase commit that ends a transaction, with the
// semantics of Apache Kafka's TransactionCoordinator (transaction
// protocol version 1: AddPartitionsToTxn is explicit and EndTxn does not
// bump the epoch).
//
// It knows no wire format and no storage: the Kafka adapter translates
// requests into the calls of Coordinator and maps the sentinel errors of
// errors.go to Kafka error codes; the broker core gives it a Journal (the
// durable __transaction_state log) and Participants (the partitions that
// receive commit and abort markers, the group coordinator that receives
// committed offsets). It imports only the standard library.
//
// # States
//
//	        InitProducerId
//	(new) ----------------> Empty <--------------------------+
//	                          |  AddPartitionsToTxn,         |
//	                          |  AddOffsetsToTxn             |
//	                          v                              |
//	                       Ongoing ---- timeout or ---+      |
//	                      /       \    InitProducerId  \     |
//	           EndTxn(commit)   EndTxn(abort)           \    |
//	                    v           v                    v   |
//	          PrepareCommit     PrepareAbort <----------+    |
//	                    |           |   markers written,     |
//	                    v           v   offsets applied      |
//	          CompleteCommit   CompleteAbort ----------------+
//	                                           (next Add…)
//
// Every transition is written to the journal before it takes effect and
// before the request is answered. The Prepare states are the commit
// point: once PrepareCommit is durable the transaction commits, whatever
// crashes later — Open replays the journal and Recover finishes every
// Prepare state (markers are idempotent: a second marker for a producer
// with nothing open in a partition changes nothing a consumer sees).
//
// # Fencing
//
// InitProducerId on an existing transactional id bumps its epoch (a new
// producer id once the epoch would overflow) and aborts the transaction
// the previous incarnation left open, so a zombie's requests carry an
// old epoch and are refused (ErrProducerFenced); its produce requests are
// refused by the partitions, whose producer state learns the new epoch
// from the abort marker. A transaction open longer than its timeout is
// aborted with a bumped epoch for the same reason. KIP-360: a producer
// that passes its current id and epoch (or the epoch the coordinator
// bumped past it) gets the next epoch instead of being fenced.
//
// # Concurrency
//
// mu guards the map of transactions and each one's visible state, and is
// held only briefly: the produce path asks Verify under a partition lock.
// Each transaction also has an operation lock held across its journal and
// marker I/O, so requests for one transactional id are serialized while
// different ids proceed in parallel and share the journal's group commit.
// Lock order: operation lock, then mu; mu is never held while calling
// Participants or the Journal.
//
// # Not implemented
//
// Expiry of idle transactional ids (transactional.id.expiration.ms),
// transaction protocol version 2 (KIP-890 part 2: implicit partition
// adds, epoch bump per transaction), two-phase commit with external
// coordinators (KIP-939), and sharding ids across coordinators.
package txn
