package broker

import (
	"sort"
	"time"

	"github.com/ternmq/tern/internal/broker/queue"
	"github.com/ternmq/tern/internal/message"
)

// Snapshots of the core's state and counters for operators (metrics, the
// admin API). They are read at scrape time, so the hot paths pay only the
// atomic counter increments; nothing here blocks produce or delivery for
// longer than one queue's Stats.

// PartitionStats is one partition's figures.
type PartitionStats struct {
	Topic     string
	Partition int32
	// StartOffset and HighWatermark bound the readable log.
	StartOffset, HighWatermark int64
	// SizeBytes is the log's size on disk.
	SizeBytes int64
	// Counters since the broker started: records and bytes appended by
	// producers, bytes answered to fetches.
	ProducedRecords, ProducedBytes, FetchedBytes int64
}

// PartitionStats lists every partition's figures, by topic and index.
func (b *Broker) PartitionStats() []PartitionStats {
	parts := b.allPartitions()
	out := make([]PartitionStats, 0, len(parts))
	for _, p := range parts {
		out = append(out, PartitionStats{
			Topic: p.topic, Partition: p.index,
			StartOffset: p.log.StartOffset(), HighWatermark: p.log.HighWatermark(), SizeBytes: p.log.Size(),
			ProducedRecords: p.producedRecords.Load(), ProducedBytes: p.producedBytes.Load(), FetchedBytes: p.fetchedBytes.Load(),
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// GroupLag is how far a consumer group's committed offset is behind one
// partition's high watermark.
type GroupLag struct {
	Group     string
	Topic     string
	Partition int32
	// Committed is the group's committed offset; HighWatermark the
	// partition's; Lag the messages between them (never negative).
	Committed, HighWatermark, Lag int64
	// LagAge is how long ago the oldest unconsumed record (the one at the
	// committed offset) was appended: the broker's clock minus the first
	// timestamp of the batch holding it (its max timestamp for
	// LogAppendTime batches), never negative. 0 when the group is caught
	// up (Committed >= HighWatermark) or the batch carries no timestamp.
	// Lag in messages says how much is left; LagAge says how stale what
	// the group sees is, comparable across topics of any rate.
	LagAge time.Duration
}

// GroupLags lists the lag of every committed offset of every group whose
// partition still exists, by group, topic and partition. Each lagging
// partition costs one batch-header read (see lagAge).
func (b *Broker) GroupLags() []GroupLag {
	groups := b.Groups.List(nil)
	sort.Slice(groups, func(i, j int) bool { return groups[i].Group < groups[j].Group })
	var out []GroupLag
	for _, g := range groups {
		out = append(out, b.GroupLagsOf(g.Group)...)
	}
	return out
}

// GroupLagsOf is GroupLags for one group, by topic and partition: the
// cost of the group's own partitions only.
func (b *Broker) GroupLagsOf(group string) []GroupLag {
	offs, err := b.Groups.FetchOffsets(group, nil)
	if err != nil {
		return nil // the coordinator is closing
	}
	now := b.cfg.Now()
	var out []GroupLag
	for _, o := range offs {
		p, err := b.partition(o.Topic, o.Partition)
		if err != nil || o.Offset < 0 {
			continue
		}
		hw := p.log.HighWatermark()
		out = append(out, GroupLag{Group: group, Topic: o.Topic, Partition: o.Partition,
			Committed: o.Offset, HighWatermark: hw, Lag: max(hw-o.Offset, 0), LagAge: p.lagAge(o.Offset, hw, now)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// lagAge is how old the record at offset committed is, as of now (see
// GroupLag.LagAge). A committed offset below the log start (retention
// passed it) is aged from the oldest record still there. It reads only the
// header of the batch holding the offset, with no partition lock held: the
// same index lookup and header scan as a fetch of one batch, plus one
// 61-byte pread. An unreadable batch (the topic deleted under us, damage)
// counts as no age rather than failing the whole scrape.
func (p *partition) lagAge(committed, hw int64, now time.Time) time.Duration {
	off := max(committed, p.log.StartOffset())
	if off >= hw {
		return 0
	}
	s, err := p.log.Read(off, 1, hw)
	if err != nil || s.Size() == 0 {
		return 0
	}
	h, err := s.Header()
	s.Release()
	if err != nil {
		return 0
	}
	ts := h.BaseTimestamp
	// LogAppendTime batches carry the broker's time in MaxTimestamp only
	// (message.SetLogAppendTime); their first timestamp is the producer's.
	if (message.Batch{Attributes: h.Attributes}).LogAppendTime() {
		ts = h.MaxTimestamp
	}
	if ts <= 0 {
		return 0
	}
	return max(now.Sub(time.UnixMilli(ts)), 0)
}

// QueueStats is one AMQP queue's figures.
type QueueStats struct {
	VHost, Name string
	queue.Stats
	// Counters since the broker started: messages accepted, handed to
	// consumers or basic.get, and acknowledged.
	Published, Delivered, Acked int64
	// HeadAge is how long the oldest ready message has waited since the
	// broker accepted it: the queue's lag in time. Zero when none is ready.
	HeadAge time.Duration
}

// QueueStats lists every AMQP queue's figures, by vhost and name.
func (b *Broker) QueueStats() []QueueStats {
	var out []QueueStats
	now := b.cfg.Now()
	for _, v := range b.VHosts() {
		for _, q := range v.targets.Load().queues {
			out = append(out, q.metrics(v.name, now))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].VHost != out[j].VHost {
			return out[i].VHost < out[j].VHost
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// metrics reads the queue's state, counters and head message.
func (q *MQueue) metrics(vhost string, now time.Time) QueueStats {
	q.flush()
	q.mu.Lock()
	st := q.st.Stats()
	var age time.Duration
	if head, ok, err := q.liveHeadLocked(); err == nil && ok && head.Timestamp > 0 {
		age = max(now.Sub(time.UnixMilli(head.Timestamp)), 0)
	}
	q.mu.Unlock()
	return QueueStats{VHost: vhost, Name: q.spec.Name, Stats: st,
		Published: q.published.Load(), Delivered: q.delivered.Load(), Acked: q.acked.Load(), HeadAge: age}
}

// DiskFree is the free space on the data directory's filesystem, as the
// disk alarm sees it.
func (b *Broker) DiskFree() (int64, error) { return statfsFree(b.cfg.DataDir)() }
