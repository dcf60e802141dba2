package group

import (
	"context"
	"fmt"
)

// ValidateTxnMember is TxnOffsetCommit's group check (KIP-447): a
// transactional producer committing for a consumer that names its member
// id and generation must be a current member of the group's current
// generation, so a zombie consumer's transaction cannot commit offsets
// after the group moved on. Generation -1 with no member id skips it, as
// in Kafka.
func (c *Coordinator) ValidateTxnMember(group, memberID, instanceID string, generation int32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrCoordinatorNotAvailable
	}
	if generation < 0 && memberID == "" && instanceID == "" {
		return nil
	}
	g := c.m.groups[group]
	if g != nil && g.consumer != nil {
		// A consumer-protocol group (KIP-848): the generation is the
		// member epoch, checked as for OffsetCommit.
		return validateConsumerCommit(g, memberID, generation)
	}
	if g == nil {
		return ErrIllegalGeneration
	}
	_, err := g.committer(memberID, instanceID, generation)
	return err
}

// CommitTxnOffsets applies the offsets of a committed transaction: they
// were validated when the transaction sent them (TxnOffsetCommit), and
// the transaction's commit point has passed, so they are stored whatever
// the group's state, creating the group if needed. It returns once they
// are durable and visible.
func (c *Coordinator) CommitTxnOffsets(ctx context.Context, group string, offsets []OffsetCommit) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrCoordinatorNotAvailable
	}
	now := c.cfg.Now()
	g := c.m.groups[group]
	if g == nil {
		g = newGroup(group)
		g.stateTime = now
		c.m.groups[group] = g
	}
	plan := &commitPlan{g: g}
	for _, o := range offsets {
		plan.add(o, now)
	}
	done := c.persistCommit(plan)
	c.mu.Unlock()
	select {
	case err := <-done:
		if err != nil {
			return unavailable(err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("group: transactional commit not confirmed: %w", ctx.Err())
	}
}

// MaxOffsetMetadataBytes is the configured cap on a committed offset's
// metadata, which TxnOffsetCommit checks when the offset is sent.
func (c *Coordinator) MaxOffsetMetadataBytes() int { return c.cfg.MaxOffsetMetadataBytes }
