package group

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Coordinator. The zero value is not useful; start from
// DefaultConfig and override fields.
type Config struct {
	// MinSessionTimeout and MaxSessionTimeout bound the session timeout a
	// member may ask for (Kafka group.min.session.timeout.ms, default 6s, and
	// group.max.session.timeout.ms, default 30m). Outside the range a join
	// fails with ErrInvalidSessionTimeout.
	MinSessionTimeout, MaxSessionTimeout time.Duration
	// InitialRebalanceDelay is how long the first rebalance of an empty group
	// waits for more members; each new member extends it by the same delay,
	// up to the rebalance timeout (Kafka group.initial.rebalance.delay.ms,
	// default 3s). Zero disables the delay.
	InitialRebalanceDelay time.Duration
	// MaxGroupSize caps the number of members of one group (Kafka
	// group.max.size); 0 means unlimited.
	MaxGroupSize int
	// MaxOffsetMetadataBytes caps the metadata string of a committed offset
	// (Kafka offset.metadata.max.bytes, default 4096); 0 means unlimited.
	MaxOffsetMetadataBytes int
	// NewMemberJoinTimeout is how long a new member may wait in a rebalance
	// before it is dropped (Kafka's fixed 5 minutes). Zero means 5 minutes.
	NewMemberJoinTimeout time.Duration
	// ConsumerSessionTimeout is how long a consumer-protocol member may go
	// without a heartbeat before it is fenced (Kafka
	// group.consumer.session.timeout.ms, default 45s).
	ConsumerSessionTimeout time.Duration
	// ConsumerHeartbeatInterval is the interval consumer-protocol members
	// are told to heartbeat at (Kafka group.consumer.heartbeat.interval.ms,
	// default 5s).
	ConsumerHeartbeatInterval time.Duration
	// ConsumerMaxGroupSize caps the members of one consumer group (Kafka
	// group.consumer.max.size); 0 means unlimited.
	ConsumerMaxGroupSize int
	// ConsumerAssignors are the server-side assignors members may name,
	// the first being the default (Kafka group.consumer.assignors, default
	// uniform, range). Nil means the default.
	ConsumerAssignors []string
	// RegexRefreshInterval is how often the regular expressions a group
	// subscribes to are matched against the catalog again, to find topics
	// created since (Kafka refreshes them at most every 10 s). Zero means
	// 10 s.
	RegexRefreshInterval time.Duration
	// Topics is the topic catalog consumer groups assign from; nil is an
	// empty catalog.
	Topics Topics
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewMemberID generates a member id. It is passed the client id (or the
	// group.instance.id for static members, as Kafka does); nil means
	// prefix + "-" + 16 random hex bytes from crypto/rand. It is called with
	// the coordinator lock held and must not call the Coordinator.
	NewMemberID func(clientID string) string
	// Logger receives rebalance and journal events; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		MinSessionTimeout:      6 * time.Second,
		MaxSessionTimeout:      30 * time.Minute,
		InitialRebalanceDelay:  3 * time.Second,
		MaxOffsetMetadataBytes: 4096,
		NewMemberJoinTimeout:   5 * time.Minute,

		ConsumerSessionTimeout:    45 * time.Second,
		ConsumerHeartbeatInterval: 5 * time.Second,
		ConsumerAssignors:         []string{AssignorUniform, AssignorRange},
		RegexRefreshInterval:      10 * time.Second,
	}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch {
	case c.MinSessionTimeout < 0:
		return fmt.Errorf("group: MinSessionTimeout %v is negative", c.MinSessionTimeout)
	case c.MaxSessionTimeout < c.MinSessionTimeout:
		return fmt.Errorf("group: MaxSessionTimeout %v is below MinSessionTimeout %v", c.MaxSessionTimeout, c.MinSessionTimeout)
	case c.InitialRebalanceDelay < 0:
		return fmt.Errorf("group: InitialRebalanceDelay %v is negative", c.InitialRebalanceDelay)
	case c.MaxGroupSize < 0:
		return fmt.Errorf("group: MaxGroupSize %d is negative", c.MaxGroupSize)
	case c.MaxOffsetMetadataBytes < 0:
		return fmt.Errorf("group: MaxOffsetMetadataBytes %d is negative", c.MaxOffsetMetadataBytes)
	case c.NewMemberJoinTimeout < 0:
		return fmt.Errorf("group: NewMemberJoinTimeout %v is negative", c.NewMemberJoinTimeout)
	case c.ConsumerSessionTimeout < 0:
		return fmt.Errorf("group: ConsumerSessionTimeout %v is negative", c.ConsumerSessionTimeout)
	case c.ConsumerHeartbeatInterval < 0:
		return fmt.Errorf("group: ConsumerHeartbeatInterval %v is negative", c.ConsumerHeartbeatInterval)
	case c.ConsumerSessionTimeout > 0 && c.ConsumerHeartbeatInterval >= c.ConsumerSessionTimeout:
		return fmt.Errorf("group: ConsumerHeartbeatInterval %v must be below ConsumerSessionTimeout %v", c.ConsumerHeartbeatInterval, c.ConsumerSessionTimeout)
	case c.ConsumerMaxGroupSize < 0:
		return fmt.Errorf("group: ConsumerMaxGroupSize %d is negative", c.ConsumerMaxGroupSize)
	case c.RegexRefreshInterval < 0:
		return fmt.Errorf("group: RegexRefreshInterval %v is negative", c.RegexRefreshInterval)
	}
	for _, a := range c.ConsumerAssignors {
		if a != AssignorUniform && a != AssignorRange {
			return fmt.Errorf("group: unknown consumer assignor %q (have %s, %s)", a, AssignorUniform, AssignorRange)
		}
	}
	return nil
}

// withDefaults fills the nil/zero fields that have a default.
func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NewMemberID == nil {
		c.NewMemberID = randomMemberID
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.NewMemberJoinTimeout == 0 {
		c.NewMemberJoinTimeout = 5 * time.Minute
	}
	if c.ConsumerSessionTimeout == 0 {
		c.ConsumerSessionTimeout = 45 * time.Second
	}
	if c.ConsumerHeartbeatInterval == 0 {
		c.ConsumerHeartbeatInterval = 5 * time.Second
	}
	if len(c.ConsumerAssignors) == 0 {
		c.ConsumerAssignors = []string{AssignorUniform, AssignorRange}
	}
	if c.RegexRefreshInterval == 0 {
		c.RegexRefreshInterval = 10 * time.Second
	}
	return c
}

// randomMemberID is Kafka's clientId + "-" + UUID, with 16 random bytes in
// hex for the UUID.
func randomMemberID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error (Go 1.24+).
	return prefix + "-" + hex.EncodeToString(b[:])
}
