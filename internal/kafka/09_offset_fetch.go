package kafka

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
)

// OffsetFetch, versions 1-9.
//
// Committed offsets of a group (-1 where none); a nil topic list (v2+)
// means every committed partition. v8+ asks for several groups at once;
// older versions are answered from the same per-group result, moved into
// the pre-v8 layout. v9 may name the member asking (KIP-848): in a
// consumer-protocol group it must exist (UNKNOWN_MEMBER_ID) and send its
// current member epoch (STALE_MEMBER_EPOCH); classic groups ignore it.
// RequireStable (v7+, KIP-447): a partition for which an open transaction
// holds an offset not yet committed answers UNSTABLE_OFFSET_COMMIT, and
// the client asks again.
//
// Each group needs DESCRIBE (GROUP_AUTHORIZATION_FAILED; before v2, which
// has no group error, on every partition asked for). Asked-for topics
// without DESCRIBE get TOPIC_AUTHORIZATION_FAILED partitions; a request
// for every committed partition silently leaves such topics out.
func (c *conn) handleOffsetFetch(r *request) {
	req := r.kreq.(*kmsg.OffsetFetchRequest)
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	az := c.authz()
	if r.version >= 8 {
		for _, g := range req.Groups {
			var topics map[string][]int32
			if g.Topics != nil {
				topics = map[string][]int32{}
				for _, t := range g.Topics {
					topics[t.Topic] = append(topics[t.Topic], t.Partitions...)
				}
			}
			resp.Groups = append(resp.Groups, c.groupOffsets(az, g.Group, deref(g.MemberID), g.MemberEpoch, topics, req.RequireStable))
		}
		r.respond(resp)
		return
	}
	var topics map[string][]int32
	if req.Topics != nil || r.version < 2 {
		topics = map[string][]int32{}
		for _, t := range req.Topics {
			topics[t.Topic] = append(topics[t.Topic], t.Partitions...)
		}
	}
	g := c.groupOffsets(az, req.Group, "", -1, topics, req.RequireStable)
	resp.ErrorCode = g.ErrorCode
	if r.version < 2 && g.ErrorCode == kerr.GroupAuthorizationFailed.Code {
		for _, t := range req.Topics {
			gt := kmsg.NewOffsetFetchResponseGroupTopic()
			gt.Topic = t.Topic
			gt.Partitions = deniedOffsets(t.Partitions, g.ErrorCode)
			g.Topics = append(g.Topics, gt)
		}
	}
	for _, gt := range g.Topics {
		t := kmsg.NewOffsetFetchResponseTopic()
		t.Topic = gt.Topic
		for _, gp := range gt.Partitions {
			p := kmsg.NewOffsetFetchResponseTopicPartition()
			p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode = gp.Partition, gp.Offset, gp.LeaderEpoch, gp.Metadata, gp.ErrorCode
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	r.respond(resp)
}

// groupOffsets answers one group in the v8+ layout, partitions grouped by
// topic in the order the coordinator returns them, then the asked-for
// topics the principal may not see.
func (c *conn) groupOffsets(az broker.Authorizer, group, memberID string, memberEpoch int32, topics map[string][]int32, requireStable bool) kmsg.OffsetFetchResponseGroup {
	rg := kmsg.NewOffsetFetchResponseGroup()
	rg.Group = group
	if !az.Allowed(opDescribe, resGroup, group) {
		rg.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return rg
	}
	var denied []kmsg.OffsetFetchResponseGroupTopic
	if az.Enabled() && topics != nil {
		allowed := make(map[string][]int32, len(topics))
		for t, parts := range topics {
			if az.Allowed(opDescribe, resTopic, t) {
				allowed[t] = parts
				continue
			}
			gt := kmsg.NewOffsetFetchResponseGroupTopic()
			gt.Topic, gt.Partitions = t, deniedOffsets(parts, kerr.TopicAuthorizationFailed.Code)
			denied = append(denied, gt)
		}
		slices.SortFunc(denied, func(a, b kmsg.OffsetFetchResponseGroupTopic) int { return strings.Compare(a.Topic, b.Topic) })
		topics = allowed
	}
	offsets, err := c.s.broker.Groups.FetchOffsetsAs(group, memberID, memberEpoch, topics)
	rg.ErrorCode = errCode(err)
	if err != nil {
		return rg
	}
	byTopic := map[string]int{}
	for _, o := range offsets {
		if topics == nil && !az.Allowed(opDescribe, resTopic, o.Topic) {
			continue
		}
		i, ok := byTopic[o.Topic]
		if !ok {
			i = len(rg.Topics)
			byTopic[o.Topic] = i
			t := kmsg.NewOffsetFetchResponseGroupTopic()
			t.Topic = o.Topic
			rg.Topics = append(rg.Topics, t)
		}
		p := kmsg.NewOffsetFetchResponseGroupTopicPartition()
		p.Partition, p.Offset, p.LeaderEpoch, p.ErrorCode = o.Partition, o.Offset, o.LeaderEpoch, rg.ErrorCode
		if requireStable && c.s.broker.Txns.PendingOffset(group, o.Topic, o.Partition) {
			p.Offset, p.LeaderEpoch, p.ErrorCode = -1, -1, kerr.UnstableOffsetCommit.Code
		}
		md := o.Metadata
		p.Metadata = &md
		rg.Topics[i].Partitions = append(rg.Topics[i].Partitions, p)
	}
	rg.Topics = append(rg.Topics, denied...)
	return rg
}

// deniedOffsets answers partitions the caller may not see: no offset, and
// the error.
func deniedOffsets(parts []int32, code int16) []kmsg.OffsetFetchResponseGroupTopicPartition {
	out := make([]kmsg.OffsetFetchResponseGroupTopicPartition, 0, len(parts))
	for _, p := range parts {
		rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
		empty := ""
		rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata, rp.ErrorCode = p, -1, -1, &empty, code
		out = append(out, rp)
	}
	return out
}
