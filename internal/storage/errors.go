package storage

import "errors"

// Sentinel errors. Callers test them with errors.Is; storage always wraps
// them with context (%w).
var (
	// ErrOffsetOutOfRange: the requested offset is below StartOffset or
	// above EndOffset (Kafka OFFSET_OUT_OF_RANGE), or a DeleteRecordsBefore
	// offset is above the high watermark.
	ErrOffsetOutOfRange = errors.New("storage: offset out of range")
	// ErrLogClosed: the Log was closed; nothing more will succeed.
	ErrLogClosed = errors.New("storage: log closed")
	// ErrLogFailed: a write, fsync or checkpoint failed. The log refuses
	// every later Append — like Kafka taking a log directory offline —
	// because after a failed fsync the page cache may no longer match the
	// disk and nothing written since can be acknowledged. Reopening the
	// log (crash recovery) is the only way back.
	ErrLogFailed = errors.New("storage: log failed")
	// ErrCorrupt: bytes on disk are not what storage wrote (bad CRC,
	// impossible length, unknown checkpoint version) in a place recovery
	// may not silently cut, or a malformed header was parsed.
	ErrCorrupt = errors.New("storage: corrupt data")
	// ErrInvalidBatch: Append was given bytes that are not a RecordBatch v2
	// (short, wrong magic, length field disagreeing with the slice). The log
	// is unchanged and stays usable.
	ErrInvalidBatch = errors.New("storage: invalid record batch")
)
