package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

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
	epoch     int32          // leader epoch; constant on a single node

	wmu     sync.Mutex
	waiters map[chan struct{}]struct{} // fetches parked until the HW moves
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
	ps, err := loadProducerStates(l)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("%w: producer state of %s-%d: %w", ErrStorage, topic, index, err)
	}
	p.producers = ps
	return p, nil
}

// appendResult is what an append reports back to the producer.
type appendResult struct {
	BaseOffset     int64
	LogAppendTime  int64 // -1 unless the topic uses LogAppendTime
	LogStartOffset int64
}

// append writes batches, after the idempotence check, and returns a wait
// function that blocks until they are durable under the topic's fsync
// policy and visible to consumers. The write order of calls to append is
// the log order.
func (p *partition) append(batches []message.Batch, logAppendTime int64) (appendResult, func() error, error) {
	p.mu.Lock()
	res := appendResult{BaseOffset: -1, LogAppendTime: -1}
	var pending []storage.Pending
	for i, bt := range batches {
		dup, err := p.producers.check(bt)
		if err != nil {
			p.mu.Unlock()
			return res, nil, err
		}
		if dup != nil {
			// A retry of a batch we already have: answer with its
			// original offset and write nothing (Kafka's behaviour).
			if i == 0 {
				res.BaseOffset = dup.firstOffset
			}
			continue
		}
		if logAppendTime >= 0 {
			message.SetLogAppendTime(bt.Raw, logAppendTime)
			res.LogAppendTime = logAppendTime
		}
		pd, err := p.log.AppendAsync(bt.Raw, p.epoch)
		if errors.Is(err, storage.ErrLogClosed) {
			// The topic was deleted (or the broker is stopping) under us.
			p.mu.Unlock()
			return res, nil, fmt.Errorf("%w: %s-%d is gone", ErrUnknownTopicOrPartition, p.topic, p.index)
		}
		if err != nil {
			p.mu.Unlock()
			return res, nil, fmt.Errorf("%w: %w", ErrStorage, err)
		}
		bt.BaseOffset = pd.BaseOffset
		p.producers.record(bt)
		if res.BaseOffset < 0 || i == 0 {
			res.BaseOffset = pd.BaseOffset
		}
		pending = append(pending, pd)
	}
	res.LogStartOffset = p.log.StartOffset()
	p.mu.Unlock()
	wait := func() error {
		for _, pd := range pending {
			if err := pd.Wait(); err != nil {
				return fmt.Errorf("%w: %w", ErrStorage, err)
			}
		}
		if n := len(pending); n > 0 {
			p.advanceHW(pending[n-1].EndOffset)
		}
		return nil
	}
	return res, wait, nil
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
	err := p.log.Delete()
	p.wake()
	return err
}
