package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreatePartitions, versions 0-3.
//
// Grows a topic to Count partitions; shrinking or keeping the count gets
// INVALID_PARTITIONS. Manual assignments get INVALID_REQUEST (one node).
// A topic named twice gets INVALID_REQUEST. Each topic needs ALTER
// (TOPIC_AUTHORIZATION_FAILED, whether or not it exists).
func (c *conn) handleCreatePartitions(r *request) {
	req := r.kreq.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	az := c.authz()
	seen := map[string]int{}
	for _, t := range req.Topics {
		seen[t.Topic]++
	}
	for _, t := range req.Topics {
		rt := kmsg.NewCreatePartitionsResponseTopic()
		rt.Topic = t.Topic
		switch {
		case seen[t.Topic] > 1:
			rt.ErrorCode = kerr.InvalidRequest.Code
		case !az.Allowed(opAlter, resTopic, t.Topic):
			rt.ErrorCode = kerr.TopicAuthorizationFailed.Code
		case len(t.Assignment) > 0:
			rt.ErrorCode = kerr.InvalidRequest.Code
		default:
			err := c.s.broker.CreatePartitions(c.ctx, t.Topic, t.Count, req.ValidateOnly)
			rt.ErrorCode, rt.ErrorMessage = errCode(err), errMessage(err)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	r.respond(resp)
}
