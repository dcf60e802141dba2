package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetDelete, version 0.
//
// Deletes committed offsets of a group; GROUP_SUBSCRIBED_TO_TOPIC for a
// topic a current member consumes, GROUP_ID_NOT_FOUND for unknown groups.
// Needs DELETE on the group (else GROUP_AUTHORIZATION_FAILED and no
// topics) and READ on each topic (TOPIC_AUTHORIZATION_FAILED).
func (c *conn) handleOffsetDelete(r *request) {
	req := r.kreq.(*kmsg.OffsetDeleteRequest)
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	az := c.authz()
	if !az.Allowed(opDelete, resGroup, req.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		r.respond(resp)
		return
	}
	topics := map[string][]int32{}
	denied := map[string]bool{}
	for _, t := range req.Topics {
		if !az.Allowed(opRead, resTopic, t.Topic) {
			denied[t.Topic] = true
			continue
		}
		for _, p := range t.Partitions {
			topics[t.Topic] = append(topics[t.Topic], p.Partition)
		}
	}
	func() { // in request order, like commits
		gerr, perrs := c.s.broker.Groups.DeleteOffsets(c.ctx, req.Group, topics)
		resp.ErrorCode = errCode(gerr)
		for _, t := range req.Topics {
			rt := kmsg.NewOffsetDeleteResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetDeleteResponseTopicPartition()
				rp.Partition = p.Partition
				switch {
				case denied[t.Topic]:
					rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				case gerr == nil:
					rp.ErrorCode = errCode(perrs[t.Topic][p.Partition])
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		r.respond(resp)
	}()
}
