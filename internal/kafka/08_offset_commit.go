package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker/group"
)

// OffsetCommit, versions 2-9.
//
// Offsets are validated against the group's generation and member (a
// commit with generation -1 and no member is a "simple" commit, allowed
// only for groups without members) and made durable in the group log
// before the answer. In a consumer-protocol group (KIP-848) Generation is
// the member epoch: STALE_MEMBER_EPOCH when it is not the member's
// current one, UNSUPPORTED_VERSION below v9 (as Kafka requires of such
// members); v9+ answers GROUP_ID_NOT_FOUND for a generation of a group
// that does not exist, older versions ILLEGAL_GENERATION. Partitions of unknown topics get
// UNKNOWN_TOPIC_OR_PARTITION and are not stored. RetentionTimeMillis
// (v2-v4) is ignored: offsets live as long as the group. The commit is
// applied on the connection's reader, in request order.
//
// Needs READ on the group (else every partition gets
// GROUP_AUTHORIZATION_FAILED) and READ on each topic
// (TOPIC_AUTHORIZATION_FAILED, checked before the topic's existence).
func (c *conn) handleOffsetCommit(r *request) {
	req := r.kreq.(*kmsg.OffsetCommitRequest)
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	az := c.authz()
	groupOK := az.Allowed(opRead, resGroup, req.Group)
	var commits []group.OffsetCommit
	var slots []*kmsg.OffsetCommitResponseTopicPartition
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	for ti, t := range req.Topics {
		denied := int16(0)
		switch {
		case !groupOK:
			denied = kerr.GroupAuthorizationFailed.Code
		case !az.Allowed(opRead, resTopic, t.Topic):
			denied = kerr.TopicAuthorizationFailed.Code
		}
		for pi, p := range t.Partitions {
			rp := &resp.Topics[ti].Partitions[pi]
			if denied != 0 {
				rp.ErrorCode = denied
				continue
			}
			if _, _, _, err := c.s.broker.PartitionOffsets(t.Topic, p.Partition); err != nil {
				rp.ErrorCode = errCode(err)
				continue
			}
			commits = append(commits, group.OffsetCommit{
				Topic: t.Topic, Partition: p.Partition, Offset: p.Offset,
				LeaderEpoch: p.LeaderEpoch, Metadata: deref(p.Metadata),
			})
			slots = append(slots, rp)
		}
	}
	if r.version < 6 {
		for i := range commits {
			commits[i].LeaderEpoch = -1
		}
	}
	// Commits run on the reader goroutine, not off it: a client's
	// pipelined commits (Java commitAsync, librdkafka auto-commit) must
	// be applied in the order sent, or an older offset could win.
	func() {
		if len(commits) > 0 {
			var gerr error
			var perrs []error
			if r.version < 9 && req.MemberID != "" && c.s.broker.Groups.UsesConsumerProtocol(req.Group, req.MemberID) {
				gerr = group.ErrUnsupportedVersion
			} else {
				gerr, perrs = c.s.broker.Groups.CommitOffsets(c.ctx, req.Group, req.MemberID, deref(req.InstanceID), req.Generation, commits)
			}
			if r.version >= 9 && errors.Is(gerr, group.ErrNoGroupForGeneration) {
				gerr = group.ErrGroupIDNotFound
			}
			for i, rp := range slots {
				switch {
				case gerr != nil:
					rp.ErrorCode = errCode(gerr)
				case i < len(perrs):
					rp.ErrorCode = errCode(perrs[i])
				}
			}
		}
		r.respond(resp)
	}()
}
