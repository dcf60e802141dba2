package group

import "context"

// Journal is where the coordinator makes committed offsets and group
// metadata durable. The broker implements it over a compacted internal log
// (Kafka's __consumer_offsets).
//
// Concurrency: the coordinator calls Append from a single goroutine, never
// concurrently with itself and never with a coordinator lock held, so an
// Append may take as long as an fsync. Records reach Append in the order the
// coordinator's state changed, so the last record of each key in append
// order is the current state (compaction may keep only that one). Replay is
// called once, by NewCoordinator, before any Append.
//
// Ownership: Append must not retain or modify recs or their byte slices
// after it returns (copy them if it needs to); Replay's fn does not retain
// the Key and Value slices it is given.
type Journal interface {
	// Append stores recs durably, atomically or not at all, and returns once
	// they are durable under the log's fsync policy. An error means none of
	// recs may be assumed stored; the coordinator answers the requests that
	// waited on them with ErrCoordinatorNotAvailable and does not expose the
	// offsets they carried. ctx is cancelled only when the coordinator
	// closes.
	Append(ctx context.Context, recs []JournalRecord) error
	// Replay calls fn with every stored record in append order (or in an
	// order where, per key, the last record is the newest). If fn returns an
	// error Replay stops and returns it.
	Replay(fn func(JournalRecord) error) error
}

// JournalRecord is one record of the journal: a versioned key and a
// versioned value, encoded as Kafka encodes __consumer_offsets (see
// records.go). A nil Value is a tombstone: the offset or the group metadata
// under Key was deleted.
type JournalRecord struct {
	Key, Value []byte
}
