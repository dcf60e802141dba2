package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

// partition is one partition log plus what the core keeps beside it: the
// idempotent-producer state and the fetchers waiting for new data.
//
// Appends go through mu so that sequence checks and the write happen in
// one order; the fsync wait happens after mu is released, which is what
// lets concurrent producers share one fsync (group commit).
type partition struct {
	topic  string
	index  int32
	log    *storage.Log
	logger *slog.Logger

	settings settingsPtr // resolved topic configs the produce path reads

	mu        sync.Mutex
	producers producerStates // guarded by mu
	txns      *partitionTxns // open and aborted transactions; see its fields for locking
	deleted   bool           // guarded by mu: the topic was deleted, not merely closed
	epoch     int32          // leader epoch; constant on a single node

	wmu     sync.Mutex
	waiters map[chan struct{}]struct{} // fetches parked until the HW moves

	// Counters since the broker started, for metrics (stats.go).
	producedRecords, producedBytes atomic.Int64
	fetchedBytes                   atomic.Int64
}

func newPartition(topic string, index int32, l *storage.Log, logger *slog.Logger) (*partition, error) {
	p := &partition{
		topic:   topic,
		index:   index,
		log:     l,
		logger:  logger,
		waiters: map[chan struct{}]struct{}{},
		epoch:   max(l.LatestEpoch(), 0),
	}
	// On one node everything written is ours to serve once durable; the
	// recovered log end is durable by construction (recovery cut the rest).
	l.SetHighWatermark(l.EndOffset())
	ps, txns, err := loadPartitionState(l)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("%w: producer state of %s-%d: %w", ErrStorage, topic, index, err)
	}
	p.producers, p.txns = ps, txns
	return p, nil
}

// appendResult is what an append reports back to the producer.
type appendResult struct {
	BaseOffset     int64
	LogAppendTime  int64 // -1 unless the topic uses LogAppendTime
	LogStartOffset int64
}

// append writes one batch, after the idempotence check, and returns a
// wait function that blocks until it is durable under the topic's fsync
// policy and visible to consumers. The order of calls to append is the log
// order.
//
// A retry of a batch already in the log is answered with its original
// offset and not written again (Kafka's behaviour) — but only once that
// original is durable: its wait syncs the log, which also reports a failed
// log, so a retry can never be acknowledged for data that never reached
// the disk.
//
// verify, when not nil, is asked under the append lock before anything
// else: a transactional batch's check that its transaction is open here
// (so no batch can slip in after the transaction's marker).
func (p *partition) append(bt message.Batch, logAppendTime int64, verify func() error) (appendResult, func() error, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	res := appendResult{BaseOffset: -1, LogAppendTime: -1, LogStartOffset: p.log.StartOffset()}
	if verify != nil {
		if err := verify(); err != nil {
			return res, nil, err
		}
	}
	dup, err := p.producers.check(bt)
	if err != nil {
		return res, nil, err
	}
	if dup != nil {
		res.BaseOffset = dup.firstOffset
		end := dup.lastOffset + 1
		return res, func() error {
			if err := p.log.Sync(); err != nil {
				return fmt.Errorf("%w: %w", ErrStorage, err)
			}
			p.advanceHW(end)
			return nil
		}, nil
	}
	if logAppendTime >= 0 {
		message.SetLogAppendTime(bt.Raw, logAppendTime)
		res.LogAppendTime = logAppendTime
	}
	pd, err := p.log.AppendAsync(bt.Raw, p.epoch)
	if errors.Is(err, storage.ErrLogClosed) {
		// The topic was deleted (or the broker is stopping) under us.
		return res, nil, fmt.Errorf("%w: %s-%d is gone", ErrUnknownTopicOrPartition, p.topic, p.index)
	}
	if err != nil {
		return res, nil, fmt.Errorf("%w: %w", ErrStorage, err)
	}
	bt.BaseOffset = pd.BaseOffset
	p.producers.record(bt)
	p.txns.observe(bt, false)
	res.BaseOffset = pd.BaseOffset
	return res, func() error {
		if err := pd.Wait(); err != nil {
			return fmt.Errorf("%w: %w", ErrStorage, err)
		}
		p.advanceHW(pd.EndOffset)
		return nil
	}, nil
}

// writeMarker appends a transaction marker of the producer and returns a
// wait for its durability. The marker moves the last stable offset past
// the producer's records here; an abort also lists them as aborted.
func (p *partition) writeMarker(commit bool, producerID int64, epoch int16, ts int64) (func() error, error) {
	raw := message.EncodeMarker(commit, producerID, epoch, 0, ts)
	bt, err := message.ParseHeader(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptMessage, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pd, err := p.log.AppendAsync(raw, p.epoch)
	if errors.Is(err, storage.ErrLogClosed) && p.deleted {
		return func() error { return nil }, nil // nothing left to end
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStorage, err)
	}
	bt.BaseOffset = pd.BaseOffset
	p.producers.record(bt)
	p.txns.observe(bt, commit)
	return func() error {
		if err := pd.Wait(); err != nil {
			return fmt.Errorf("%w: %w", ErrStorage, err)
		}
		p.advanceHW(pd.EndOffset)
		return nil
	}, nil
}

// advanceHW publishes durable data to fetchers.
func (p *partition) advanceHW(end int64) {
	if end <= p.log.HighWatermark() {
		return
	}
	p.log.SetHighWatermark(end)
	p.wake()
}

// wait registers ch to be signalled (non-blocking) on the next HW move;
// the returned func unregisters it.
func (p *partition) wait(ch chan struct{}) func() {
	p.wmu.Lock()
	p.waiters[ch] = struct{}{}
	p.wmu.Unlock()
	return func() {
		p.wmu.Lock()
		delete(p.waiters, ch)
		p.wmu.Unlock()
	}
}

func (p *partition) wake() {
	p.wmu.Lock()
	for ch := range p.waiters {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	p.wmu.Unlock()
}

func (p *partition) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.log.Close()
	p.wake()
	return err
}

func (p *partition) delete() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deleted = true
	err := p.log.Delete()
	p.wake()
	return err
}
