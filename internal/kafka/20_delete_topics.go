package kafka

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteTopics, versions 1-6.
//
// Deletion is synchronous: the metadata record is durable and the
// partitions' files are removed before the answer. v6+ may name topics by
// id (UNKNOWN_TOPIC_ID when none has it). TimeoutMillis is ignored.
func (c *conn) handleDeleteTopics(r *request) {
	req := r.kreq.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	del := func(name *string, id [16]byte) {
		rt := kmsg.NewDeleteTopicsResponseTopic()
		rt.Topic, rt.TopicID = name, id
		var err error
		if name != nil && *name != "" {
			if info, ierr := c.s.broker.Topic(c.ctx, *name, false); ierr == nil {
				rt.TopicID = info.ID
			}
			err = c.s.broker.DeleteTopic(c.ctx, *name)
		} else {
			var n string
			n, err = c.s.broker.DeleteTopicByID(c.ctx, id)
			if err == nil {
				rt.Topic = &n
			}
		}
		rt.ErrorCode, rt.ErrorMessage = errCode(err), errMessage(err)
		resp.Topics = append(resp.Topics, rt)
	}
	for _, name := range req.TopicNames {
		del(&name, [16]byte{})
	}
	for _, t := range req.Topics {
		del(t.Topic, t.TopicID)
	}
	r.respond(resp)
}
