package txn

import (
	"fmt"
	"slices"
	"strings"
)

// Verify is asked by a partition, under its append lock, before it
// appends a transactional batch: the producer's transaction must be open
// with the partition added, at the producer's current epoch. It never
// blocks on I/O, and the state it reads changes to Prepare before any
// marker is written, so no batch of a transaction can land after its
// marker.
func (c *Coordinator) Verify(producerID int64, epoch int16, p Partition) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byProducer[producerID]
	switch {
	case e == nil:
		return fmt.Errorf("%w: producer id %d has no transactional id", ErrInvalidTxnState, producerID)
	case epoch < e.st.Epoch:
		return fmt.Errorf("%w: producer id %d epoch %d is older than %d", ErrInvalidProducerEpoch, producerID, epoch, e.st.Epoch)
	case epoch > e.st.Epoch:
		return fmt.Errorf("%w: producer id %d epoch %d is newer than %d", ErrInvalidTxnState, producerID, epoch, e.st.Epoch)
	case e.state != Ongoing || !e.hasPartition(p):
		return fmt.Errorf("%w: %s-%d is not in an open transaction of producer id %d", ErrInvalidTxnState, p.Topic, p.Partition, producerID)
	}
	return nil
}

// PendingOffset reports whether an open transaction holds an offset for
// the group's partition that it has not committed yet (KIP-447: an
// OffsetFetch that requires stable offsets waits for it).
func (c *Coordinator) PendingOffset(group, topic string, partition int32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.txns {
		if e.state != Ongoing && e.state != PrepareCommit {
			continue
		}
		for _, o := range e.st.Offsets[group] {
			if o.Topic == topic && o.Partition == partition {
				return true
			}
		}
	}
	return false
}

// Describe handles DescribeTransactions: one snapshot per id, in order,
// or ErrTransactionalIDNotFound.
func (c *Coordinator) Describe(ids []string) ([]Transaction, []error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Transaction, len(ids))
	errs := make([]error, len(ids))
	for i, id := range ids {
		e := c.txns[id]
		if e == nil || e.st.ProducerID < 0 {
			out[i] = Transaction{ID: id, ProducerID: -1, ProducerEpoch: -1, StartMs: -1}
			errs[i] = fmt.Errorf("%w: %q", ErrTransactionalIDNotFound, id)
			continue
		}
		out[i] = e.st.snapshot(id, e.state)
	}
	return out, errs
}

// ListFilter narrows List; empty fields match everything.
type ListFilter struct {
	States      []State
	ProducerIDs []int64
	MinDuration int64 // ms an open transaction has run; -1 or 0: any
}

// List handles ListTransactions: every transactional id matching f,
// sorted by id.
func (c *Coordinator) List(f ListFilter) []Transaction {
	now := c.cfg.Now().UnixMilli()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Transaction
	for id, e := range c.txns {
		if e.st.ProducerID < 0 {
			continue
		}
		if len(f.States) > 0 && !slices.Contains(f.States, e.state) {
			continue
		}
		if len(f.ProducerIDs) > 0 && !slices.Contains(f.ProducerIDs, e.st.ProducerID) {
			continue
		}
		if f.MinDuration > 0 && (e.state != Ongoing || now-e.st.StartMs < f.MinDuration) {
			continue
		}
		out = append(out, e.st.snapshot(id, e.state))
	}
	slices.SortFunc(out, func(a, b Transaction) int { return strings.Compare(a.ID, b.ID) })
	return out
}
