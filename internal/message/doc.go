// Package message owns Tern's canonical record model and its encoding:
// Kafka's RecordBatch v2. Every log in Tern — topic partitions, the group
// log, later AMQP queues — stores batches in this encoding, so the Kafka
// adapter can serve file ranges without re-encoding.
//
// The package is a leaf: it validates batches the way a Kafka broker does
// before appending (length, magic, CRC-32C, record count, decompression
// bounded in memory), decodes records for the core's own use (group log
// replay, compaction and AMQP delivery) and encodes batches the core
// writes itself. For log compaction (internal/compact) it rewrites a batch
// to keep a subset of its records, as Kafka's cleaner does (rewrite.go),
// compressing again with the batch's own codec (compress.go). It knows
// nothing of the network protocols.
//
// RecordBatch v2 header (61 bytes, big endian):
//
//	 0  baseOffset       int64   stamped by the broker on append
//	 8  batchLength      int32   bytes after this field
//	12  leaderEpoch      int32   stamped by the broker on append
//	16  magic            int8    always 2
//	17  crc              uint32  CRC-32C of bytes 21..end
//	21  attributes       int16   codec(0-2) tsType(3) txn(4) control(5)
//	                             deleteHorizon(6): baseTimestamp is it (KIP-534)
//	23  lastOffsetDelta  int32
//	27  baseTimestamp    int64
//	35  maxTimestamp     int64
//	43  producerId       int64
//	51  producerEpoch    int16
//	53  baseSequence     int32
//	57  recordCount      int32
//	61  records...       (compressed as a whole when codec != 0)
package message
