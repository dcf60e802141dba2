package txn

import (
	"context"
	"fmt"
	"math"
	"time"
)

// InitProducerID handles InitProducerId with a transactional id: the
// producer id and epoch the caller must use from now on. A new id gets a
// new producer id at epoch 0; a known one gets its epoch bumped, after
// the transaction a previous incarnation left open is aborted (fencing
// it). producerID and epoch are the caller's current ones (KIP-360,
// InitProducerId v3+), or -1.
func (c *Coordinator) InitProducerID(ctx context.Context, id string, timeoutMs int32, producerID int64, epoch int16) (int64, int16, error) {
	if timeoutMs <= 0 || time.Duration(timeoutMs)*time.Millisecond > c.cfg.MaxTimeout {
		return -1, -1, fmt.Errorf("%w: %d ms is not in (0, %d]", ErrInvalidTransactionTimeout, timeoutMs, c.cfg.MaxTimeout.Milliseconds())
	}
	e, err := c.lookup(id, true)
	if err != nil {
		return -1, -1, err
	}
	e.lock()
	defer e.unlock()
	st, state := c.view(e)
	if st.ProducerID < 0 {
		if producerID >= 0 {
			return -1, -1, fmt.Errorf("%w: transactional id %q is new, it has no producer id %d", ErrInvalidProducerIDMapping, id, producerID)
		}
		pid, err := c.newProducerID(ctx)
		if err != nil {
			return -1, -1, err
		}
		st = txnState{ProducerID: pid, Epoch: 0, LastEpoch: -1, TimeoutMs: timeoutMs, StartMs: -1}
		if err := c.persist(ctx, e, st, Empty); err != nil {
			return -1, -1, err
		}
		return pid, 0, nil
	}
	if producerID >= 0 {
		switch {
		case producerID != st.ProducerID:
			return -1, -1, fmt.Errorf("%w: transactional id %q has producer id %d, not %d", ErrInvalidProducerIDMapping, id, st.ProducerID, producerID)
		case epoch != st.Epoch && epoch != st.LastEpoch:
			return -1, -1, fmt.Errorf("%w: transactional id %q is at epoch %d, not %d", ErrProducerFenced, id, st.Epoch, epoch)
		}
	}
	switch state {
	case Ongoing, PrepareCommit, PrepareAbort:
		// Ongoing: the previous producer died or is a zombie; abort with
		// a bumped epoch so its late requests are refused. Prepare: a
		// completion failed earlier; finish it.
		if st, err = c.end(ctx, e, st, state, state == PrepareCommit, state == Ongoing); err != nil {
			return -1, -1, err
		}
	}
	st.LastEpoch = -1
	if st.Epoch >= math.MaxInt16-1 {
		pid, err := c.newProducerID(ctx)
		if err != nil {
			return -1, -1, err
		}
		st.ProducerID, st.Epoch = pid, 0
	} else {
		st.Epoch++
	}
	st.TimeoutMs, st.StartMs, st.Partitions, st.Offsets = timeoutMs, -1, nil, nil
	if err := c.persist(ctx, e, st, Empty); err != nil {
		return -1, -1, err
	}
	return st.ProducerID, st.Epoch, nil
}

func (c *Coordinator) newProducerID(ctx context.Context) (int64, error) {
	pid, err := c.p.AllocateProducerID(ctx)
	if err != nil {
		return -1, fmt.Errorf("%w: %w", ErrCoordinatorNotAvailable, err)
	}
	return pid, nil
}

// begin takes the operation lock of an id and checks the producer; the
// caller must unlock e when err is nil.
func (c *Coordinator) begin(id string, producerID int64, epoch int16) (*entry, txnState, State, error) {
	e, err := c.lookup(id, false)
	if err != nil {
		return nil, txnState{}, 0, err
	}
	e.lock()
	st, state := c.view(e)
	if err := checkProducer(id, st, producerID, epoch); err != nil {
		e.unlock()
		return nil, txnState{}, 0, err
	}
	return e, st, state, nil
}

// add opens the transaction if needed and records what change adds to it.
func (c *Coordinator) add(ctx context.Context, id string, producerID int64, epoch int16, change func(txnState) txnState) error {
	e, st, state, err := c.begin(id, producerID, epoch)
	if err != nil {
		return err
	}
	defer e.unlock()
	switch state {
	case PrepareCommit, PrepareAbort:
		return fmt.Errorf("%w: transactional id %q is completing its last transaction", ErrConcurrentTransactions, id)
	case Ongoing:
	default:
		st.StartMs, st.Partitions, st.Offsets = c.cfg.Now().UnixMilli(), nil, nil
	}
	return c.persist(ctx, e, change(st), Ongoing)
}

// AddPartitions handles AddPartitionsToTxn: the partitions join the open
// transaction (opening one if none is), durably, before the producer may
// write to them. The caller checks that the partitions exist.
func (c *Coordinator) AddPartitions(ctx context.Context, id string, producerID int64, epoch int16, parts []Partition) error {
	return c.add(ctx, id, producerID, epoch, func(st txnState) txnState { return st.withPartitions(parts) })
}

// AddOffsets handles AddOffsetsToTxn: the group joins the transaction, so
// TxnOffsetCommit may commit offsets for it.
func (c *Coordinator) AddOffsets(ctx context.Context, id string, producerID int64, epoch int16, group string) error {
	return c.add(ctx, id, producerID, epoch, func(st txnState) txnState { return st.withOffsets(group, nil) })
}

