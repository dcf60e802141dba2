package group

import "time"

// Protocol is one assignment protocol a member supports, in the member's
// order of preference, with its opaque metadata (for protocol type
// "consumer": the consumer protocol subscription).
type Protocol struct {
	Name     string
	Metadata []byte
}

// JoinRequest is a JoinGroup request. Empty strings mean "not set"
// (Kafka's null/empty member id and group.instance.id).
type JoinRequest struct {
	Group        string
	MemberID     string // "" for a new member
	InstanceID   string // group.instance.id; "" for a dynamic member
	ClientID     string
	ClientHost   string
	ProtocolType string
	Protocols    []Protocol
	// SessionTimeout is how long the member may go without heartbeating.
	SessionTimeout time.Duration
	// RebalanceTimeout is how long the member may take to rejoin once a
	// rebalance starts (JoinGroup v0 has none: pass SessionTimeout).
	RebalanceTimeout time.Duration
	// RequireKnownMemberID is true for JoinGroup v4+: a new dynamic member is
	// first answered ErrMemberIDRequired with its id (KIP-394).
	RequireKnownMemberID bool
	// Reason is logged (JoinGroup v8+).
	Reason string
}

// MemberMetadata is one member as sent to the group leader in the join
// response.
type MemberMetadata struct {
	MemberID   string
	InstanceID string
	Metadata   []byte // the member's metadata for the selected protocol
}

// JoinResponse answers a JoinRequest. When Err is ErrMemberIDRequired,
// MemberID holds the id the client must rejoin with; for other errors only
// Err (and possibly MemberID) is meaningful.
type JoinResponse struct {
	Err          error
	Generation   int32
	ProtocolType string
	Protocol     string
	LeaderID     string
	MemberID     string
	// Members is set for the leader only: every member of the new
	// generation, in join order.
	Members []MemberMetadata
	// SkipAssignment is true when a static leader rejoined a stable group:
	// it must not compute a new assignment (KIP-814, JoinGroup v9+).
	SkipAssignment bool
}

// SyncRequest is a SyncGroup request. ProtocolType and Protocol are ""
// when not sent (before SyncGroup v5). Assignments is set by the leader
// only, keyed by member id.
type SyncRequest struct {
	Group        string
	MemberID     string
	InstanceID   string
	ProtocolType string
	Protocol     string
	Generation   int32
	Assignments  map[string][]byte
}

// SyncResponse answers a SyncRequest with the member's assignment.
type SyncResponse struct {
	Err          error
	ProtocolType string
	Protocol     string
	Assignment   []byte
}

// LeaveMember is one member of a LeaveGroup request. Before LeaveGroup v3
// the adapter passes one LeaveMember with only MemberID set. A member may be
// named by InstanceID alone (MemberID ""), which removes whichever member
// id currently owns that instance.
type LeaveMember struct {
	MemberID, InstanceID, Reason string
}

// OffsetCommit is one partition of an OffsetCommit request.
type OffsetCommit struct {
	Topic       string
	Partition   int32
	Offset      int64
	LeaderEpoch int32 // -1 when unknown
	Metadata    string
}

// CommittedOffset is one partition of an OffsetFetch answer. Offset and
// LeaderEpoch are -1 when nothing is committed.
type CommittedOffset struct {
	Topic       string
	Partition   int32
	Offset      int64
	LeaderEpoch int32
	Metadata    string
}

// Description is one group of a DescribeGroups answer. As in Kafka,
// Protocol and the members' Metadata and Assignment are set only when the
// group is Stable, and an unknown group is described as State "Dead" with a
// nil Err.
//
// A consumer group (Type GroupTypeConsumer) is described with its
// consumer-group state and its members' ids, client ids and hosts only;
// ConsumerDescribe has the rest.
type Description struct {
	Group, Type, State, ProtocolType, Protocol string
	Members                                    []MemberDescription
	Err                                        error
}

// MemberDescription is one member of a Description.
type MemberDescription struct {
	MemberID, InstanceID, ClientID, ClientHost string
	Metadata, Assignment                       []byte
}

// Listing is one group of a ListGroups answer; Type is GroupTypeClassic
// or GroupTypeConsumer.
type Listing struct {
	Group, Type, ProtocolType, State string
}

// Group states, spelled as Kafka spells them in DescribeGroups and
// ListGroups.
const (
	StateEmpty               = "Empty"
	StatePreparingRebalance  = "PreparingRebalance"
	StateCompletingRebalance = "CompletingRebalance"
	StateStable              = "Stable"
	StateDead                = "Dead"
)
