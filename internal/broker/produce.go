package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/ternmq/tern/internal/message"
)

// ProduceResult answers one partition of a produce.
type ProduceResult struct {
	BaseOffset     int64
	LogAppendTime  int64 // -1 unless the topic uses LogAppendTime
	LogStartOffset int64
}

// Produce validates and writes the record batches of one partition. It
// returns once the batches are written, in call order, together with a
// wait function that blocks until they are durable under the topic's
// fsync policy and visible to fetchers; the adapter acknowledges only
// after wait returns nil. Splitting the two lets a connection start its
// next request while this one's fsync is shared with others (group
// commit) without reordering an idempotent producer's writes.
//
// records is taken over by the broker: the base offset and leader epoch
// are stamped into it in place.
func (b *Broker) Produce(ctx context.Context, topic string, part int32, records []byte) (ProduceResult, func() error, error) {
	return b.produce(ctx, topic, part, records, true)
}

// ProduceExisting is Produce that never auto-creates the topic: for a
// producer who may write to a topic but not create one, so a topic
// deleted between the adapter's check and the append is not recreated
// on their behalf.
func (b *Broker) ProduceExisting(ctx context.Context, topic string, part int32, records []byte) (ProduceResult, func() error, error) {
	return b.produce(ctx, topic, part, records, false)
}

func (b *Broker) produce(ctx context.Context, topic string, part int32, records []byte, create bool) (ProduceResult, func() error, error) {
	fail := ProduceResult{BaseOffset: -1, LogAppendTime: -1, LogStartOffset: -1}
	if err := b.enter(); err != nil {
		return fail, nil, err
	}
	defer b.leave()
	if _, err := b.Topic(ctx, topic, create); err != nil {
		return fail, nil, err
	}
	p, err := b.partition(topic, part)
	if err != nil {
		return fail, nil, err
	}
	s := p.settings.Load()
	batches, err := message.SplitBatches(records, message.Limits{MaxBatchBytes: s.maxMessageBytes})
	if err != nil {
		return fail, nil, mapBatchError(err)
	}
	// Produce v3+ carries exactly one batch per partition; Kafka refuses
	// more, and so does Tern: a request half written would be answered
	// with an error while its first batches stay in the log.
	if len(batches) != 1 {
		return fail, nil, fmt.Errorf("%w: %d record batches for one partition, want 1", ErrInvalidRecord, len(batches))
	}
	bt := batches[0]
	if bt.Control() {
		return fail, nil, fmt.Errorf("%w: clients may not write control batches", ErrInvalidRecord)
	}
	var verify func() error
	if bt.Transactional() {
		if !bt.Idempotent() {
			return fail, nil, fmt.Errorf("%w: a transactional batch needs a producer id", ErrInvalidRecord)
		}
		verify = b.verifyTxn(bt, topic, part)
	}
	if err := p.requireKeys(bt); err != nil {
		return fail, nil, err
	}
	lat := int64(-1)
	if s.logAppendTime {
		lat = b.nowMs()
	}
	res, wait, err := p.append(bt, lat, verify)
	if err != nil {
		return fail, nil, err
	}
	p.producedRecords.Add(int64(bt.RecordCount))
	p.producedBytes.Add(int64(len(bt.Raw)))
	return ProduceResult(res), wait, nil
}

func mapBatchError(err error) error {
	switch {
	case errors.Is(err, message.ErrTooLarge):
		return fmt.Errorf("%w: %w", ErrRecordTooLarge, err)
	case errors.Is(err, message.ErrUnsupportedMagic):
		return fmt.Errorf("%w: %w", ErrUnsupportedMessageFormat, err)
	case errors.Is(err, message.ErrInvalidRecord):
		return fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	default:
		return fmt.Errorf("%w: %w", ErrCorruptMessage, err)
	}
}

// AllocateProducerID hands out a producer id that no earlier run of the
// broker handed out: ids are reserved in blocks recorded durably in the
// metadata log before any id of the block is used.
func (b *Broker) AllocateProducerID(ctx context.Context) (int64, error) {
	const block = 1000
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.nextProducerID >= b.producerIDEnd {
		end := b.producerIDEnd + block
		if err := b.meta.append(ctx, metaRecord{Type: metaProducerIDs, NextProducerID: end}); err != nil {
			return -1, err
		}
		b.nextProducerID, b.producerIDEnd = b.producerIDEnd, end
	}
	id := b.nextProducerID
	b.nextProducerID++
	return id, nil
}