// CommitOffsets handles TxnOffsetCommit (after the adapter checked the
// consumer's group membership, KIP-447): the offsets are kept with the
// transaction, durably, and reach the group when it commits.
func (c *Coordinator) CommitOffsets(ctx context.Context, id string, producerID int64, epoch int16, group string, offs []Offset) error {
	e, st, state, err := c.begin(id, producerID, epoch)
	if err != nil {
		return err
	}
	defer e.unlock()
	if _, added := st.Offsets[group]; state != Ongoing || !added {
		return fmt.Errorf("%w: transactional id %q has not added group %q to an open transaction (state %s)", ErrInvalidTxnState, id, group, state)
	}
	return c.persist(ctx, e, st.withOffsets(group, offs), Ongoing)
}

// EndTxn handles EndTxn: commit or abort the open transaction. It returns
// once the markers are in every partition and, on commit, the offsets in
// every group. A retry of a completed end is answered as it was.
func (c *Coordinator) EndTxn(ctx context.Context, id string, producerID int64, epoch int16, commit bool) error {
	e, st, state, err := c.begin(id, producerID, epoch)
	if err != nil {
		return err
	}
	defer e.unlock()
	switch {
	case state == Ongoing,
		state == PrepareCommit && commit,
		state == PrepareAbort && !commit:
		_, err := c.end(ctx, e, st, state, commit, false)
		return err
	case state == CompleteCommit && commit, state == CompleteAbort && !commit:
		return nil
	}
	verb := map[bool]string{true: "commit", false: "abort"}[commit]
	return fmt.Errorf("%w: cannot %s transactional id %q in state %s", ErrInvalidTxnState, verb, id, state)
}

// end is the two-phase completion, under e's operation lock: the
// decision is made durable (Prepare, the commit point), the markers are
// written and the offsets applied, and Complete is recorded. bump raises
// the epoch with the decision, fencing the producer (timeouts and
// takeovers); the markers carry the bumped epoch so the partitions learn
// it too.
func (c *Coordinator) end(ctx context.Context, e *entry, st txnState, state State, commit, bump bool) (txnState, error) {
	if state == Ongoing {
		if bump && st.Epoch < math.MaxInt16 {
			st.LastEpoch = st.Epoch
			st.Epoch++
		}
		state = PrepareAbort
		if commit {
			state = PrepareCommit
		}
		if err := c.persist(ctx, e, st, state); err != nil {
			return st, err
		}
	}
	if err := c.p.WriteMarkers(ctx, st.ProducerID, st.Epoch, commit, st.Partitions); err != nil {
		return st, fmt.Errorf("%w: writing markers: %w", ErrCoordinatorNotAvailable, err)
	}
	if commit {
		for g, offs := range st.Offsets {
			if len(offs) == 0 {
				continue
			}
			if err := c.p.CommitOffsets(ctx, g, offs); err != nil {
				return st, fmt.Errorf("%w: committing offsets of group %q: %w", ErrCoordinatorNotAvailable, g, err)
			}
		}
	}
	done := CompleteAbort
	if commit {
		done = CompleteCommit
	}
	st.Partitions, st.Offsets, st.StartMs = nil, nil, -1
	if err := c.persist(ctx, e, st, done); err != nil {
		return st, err
	}
	return st, nil
}

// timeoutLoop aborts transactions open longer than their timeout and
// retries completions that failed.
func (c *Coordinator) timeoutLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.CheckInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			c.AbortTimedOut(c.ctx)
		}
	}
}

// AbortTimedOut aborts, with a bumped epoch, every transaction open
// longer than its timeout, and finishes prepared ones whose completion
// failed. It skips ids busy with a request. It reports how many it
// completed.
func (c *Coordinator) AbortTimedOut(ctx context.Context) int {
	now := c.cfg.Now().UnixMilli()
	c.mu.Lock()
	var due []*entry
	for _, e := range c.txns {
		switch e.state {
		case Ongoing:
			if now-e.st.StartMs > int64(e.st.TimeoutMs) {
				due = append(due, e)
			}
		case PrepareCommit, PrepareAbort:
			due = append(due, e)
		}
	}
	c.mu.Unlock()
	n := 0
	for _, e := range due {
		select {
		case e.op <- struct{}{}:
		default:
			continue // a request holds it; look again next time
		}
		if c.settle(ctx, e, now) {
			n++
		}
		e.unlock()
	}
	return n
}

// settle, under e's operation lock, aborts e's transaction (bumping the
// epoch) if it is open past its timeout at now, or finishes a prepared
// one, and reports whether it completed one. A failure is logged; the
// next check retries.
func (c *Coordinator) settle(ctx context.Context, e *entry, now int64) bool {
	st, state := c.view(e)
	timedOut := state == Ongoing && now-st.StartMs > int64(st.TimeoutMs)
	if !timedOut && state != PrepareCommit && state != PrepareAbort {
		return false
	}
	if _, err := c.end(ctx, e, st, state, state == PrepareCommit, timedOut); err != nil {
		c.cfg.Logger.Warn("completing a transaction failed; will retry", "transactional_id", e.id, "state", state, "err", err)
		return false
	}
	if timedOut {
		c.cfg.Logger.Info("aborted a timed-out transaction", "transactional_id", e.id, "producer_id", st.ProducerID, "timeout_ms", st.TimeoutMs)
	} else {
		c.cfg.Logger.Info("completed a prepared transaction", "transactional_id", e.id, "state", state)
	}
	return true
}
