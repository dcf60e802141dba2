package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/broker/txn"
	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

// txnsDirName is the transaction coordinator's log (Kafka's
// __transaction_state), one partition on a single node, compacted like
// the group log: its key is the transactional id, so the last record per
// key is the state.
const txnsDirName = "__transaction_state-0"

// txnJournal stores the transaction coordinator's records in its log.
// Appends are written under mu and waited for outside it, so concurrent
// transactions share fsyncs.
type txnJournal struct {
	mu  sync.Mutex
	log *storage.Log
}

func (j *txnJournal) Append(ctx context.Context, recs []txn.Record) error {
	raw := journalBatch(recs)
	j.mu.Lock()
	pd, err := j.log.AppendAsync(raw, 0)
	j.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%w: transaction log: %w", ErrStorage, err)
	}
	if err := pd.Wait(); err != nil {
		return fmt.Errorf("%w: transaction log: %w", ErrStorage, err)
	}
	j.mu.Lock()
	if pd.EndOffset > j.log.HighWatermark() {
		j.log.SetHighWatermark(pd.EndOffset)
	}
	j.mu.Unlock()
	return nil
}

func (j *txnJournal) Replay(fn func(txn.Record) error) error {
	return readAll(j.log, func(r message.Record) error {
		return fn(txn.Record{Key: r.Key, Value: r.Value})
	})
}

// txnParticipants is the core as the transaction coordinator sees it.
type txnParticipants struct{ b *Broker }

func (tp txnParticipants) AllocateProducerID(ctx context.Context) (int64, error) {
	return tp.b.AllocateProducerID(ctx)
}

// WriteMarkers appends the markers to every partition first and then
// waits for them all, so their fsyncs overlap.
func (tp txnParticipants) WriteMarkers(ctx context.Context, producerID int64, epoch int16, commit bool, parts []txn.Partition) error {
	ts := tp.b.nowMs()
	var waits []func() error
	for _, pt := range parts {
		p, err := tp.b.partition(pt.Topic, pt.Partition)
		if errors.Is(err, ErrUnknownTopicOrPartition) {
			continue // deleted since it joined the transaction
		}
		if err != nil {
			return err
		}
		wait, err := p.writeMarker(commit, producerID, epoch, ts)
		if err != nil {
			return fmt.Errorf("marker in %s-%d: %w", pt.Topic, pt.Partition, err)
		}
		waits = append(waits, wait)
	}
	var errs []error
	for _, w := range waits {
		errs = append(errs, w())
	}
	return errors.Join(errs...)
}

func (tp txnParticipants) CommitOffsets(ctx context.Context, g string, offs []txn.Offset) error {
	oc := make([]group.OffsetCommit, len(offs))
	for i, o := range offs {
		oc[i] = group.OffsetCommit{Topic: o.Topic, Partition: o.Partition, Offset: o.Offset, LeaderEpoch: o.LeaderEpoch, Metadata: o.Metadata}
	}
	return tp.b.Groups.CommitTxnOffsets(ctx, g, oc)
}

// openTxns opens the transaction log and coordinator, and finishes the
// transactions a crash left past their commit point. Called by Open once
// the partitions and the group coordinator are open.
func (b *Broker) openTxns() error {
	l, err := b.openInternalLog(txnsDirName)
	if err != nil {
		return fmt.Errorf("open transaction log: %w", err)
	}
	b.txnLog = l
	cfg := b.cfg.Txn
	if cfg.Logger == nil {
		cfg.Logger = b.logger.With("component", "txn")
	}
	if cfg.Now == nil {
		cfg.Now = b.cfg.Now
	}
	coord, err := txn.New(cfg, &txnJournal{log: l}, txnParticipants{b})
	if err != nil {
		return fmt.Errorf("load transactions: %w", err)
	}
	coord.Start(context.Background())
	b.Txns = coord
	return nil
}

// verifyTxn is the check a transactional batch passes under its
// partition's append lock.
func (b *Broker) verifyTxn(bt message.Batch, topic string, part int32) func() error {
	return func() error {
		return b.Txns.Verify(bt.ProducerID, bt.ProducerEpoch, txn.Partition{Topic: topic, Partition: part})
	}
}
