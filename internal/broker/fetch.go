package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

// FetchPartition names one partition of a fetch and where to read from.
type FetchPartition struct {
	Topic     string
	Partition int32
	Offset    int64
	MaxBytes  int32 // per-partition limit (soft for the first batch)
}

// FetchRequest is a protocol-neutral long-poll read over partitions.
type FetchRequest struct {
	Partitions []FetchPartition
	MaxWait    time.Duration
	MinBytes   int32
	MaxBytes   int32 // response limit (soft for the first batch)
	// ReadCommitted reads only up to each partition's last stable offset
	// and reports the aborted transactions in what it returns (Kafka's
	// isolation.level=read_committed); otherwise reads reach the high
	// watermark.
	ReadCommitted bool
}

// FetchResult answers one partition. Records is a byte range of whole
// batches in a segment file; the caller must Release it once written.
type FetchResult struct {
	Err            error
	HighWatermark  int64
	LastStable     int64
	LogStartOffset int64
	Records        storage.Slice
	// Aborted lists, for a read_committed fetch, the aborted transactions
	// whose records may be in Records; the consumer skips them.
	Aborted []AbortedTxn
}

// Fetch reads every partition and, when fewer than MinBytes are ready,
// parks until new data is published to one of them, MaxWait passes or ctx
// ends. It never polls: partitions signal parked fetches when their high
// watermark moves. Results are in request order.
func (b *Broker) Fetch(ctx context.Context, r FetchRequest) []FetchResult {
	wake := make(chan struct{}, 1)
	parts := make([]*partition, len(r.Partitions))
	for i, fp := range r.Partitions {
		p, err := b.partition(fp.Topic, fp.Partition)
		if err == nil {
			parts[i] = p
			defer p.wait(wake)()
		}
	}
	var deadline <-chan time.Time
	if r.MaxWait > 0 {
		t := time.NewTimer(r.MaxWait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		res, total, failed := b.readOnce(r, parts)
		if failed || total >= int64(r.MinBytes) || r.MaxWait <= 0 {
			return countFetched(parts, res)
		}
		select {
		case <-wake:
		case <-deadline:
			return countFetched(parts, res)
		case <-ctx.Done():
			return countFetched(parts, res)
		}
		releaseAll(res)
	}
}

// countFetched adds the answered bytes to each partition's counter; a
// long poll's discarded rounds are not counted.
func countFetched(parts []*partition, res []FetchResult) []FetchResult {
	for i, p := range parts {
		if p != nil {
			p.fetchedBytes.Add(res[i].Records.Size())
		}
	}
	return res
}

func releaseAll(res []FetchResult) {
	for _, r := range res {
		r.Records.Release()
	}
}

// readOnce reads each partition once, honouring the partition and
// response byte limits. The first partition that has data returns at
// least one whole batch even past the limits (KIP-74), so an oversized
// batch can never stall a consumer.
func (b *Broker) readOnce(r FetchRequest, parts []*partition) (res []FetchResult, total int64, failed bool) {
	res = make([]FetchResult, len(r.Partitions))
	budget := int64(r.MaxBytes)
	if budget <= 0 {
		budget = 1 << 62
	}
	for i, fp := range r.Partitions {
		out := &res[i]
		out.HighWatermark, out.LastStable, out.LogStartOffset = -1, -1, -1
		p := parts[i]
		if p == nil {
			out.Err = fmt.Errorf("%w: %s-%d", ErrUnknownTopicOrPartition, fp.Topic, fp.Partition)
			failed = true
			continue
		}
		hw := p.log.HighWatermark()
		lso := p.txns.lastStable(hw)
		upTo := hw
		if r.ReadCommitted {
			upTo = lso
		}
		out.HighWatermark, out.LastStable, out.LogStartOffset = hw, lso, p.log.StartOffset()
		limit := int64(fp.MaxBytes)
		if budget < limit {
			limit = budget
		}
		if total > 0 && limit <= 0 {
			continue
		}
		if limit <= 0 {
			limit = 1 // still returns the first batch whole
		}
		s, err := p.log.Read(fp.Offset, int(min(limit, 1<<31-1)), upTo)
		if err != nil {
			if errors.Is(err, storage.ErrOffsetOutOfRange) {
				out.Err = fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, fp.Offset, p.log.StartOffset(), p.log.EndOffset())
			} else if errors.Is(err, storage.ErrLogClosed) {
				out.Err = fmt.Errorf("%w: %s-%d was deleted", ErrUnknownTopicOrPartition, fp.Topic, fp.Partition)
			} else {
				out.Err = fmt.Errorf("%w: %w", ErrStorage, err)
			}
			failed = true
			continue
		}
		out.Records = s
		if r.ReadCommitted && s.Size() > 0 {
			out.Aborted = p.txns.abortedIn(fp.Offset, upTo)
		}
		total += s.Size()
		budget -= s.Size()
	}
	return res, total, failed
}

