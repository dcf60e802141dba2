package group

// appendOp is a batch of journal records and what to do once the journal
// answered. done runs on the writer goroutine with no lock held.
type appendOp struct {
	records []JournalRecord
	done    func(error)
}

// enqueue queues records for the journal; c.mu is held, so the queue is in
// the order the state changed. Every queued op's done is called exactly
// once, with ErrCoordinatorNotAvailable if the coordinator closes first.
func (c *Coordinator) enqueue(records []JournalRecord, done func(error)) {
	c.queue = append(c.queue, appendOp{records: records, done: done})
	select {
	case c.wakeWriter <- struct{}{}:
	default:
	}
}

// writer is the only caller of Journal.Append. It appends everything
// queued so far in one call (group commit across groups and requests), then
// completes the ops in order, so the effects of durable records (visible
// offsets, answers) follow the journal's order.
func (c *Coordinator) writer() {
	defer c.wg.Done()
	for {
		select {
		case <-c.stop:
			c.abandonQueue()
			return
		case <-c.wakeWriter:
		}
		for {
			c.mu.Lock()
			ops := c.queue
			c.queue = nil
			c.mu.Unlock()
			if len(ops) == 0 {
				break
			}
			select {
			case <-c.stop: // closed: append nothing more
				for _, op := range ops {
					op.done(ErrCoordinatorNotAvailable)
				}
				c.abandonQueue()
				return
			default:
			}
			var recs []JournalRecord
			for _, op := range ops {
				recs = append(recs, op.records...)
			}
			err := c.journal.Append(c.appendCtx, recs)
			if err != nil {
				c.log.Error("group journal append failed", "records", len(recs), "err", err)
			}
			for _, op := range ops {
				op.done(err)
			}
		}
	}
}

// abandonQueue fails the ops nobody will append.
func (c *Coordinator) abandonQueue() {
	c.mu.Lock()
	ops := c.queue
	c.queue = nil
	c.mu.Unlock()
	for _, op := range ops {
		op.done(ErrCoordinatorNotAvailable)
	}
}
