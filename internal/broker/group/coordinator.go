package group

import (
	"context"
	"fmt"
)

// Coordinator is the consumer-group coordinator. Stub: every call answers
// ErrCoordinatorNotAvailable until the state machine lands.
type Coordinator struct{ cfg Config }

// NewCoordinator replays j and starts serving.
func NewCoordinator(cfg Config, j Journal) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if j == nil {
		return nil, fmt.Errorf("group: nil Journal")
	}
	return &Coordinator{cfg: cfg.withDefaults()}, nil
}

// Close stops the coordinator.
func (c *Coordinator) Close() error { return nil }

// Join handles JoinGroup.
func (c *Coordinator) Join(ctx context.Context, r JoinRequest) JoinResponse {
	return JoinResponse{Err: ErrCoordinatorNotAvailable}
}

// Sync handles SyncGroup.
func (c *Coordinator) Sync(ctx context.Context, r SyncRequest) SyncResponse {
	return SyncResponse{Err: ErrCoordinatorNotAvailable}
}

// Heartbeat handles Heartbeat.
func (c *Coordinator) Heartbeat(group, memberID, instanceID string, generation int32) error {
	return ErrCoordinatorNotAvailable
}

// Leave handles LeaveGroup.
func (c *Coordinator) Leave(group string, members []LeaveMember) (error, []error) {
	return ErrCoordinatorNotAvailable, nil
}

// CommitOffsets handles OffsetCommit.
func (c *Coordinator) CommitOffsets(ctx context.Context, group, memberID, instanceID string, generation int32, offsets []OffsetCommit) (error, []error) {
	return ErrCoordinatorNotAvailable, nil
}

// FetchOffsets handles OffsetFetch.
func (c *Coordinator) FetchOffsets(group string, topics map[string][]int32) ([]CommittedOffset, error) {
	return nil, ErrCoordinatorNotAvailable
}

// DeleteGroups handles DeleteGroups.
func (c *Coordinator) DeleteGroups(groups []string) []error {
	errs := make([]error, len(groups))
	for i := range errs {
		errs[i] = ErrCoordinatorNotAvailable
	}
	return errs
}

// DeleteOffsets handles OffsetDelete.
func (c *Coordinator) DeleteOffsets(ctx context.Context, group string, topics map[string][]int32) (error, map[string]map[int32]error) {
	return ErrCoordinatorNotAvailable, nil
}

// Describe handles DescribeGroups.
func (c *Coordinator) Describe(groups []string) []Description { return nil }

// List handles ListGroups.
func (c *Coordinator) List(states []string) []Listing { return nil }