// PartitionOffsets reports a partition's log start, high watermark and
// last stable offset (below which every transaction has ended).
func (b *Broker) PartitionOffsets(topic string, part int32) (start, hw, lso int64, err error) {
	p, err := b.partition(topic, part)
	if err != nil {
		return -1, -1, -1, err
	}
	hw = p.log.HighWatermark()
	return p.log.StartOffset(), hw, p.txns.lastStable(hw), nil
}

// OffsetForTimestamp is ListOffsets by time: the first offset whose
// timestamp is at or after ts, with that batch's max timestamp; -1 when
// no record is that new.
func (b *Broker) OffsetForTimestamp(topic string, part int32, ts int64) (offset, timestamp int64, err error) {
	p, err := b.partition(topic, part)
	if err != nil {
		return -1, -1, err
	}
	hw := p.log.HighWatermark()
	off, ok := p.log.OffsetForTime(ts)
	if !ok || off >= hw {
		return -1, -1, nil
	}
	// The index finds the batch; the answer is the first record in it
	// that is new enough, with that record's own timestamp.
	s, err := p.log.Read(off, 1, hw)
	if err != nil {
		return -1, -1, fmt.Errorf("%w: %w", ErrStorage, err)
	}
	raw, err := s.AppendTo(nil)
	s.Release()
	if err != nil {
		return -1, -1, fmt.Errorf("%w: %w", ErrStorage, err)
	}
	bt, err := message.ParseHeader(raw)
	if err != nil {
		return -1, -1, fmt.Errorf("%w: %w", ErrStorage, err)
	}
	recs, err := message.Records(bt, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("%w: %w", ErrStorage, err)
	}
	for _, r := range recs {
		if r.Timestamp >= ts && r.Offset >= off {
			return r.Offset, r.Timestamp, nil
		}
	}
	return bt.BaseOffset, bt.MaxTimestamp, nil
}

// DeleteRecords moves a partition's log start offset forward (Kafka
// DeleteRecords); offset -1 means the high watermark. It returns the new
// log start offset.
func (b *Broker) DeleteRecords(topic string, part int32, offset int64) (int64, error) {
	p, err := b.partition(topic, part)
	if err != nil {
		return -1, err
	}
	hw := p.log.HighWatermark()
	if offset == -1 {
		offset = hw
	}
	if offset < 0 || offset > hw {
		return -1, fmt.Errorf("%w: %d beyond high watermark %d", ErrOffsetOutOfRange, offset, hw)
	}
	if offset > p.log.StartOffset() {
		if err := p.log.DeleteRecordsBefore(offset); err != nil {
			return -1, fmt.Errorf("%w: %w", ErrStorage, err)
		}
		p.txns.trimBefore(p.log.StartOffset())
	}
	return p.log.StartOffset(), nil
}

// EndOffsetForEpoch answers OffsetForLeaderEpoch for one partition.
func (b *Broker) EndOffsetForEpoch(topic string, part int32, epoch int32) (int32, int64, error) {
	p, err := b.partition(topic, part)
	if err != nil {
		return -1, -1, err
	}
	e, off := p.log.EndOffsetForEpoch(epoch)
	return e, off, nil
}

// LeaderEpoch is the partition's current leader epoch.
func (b *Broker) LeaderEpoch(topic string, part int32) (int32, error) {
	p, err := b.partition(topic, part)
	if err != nil {
		return -1, err
	}
	return p.epoch, nil
}

// LogDirInfo describes one partition's size for DescribeLogDirs.
type LogDirInfo struct {
	Topic     string
	Partition int32
	Size      int64
	OffsetLag int64
}

// LogDirs reports the data directory and the size of every partition in it.
func (b *Broker) LogDirs() (dir string, parts []LogDirInfo) {
	for _, p := range b.allPartitions() {
		parts = append(parts, LogDirInfo{Topic: p.topic, Partition: p.index, Size: p.log.Size(), OffsetLag: 0})
	}
	return b.cfg.DataDir, parts
}
