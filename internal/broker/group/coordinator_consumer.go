package group

import (
	"context"
	"fmt"
)

// ConsumerHeartbeat handles ConsumerGroupHeartbeat (KIP-848): it joins,
// heartbeats for or removes (epoch -1, -2) a member of a consumer group,
// and answers with the member's epoch and, when it changed or the member
// (re)joined, its assignment. It never waits for other members; it blocks
// only until the changes it made are durable, ctx is done (Err then wraps
// ctx.Err(); the changes may still become durable) or the coordinator
// closes. Errors are sentinels of errors.go whose text is Kafka's message.
func (c *Coordinator) ConsumerHeartbeat(ctx context.Context, r ConsumerHeartbeatRequest) ConsumerHeartbeatResponse {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ConsumerHeartbeatResponse{Err: ErrCoordinatorNotAvailable}
	}
	resp, eff := c.m.consumerHeartbeat(c.cfg.Now(), r)
	done := c.handle(eff)
	c.mu.Unlock()
	if done == nil {
		return resp
	}
	select {
	case err := <-done:
		if err != nil {
			return ConsumerHeartbeatResponse{Err: unavailable(err)}
		}
		return resp
	case <-ctx.Done():
		return ConsumerHeartbeatResponse{Err: fmt.Errorf("group: heartbeat not confirmed: %w", ctx.Err())}
	}
}

// ConsumerDescribe handles ConsumerGroupDescribe: one description per
// group, in order. A group that does not exist or is not a consumer group
// has Err ErrGroupIDNotFound; after Close every Err is
// ErrCoordinatorNotAvailable.
func (c *Coordinator) ConsumerDescribe(groups []string) []ConsumerDescription {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ConsumerDescription, len(groups))
	for i, g := range groups {
		if c.closed {
			out[i] = ConsumerDescription{Group: g, Err: ErrCoordinatorNotAvailable}
			continue
		}
		out[i] = c.m.consumerDescribe(g)
	}
	return out
}

// FetchOffsetsAs is FetchOffsets for OffsetFetch v9+, which may name the
// member asking: in a consumer group the member must exist
// (ErrUnknownMemberID) and send its current epoch (ErrStaleMemberEpoch).
// A memberID of "" with a negative epoch names nobody, as an admin client
// does; classic groups accept anyone.
func (c *Coordinator) FetchOffsetsAs(group, memberID string, memberEpoch int32, topics map[string][]int32) ([]CommittedOffset, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrCoordinatorNotAvailable
	}
	if err := c.m.validateFetch(group, memberID, memberEpoch); err != nil {
		return nil, err
	}
	return c.m.fetch(group, topics), nil
}

// UsesConsumerProtocol reports whether memberID is a consumer-protocol
// member of group: Kafka requires OffsetCommit v9 or later from those.
func (c *Coordinator) UsesConsumerProtocol(group, memberID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed && c.m.usesConsumerProtocol(group, memberID)
}
