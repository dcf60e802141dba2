package group

import (
	"errors"
	"fmt"
)

// Sentinel errors returned by the coordinator. Each is named for the Kafka
// error code it stands for; the Kafka adapter maps them to kerr codes in one
// table, and other callers compare them with errors.Is (the coordinator may
// wrap them with context).
var (
	// ErrUnknownMemberID: the member id is not a member (or pending member)
	// of the group, or the group does not exist.
	ErrUnknownMemberID = errors.New("group: unknown member id")
	// ErrIllegalGeneration: the request's generation is not the group's.
	ErrIllegalGeneration = errors.New("group: illegal generation")
	// ErrRebalanceInProgress: the group is rebalancing; the member must rejoin.
	ErrRebalanceInProgress = errors.New("group: rebalance in progress")
	// ErrInconsistentGroupProtocol: the protocol type or protocols of a join
	// (or the protocol type/name of a sync) do not match the group's.
	ErrInconsistentGroupProtocol = errors.New("group: inconsistent group protocol")
	// ErrMemberIDRequired: a JoinGroup v4+ with an empty member id; the
	// response carries the member id to rejoin with.
	ErrMemberIDRequired = errors.New("group: member id required")
	// ErrFencedInstanceID: the group.instance.id is now owned by another
	// member id (a newer incarnation of the static member).
	ErrFencedInstanceID = errors.New("group: fenced instance id")
	// ErrInvalidSessionTimeout: the session timeout is outside the
	// configured [MinSessionTimeout, MaxSessionTimeout].
	ErrInvalidSessionTimeout = errors.New("group: invalid session timeout")
	// ErrGroupMaxSizeReached: the group already has MaxGroupSize members.
	ErrGroupMaxSizeReached = errors.New("group: group max size reached")
	// ErrInvalidGroupID: the group id is empty where a group is required.
	ErrInvalidGroupID = errors.New("group: invalid group id")
	// ErrGroupIDNotFound: DeleteGroups/DeleteOffsets on a group that does not
	// exist.
	ErrGroupIDNotFound = errors.New("group: group id not found")
	// ErrNonEmptyGroup: the group still has members (DeleteGroups), or
	// DeleteOffsets on a non-empty group whose protocol type is not
	// "consumer".
	ErrNonEmptyGroup = errors.New("group: non-empty group")
	// ErrGroupSubscribedToTopic: DeleteOffsets of a topic a current member
	// of the (consumer) group subscribes to.
	ErrGroupSubscribedToTopic = errors.New("group: group subscribed to topic")
	// ErrOffsetMetadataTooLarge: a committed offset's metadata is longer
	// than Config.MaxOffsetMetadataBytes.
	ErrOffsetMetadataTooLarge = errors.New("group: offset metadata too large")
	// ErrCoordinatorNotAvailable: the coordinator is closed, or the journal
	// failed to make a change durable. Retriable by the client.
	ErrCoordinatorNotAvailable = errors.New("group: coordinator not available")
	// ErrFencedMemberEpoch: a consumer-protocol member's epoch is neither
	// its current one nor, with a subset of its partitions, its previous
	// one; it must abandon its partitions and rejoin (epoch 0).
	ErrFencedMemberEpoch = errors.New("group: fenced member epoch")
	// ErrStaleMemberEpoch: an offset commit or fetch carries a member epoch
	// other than the member's current one.
	ErrStaleMemberEpoch = errors.New("group: stale member epoch")
	// ErrUnreleasedInstanceID: a static member joins with an instance id
	// another member still holds (that member has not left with epoch -2).
	ErrUnreleasedInstanceID = errors.New("group: unreleased instance id")
	// ErrUnsupportedAssignor: the server assignor asked for is not one of
	// Config.ConsumerAssignors.
	ErrUnsupportedAssignor = errors.New("group: unsupported assignor")
	// ErrInvalidRequest: a ConsumerGroupHeartbeat breaks the protocol's
	// rules (empty member id from v1, missing fields when joining, ...).
	ErrInvalidRequest = errors.New("group: invalid request")
	// ErrInvalidRegularExpression: SubscribedTopicRegex does not compile.
	ErrInvalidRegularExpression = errors.New("group: invalid regular expression")
	// ErrUnsupportedVersion: a consumer-protocol member commits offsets
	// with an OffsetCommit version below 9.
	ErrUnsupportedVersion = errors.New("group: unsupported version")
	// ErrNoGroupForGeneration: an offset commit with a generation or member
	// epoch for a group that does not exist. It is an
	// ErrIllegalGeneration; OffsetCommit v9+ reports it as
	// GROUP_ID_NOT_FOUND.
	ErrNoGroupForGeneration = fmt.Errorf("%w (no such group)", ErrIllegalGeneration)
	// ErrCorruptRecord: Replay produced a record the coordinator cannot
	// decode (unknown key or value version, truncated fields). Returned by
	// NewCoordinator; never sent to clients.
	ErrCorruptRecord = errors.New("group: corrupt journal record")
)

// kafkaError is a sentinel with Kafka's error message for this occurrence:
// Error returns the message alone, so the adapter can send it as the
// response's ErrorMessage, and errors.Is finds the sentinel.
type kafkaError struct {
	sentinel error
	msg      string
}

func (e *kafkaError) Error() string { return e.msg }
func (e *kafkaError) Unwrap() error { return e.sentinel }

// errorf makes a kafkaError.
func errorf(sentinel error, format string, args ...any) error {
	return &kafkaError{sentinel: sentinel, msg: fmt.Sprintf(format, args...)}
}

// KafkaMessage is the message the Kafka adapter sends as ErrorMessage.
func (e *kafkaError) KafkaMessage() string { return e.msg }
