package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreatePartitions, versions 0-3.
//
// Grows a topic to Count partitions; shrinking or keeping the count gets
// INVALID_PARTITIONS. Manual assignments get INVALID_REQUEST (one node).
// A topic named twice gets INVALID_REQUEST.
func (c *conn) handleCreatePartitions(r *request) {
	req := r.kreq.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	seen := map[string]int{}
	for _, t := range req.Topics {
		seen[t.Topic]++
	}
	for _, t := range req.Topics {
		rt := kmsg.NewCreatePartitionsResponseTopic()
		rt.Topic = t.Topic
		switch {
		case seen[t.Topic] > 1, len(t.Assignment) > 0:
			rt.ErrorCode = kerr.InvalidRequest.Code
		default:
			err := c.s.broker.CreatePartitions(c.ctx, t.Topic, t.Count, req.ValidateOnly)
			rt.ErrorCode, rt.ErrorMessage = errCode(err), errMessage(err)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	r.respond(resp)
}
