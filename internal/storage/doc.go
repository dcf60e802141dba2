// Package storage is Tern's storage engine: the partition log. A log is a
// directory of segment files holding Kafka RecordBatch v2 batches byte for
// byte as the producer sent them, after the broker stamped the base offset
// and leader epoch (neither is covered by the batch CRC). Fetches serve file
// ranges straight to sockets with sendfile(2). Storage knows the fixed
// 61-byte batch header — it is the storage format — and nothing else of
// Kafka (see docs/decisions/0001-storage-batches.md).
//
// Imports: the standard library and storage/vfs only.
//
// # Directory
//
//	<dir>/
//	  00000000000000000000.log        segment: batches, base offset 0
//	  00000000000000000000.index      sparse offset index of that segment
//	  00000000000000000000.timeindex  sparse time index of that segment
//	  00000000000000004242.log        next segment, first offset 4242 …
//	  recovery-point.checkpoint       clean-shutdown flag + recovery point
//	  log-start-offset.checkpoint     StartOffset (DeleteRecordsBefore)
//	  high-watermark.checkpoint       HighWatermark
//	  leader-epoch.checkpoint         leader epoch → start offset
//	  cleaner-offset.checkpoint       first offset a log cleaner has not cleaned
//	  *.tmp, *.deleted, *.cleaned     leftovers, removed by Open
//	  <B>-<E>.log.swap …              a committed segment swap, finished by Open
//
// Segment names are the base offset in 20 decimal digits, so they sort by
// offset. The last segment is the active one; only it is appended to.
//
// # Segment (.log): concatenated RecordBatch v2, big endian
//
//	+------------+-------------+----------------------+-------+-----------+
//	| baseOffset | batchLength | partitionLeaderEpoch | magic |    crc    |
//	|   int64    |    int32    |        int32         | int8  |  uint32   |
//	+------------+-------------+----------------------+-------+-----------+
//	| attributes | lastOffsetDelta | baseTimestamp | maxTimestamp |
//	|   int16    |      int32      |     int64     |    int64     |
//	+------------+-----------------+---------------+--------------+
//	| producerId | producerEpoch | baseSequence | recordCount | records … |
//	|   int64    |     int16     |    int32     |    int32    |           |
//	+------------+---------------+--------------+-------------+-----------+
//	  0            8             12                     16      17
//	  21           23              27              35
//	  43           51              53             57            61
//
// batchLength counts the bytes after itself (whole batch = batchLength+12).
// magic is 2. crc is CRC-32C (Castagnoli) over attributes … end of records.
// A batch holds offsets baseOffset … baseOffset+lastOffsetDelta. Batches in
// a log have strictly increasing offsets; Append writes them contiguously,
// and a cleaner's swap (swap.go) leaves gaps: offsets never change, so a
// segment may end before the next begins, or hold no batch at all.
// A segment is at most 4 GiB-1 bytes and its offsets span at most 2^31, so
// index entries fit 32-bit fields.
//
// # Offset index (.index): 8-byte entries
//
//	+-------------------------+-------------------+
//	| relativeOffset  uint32  | position  uint32  |
//	+-------------------------+-------------------+
//
// relativeOffset = batch baseOffset - segment base; position = the batch's
// byte position in the .log. One entry after every IndexIntervalBytes of
// batches; strictly increasing in both fields. A lookup takes the last
// entry <= the target and scans batch headers from there.
//
// # Time index (.timeindex): 12-byte entries
//
//	+-----------------------+-------------------------+
//	| maxTimestamp  int64   | relativeOffset  uint32  |
//	+-----------------------+-------------------------+
//
// maxTimestamp is the largest batch MaxTimestamp of the segment up to and
// including the batch at relativeOffset; entries are written with offset
// entries when that maximum grew, plus one when the segment is sealed.
// Strictly increasing timestamps.
//
// Index files are written when a segment is sealed (roll) and on Close, not
// per Append: the in-memory index is authoritative while open, and Open
// rebuilds the index of any segment it cannot trust (recovery.go).
//
// # Checkpoint files: one framed record each
//
//	+----------------+-------------+-----------------+---------+----------+
//	| version uint8  | kind uint8  | length uint32   | payload | crc32c   |
//	|      (=1)      |             | (payload bytes) |         | uint32   |
//	+----------------+-------------+-----------------+---------+----------+
//
// The CRC-32C covers version … payload. Payloads (kind):
//
//	recovery point (1):   flags uint8 (bit 0 = clean shutdown) | offset int64 |
//	                      activeBase int64 | activeSize int64
//	log start offset (2): offset int64
//	high watermark (3):   offset int64
//	leader epochs (4):    count uint32 | count × (epoch int32 | startOffset int64)
//	cleaner offset (5):   offset int64
//
// A checkpoint is replaced atomically: write name.tmp, fsync, rename over
// name, fsync the directory. Evolution rules are in docs/storage-format.md:
// an unknown version fails Open for the log start offset (ignoring it would
// resurrect deleted records) and is ignored — recomputed — for the others.
//
// # Durability and recovery
//
// Under SyncAlways, Append returns after an fdatasync that covers the batch;
// concurrent appends share fsyncs (groupcommit.go). Segments are fsynced with
// their indexes when they roll, and the recovery point then moves to the new
// segment's base. Open trusts segments below the recovery point (and all of
// them after a clean Close); it checks every other batch's length, magic,
// offsets and CRC and cuts the log at the first bad one (recovery.go).
//
// # Log compaction
//
// Storage does not compact: it gives a cleaner (internal/compact, which
// decodes records) what it needs — the sealed segments to read
// (sealed.go), a Cleaned segment to write and an atomic, crash-safe swap
// of consecutive sealed segments for it (swap.go, the protocol drawn
// there and in docs/storage-format.md), and the cleaner checkpoint
// (cleanpoint.go). Config carries cleanup.policy: time and size retention
// delete only with CleanupDelete.
//
// # Concurrency
//
// Lock order is documented at the top of log.go. Segments are reference
// counted so retention, truncation and swaps never close a file under a
// reader.
package storage
