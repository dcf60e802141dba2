// Package compact is Tern's log cleaner: Kafka log compaction
// (cleanup.policy=compact) over storage's partition logs. For every key it
// keeps the latest record, and removes tombstones (records with a null
// value) delete.retention.ms after a pass first kept them, so that a log
// replayed from its start still rebuilds the latest state of every key —
// topics with compact in their cleanup.policy, and the broker's consumer
// offsets log.
//
// It lives beside storage, not inside it (docs/decisions/0001): storage
// stores batches verbatim and knows only their header; this package
// decodes records (internal/message) and asks storage for the crash-safe
// primitives it needs — sealed segments to read, a Cleaned segment to
// write, an atomic swap of consecutive segments, a checkpoint of where it
// stopped (storage/swap.go, cleanpoint.go).
//
// Imports: storage, message.
//
// # How a pass works
//
// The log is split at its cleaner checkpoint (the first dirty offset):
// the clean section below it was cleaned before; the dirty section above
// it, up to the first uncleanable offset, is new. The first uncleanable
// offset is the lowest of the active segment's base (never cleaned, so
// appends never wait on the cleaner), the owner's bound (the high
// watermark, later the last stable offset) and the base of the first
// segment holding a record younger than min.compaction.lag.ms. A log is
// cleaned when the dirty share of its sealed bytes is above
// min.cleanable.dirty.ratio, when its oldest dirty segment is older than
// max.compaction.lag.ms, or when a delete horizon of its clean section
// has passed. The pass (clean.go):
//
//   - maps each key of the dirty section to its latest offset, in an
//     offset map of fixed size (offsetmap.go: 128-bit SHA-256 prefixes,
//     log.cleaner.dedupe.buffer.size). When the map fills, the pass cleans
//     only up to the record that did not fit and the next pass goes on
//     from there, so memory never grows with the log;
//   - rewrites every sealed segment below that point, merging neighbours
//     up to segment.bytes, keeping what retain.go keeps, and swaps each
//     group in through storage (fsynced files, atomic renames; Open
//     finishes or discards a swap a crash interrupted). Readers holding
//     the old segments finish on them;
//   - checkpoints the new first dirty offset, after the swaps, so a crash
//     in between only makes the next pass clean the same part again.
//
// Offsets never change: a cleaned log has gaps, which reads step over. A
// batch keeps its base offset, last offset delta, producer fields and
// codec (re-compressed with it when records are dropped: writing a
// compressed topic back uncompressed could make compaction grow it); a
// batch left empty goes, unless it is its producer's last, whose header
// stays so idempotent producers are still deduplicated after a restart.
//
// # Transactions
//
// The owner bounds a pass at the last stable offset, so every
// transactional batch a pass touches belongs to a transaction that has
// ended, and tells the cleaner which ended in an abort (Settings.Aborted,
// from the partition's aborted-transaction list). Records of aborted
// transactions are dropped (a producer's last batch keeps its header);
// committed transactional records are compacted like any other.
// Transaction markers (control batches) are kept: Kafka removes a marker
// once its transaction's records are gone and delete.retention.ms has
// passed, which Tern does not yet, so a compacted topic written by many
// transactions keeps one small batch per transaction and partition.
// Without Settings.Aborted, transactional batches are kept as they are and
// hide nothing.
//
// # Failures
//
// A pass that fails on a log (I/O error, corrupt batch, a bug) logs the
// error and marks the log uncleanable until restart, as Kafka does; the
// log keeps serving as it is. A log that changed under a pass (retention,
// truncation, deletion) is simply retried on the next pass.
//
// # Concurrency
//
// A Cleaner runs one pass at a time, on Run's goroutine or the caller's
// (CleanOnce). It reads sealed segments without locks (segment
// references), so fetches and appends proceed; the only wait it imposes
// on appends is the swap's renames and directory fsyncs.
package compact
