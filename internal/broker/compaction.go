package broker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ternmq/tern/internal/compact"
	"github.com/ternmq/tern/internal/message"
)

// Log compaction, as the core wires it: one cleaner (internal/compact)
// for the node, started by Open and stopped by Close, over every
// partition whose cleanup.policy includes compact (listed at each pass,
// so CreateTopics, AlterConfigs and DeleteTopics apply at the next one)
// and over the consumer offsets log (groups.go). The policy values reach
// the cleaner through the partition log's storage config (configs.go).

// CleanerConfig configures the node's log cleaner.
type CleanerConfig struct {
	// Disabled stops background cleaning (log.cleaner.enable=false):
	// compacted topics and the offsets log then grow until CompactNow.
	Disabled bool
	// DedupeBufferBytes is the offset map's memory
	// (log.cleaner.dedupe.buffer.size); 0 takes compact's default.
	DedupeBufferBytes int64
	// Backoff is the pause between passes that found nothing to clean
	// (log.cleaner.backoff.ms); 0 takes compact's default.
	Backoff time.Duration
}

// startCleaner makes the node's cleaner, registers its logs and, unless
// disabled, runs it until Close.
func (b *Broker) startCleaner() {
	b.cleaner = compact.New(compact.Config{
		DedupeBufferBytes: b.cfg.Cleaner.DedupeBufferBytes,
		Backoff:           b.cfg.Cleaner.Backoff,
		Logger:            b.logger.With("component", "cleaner"),
		Now:               b.cfg.Now,
	})
	b.cleaner.RegisterSource(b.compactedPartitions)
	b.cleaner.Register(internalLogTarget(groupsDirName, b.groupLog))
	if b.txnLog != nil {
		b.cleaner.Register(internalLogTarget(txnsDirName, b.txnLog))
	}
	if b.cfg.Cleaner.Disabled {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.bg.Add(2)
	go func() {
		defer b.bg.Done()
		<-b.stop
		cancel()
	}()
	go func() {
		defer b.bg.Done()
		b.cleaner.Run(ctx)
	}()
}

// compactedPartitions lists the partitions the cleaner should consider.
// The bound is the last stable offset: only what every consumer may read
// is cleaned, and every transaction below it has ended, so the partition's
// aborted list tells the cleaner which transactional records to drop.
func (b *Broker) compactedPartitions() []compact.Target {
	var out []compact.Target
	for _, p := range b.allPartitions() {
		if !p.log.Config().Cleanup.Compact() {
			continue
		}
		l, txns := p.log, p.txns
		out = append(out, compact.Target{
			Name: p.topic + "-" + strconv.Itoa(int(p.index)),
			Log:  l,
			Settings: func() compact.Settings {
				s := compact.SettingsOf(l.Config(), txns.lastStable(l.HighWatermark()))
				s.Aborted = txns.isAborted
				return s
			},
		})
	}
	return out
}

// CompactNow runs one cleaner pass over every compacted log that is due
// (dirty ratio, max.compaction.lag.ms, tombstones past their horizon) and
// returns how many it cleaned, and the errors of logs it had to mark
// uncleanable. Tests and operators use it instead of waiting for the
// background loop; it waits for a pass of the loop in progress.
func (b *Broker) CompactNow(ctx context.Context) (int, error) {
	return b.cleaner.CleanOnce(ctx)
}

// CleanerStats are the log cleaner's figures for metrics.
type CleanerStats struct {
	// Passes counts logs cleaned; Errors logs marked uncleanable.
	Passes, Errors int64
	// BytesRead and BytesWritten are segment bytes the cleaner read and
	// wrote; their difference is what it reclaimed.
	BytesRead, BytesWritten int64
	// RecordsRemoved counts records cleaning dropped.
	RecordsRemoved int64
	// Logs are the compacted logs as of the last pass.
	Logs []CleanerLogStats
}

// CleanerLogStats is one compacted log's figures.
type CleanerLogStats struct {
	// Log is "topic-partition", or __consumer_offsets-0.
	Log string
	// DirtyRatio is the share of its sealed bytes not cleaned yet.
	DirtyRatio float64
	// Uncleanable: a cleaning error stopped its compaction until restart.
	Uncleanable bool
}

// CleanerStats snapshots the cleaner's counters.
func (b *Broker) CleanerStats() CleanerStats {
	st := b.cleaner.Stats()
	out := CleanerStats{Passes: st.Passes, Errors: st.Errors, BytesRead: st.BytesRead, BytesWritten: st.BytesWritten, RecordsRemoved: st.RecordsRemoved}
	for _, l := range st.Logs {
		out.Logs = append(out.Logs, CleanerLogStats{Log: l.Name, DirtyRatio: l.DirtyRatio, Uncleanable: l.Uncleanable})
	}
	return out
}

// cleanerConfigs adds the cleaner's broker settings to DescribeConfigs,
// as Kafka names them.
func (b *Broker) cleanerConfigs(m map[string]string) {
	c := b.cfg.Cleaner
	m["log.cleaner.enable"] = strconv.FormatBool(!c.Disabled)
	dedupe := c.DedupeBufferBytes
	if dedupe <= 0 {
		dedupe = compact.DefaultDedupeBufferBytes
	}
	m["log.cleaner.dedupe.buffer.size"] = strconv.FormatInt(dedupe, 10)
	backoff := c.Backoff
	if backoff <= 0 {
		backoff = compact.DefaultBackoff
	}
	m["log.cleaner.backoff.ms"] = strconv.FormatInt(backoff.Milliseconds(), 10)
	m["log.cleaner.threads"] = "1"
}

// requireKeys refuses a batch holding a record without a key when the
// topic is compacted: the cleaner keeps records by key, so Kafka's
// LogValidator rejects such a batch whole (INVALID_RECORD) and so does
// Tern, with Kafka's message. It decodes the records a second time
// (validation counted them), a cost only compacted topics pay.
func (p *partition) requireKeys(bt message.Batch) error {
	if !p.log.Config().Cleanup.Compact() {
		return nil
	}
	views, err := message.Views(bt, 0)
	if err != nil {
		return mapBatchError(err)
	}
	var shown []string
	n := 0
	for i, v := range views {
		if v.Key != nil {
			continue
		}
		n++
		if len(shown) < 3 {
			shown = append(shown, fmt.Sprintf("RecordError(batchIndex=%d, message='Compacted topic cannot accept message without key in topic partition %s-%d.')", i, p.topic, p.index))
		}
	}
	if n == 0 {
		return nil
	}
	return keylessError(fmt.Sprintf("One or more records have been rejected due to %d record errors in total, and only showing the first three errors at most: [%s]", n, strings.Join(shown, ", ")))
}

// keylessError carries Kafka's exact text (the Kafka adapter answers
// with an error's text) and is an ErrInvalidRecord.
type keylessError string

func (e keylessError) Error() string { return string(e) }
func (keylessError) Unwrap() error   { return ErrInvalidRecord }
