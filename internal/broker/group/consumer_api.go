package group

import "time"

// Group types, as Kafka names them in ListGroups v5+ (GroupType) and in
// Description.Type.
const (
	GroupTypeClassic  = "classic"
	GroupTypeConsumer = "consumer"
)

// States of a consumer group (KIP-848) beside Empty, Stable and Dead,
// spelled as Kafka spells them in ConsumerGroupDescribe and ListGroups.
const (
	// StateAssigning: the group epoch moved past the target assignment's;
	// the next heartbeat computes a new target assignment.
	StateAssigning = "Assigning"
	// StateReconciling: some member has not reached the target assignment.
	StateReconciling = "Reconciling"
)

// Server-side assignors (group.consumer.assignors). The first configured
// one is used when no member names one.
const (
	AssignorUniform = "uniform"
	AssignorRange   = "range"
)

// Special member epochs of ConsumerGroupHeartbeat.
const (
	// LeaveEpoch: the member leaves the group.
	LeaveEpoch int32 = -1
	// LeaveStaticEpoch: a static member leaves for now; its partitions
	// stay reserved for its instance id until its session expires.
	LeaveStaticEpoch int32 = -2
)

// TopicMeta is one topic as the coordinator sees the broker's catalog.
type TopicMeta struct {
	Name       string
	ID         [16]byte
	Partitions int32
}

// Topics is the broker's topic catalog, read by consumer groups to resolve
// subscriptions, assign partitions and notice topics created, deleted or
// grown. The coordinator calls it with its own lock held, so an
// implementation must not call the Coordinator; it may take locks of its
// own that are never held while calling the Coordinator. A nil Topics is
// a catalog without topics.
type Topics interface {
	// TopicByName returns the topic of that name.
	TopicByName(name string) (TopicMeta, bool)
	// TopicByID returns the topic with that id.
	TopicByID(id [16]byte) (TopicMeta, bool)
	// TopicNames returns every topic name, for regular expression
	// subscriptions; the caller does not keep or modify the slice.
	TopicNames() []string
}

// TopicPartitions is a set of partitions of one topic, named by id (and,
// in answers, by name when the topic still exists). Partitions are sorted.
type TopicPartitions struct {
	TopicID    [16]byte
	Topic      string
	Partitions []int32
}

// ConsumerHeartbeatRequest is a ConsumerGroupHeartbeat request. A nil
// pointer or slice is a field the client did not send (Kafka's null): the
// member's previous value stands. An empty, non-nil slice is an empty
// list.
type ConsumerHeartbeatRequest struct {
	Group       string
	MemberID    string
	MemberEpoch int32
	InstanceID  *string
	RackID      *string
	// RebalanceTimeoutMs is how long the member may take to revoke
	// partitions; -1 when not sent.
	RebalanceTimeoutMs int32
	SubscribedTopics   []string
	SubscribedRegex    *string
	ServerAssignor     *string
	// Owned are the partitions the member owns; nil when not sent.
	Owned []TopicPartitions
	// ClientID and ClientHost describe the connection, for
	// ConsumerGroupDescribe.
	ClientID, ClientHost string
	// Version is the request's version: from v1 the client chooses its
	// member id, so it may not be empty.
	Version int16
	// TopicAllowed, when not nil, filters the topics a regular expression
	// resolves to (Kafka resolves only topics the member may DESCRIBE).
	TopicAllowed func(topic string) bool
}

// ConsumerHeartbeatResponse answers a ConsumerHeartbeatRequest. When Err
// is set only Err is meaningful; its text is Kafka's error message.
type ConsumerHeartbeatResponse struct {
	Err               error
	MemberID          string
	MemberEpoch       int32
	HeartbeatInterval time.Duration
	// HasAssignment says whether Assignment is sent: Kafka sends the
	// member's assignment when it joins, on a full request, and when the
	// assignment changed.
	HasAssignment bool
	Assignment    []TopicPartitions
}

// ConsumerDescription is one group of a ConsumerGroupDescribe answer. Err
// is ErrGroupIDNotFound for a group that does not exist or is not a
// consumer group.
type ConsumerDescription struct {
	Group           string
	Err             error
	State           string
	Epoch           int32
	AssignmentEpoch int32
	Assignor        string
	Members         []ConsumerMemberDescription
}

// ConsumerMemberDescription is one member of a ConsumerDescription.
type ConsumerMemberDescription struct {
	MemberID, InstanceID, RackID string
	ClientID, ClientHost         string
	MemberEpoch                  int32
	SubscribedTopics             []string
	SubscribedRegex              string
	Assignment, TargetAssignment []TopicPartitions
}
