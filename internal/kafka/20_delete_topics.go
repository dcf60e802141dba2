package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteTopics, versions 1-6.
//
// Deletion is synchronous: the metadata record is durable and the
// partitions' files are removed before the answer. v6+ may name topics by
// id (UNKNOWN_TOPIC_ID when none has it). TimeoutMillis is ignored.
//
// Authorization, as Kafka's controller: DELETE on the cluster allows
// every topic; otherwise a name the principal may not DESCRIBE gets
// TOPIC_AUTHORIZATION_FAILED whether or not it exists, then a missing one
// UNKNOWN_TOPIC_OR_PARTITION, then one it may not DELETE
// TOPIC_AUTHORIZATION_FAILED. By id: unknown is UNKNOWN_TOPIC_ID, and a
// refusal names the topic only to a principal allowed to DESCRIBE it.
func (c *conn) handleDeleteTopics(r *request) {
	req := r.kreq.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	az := c.authz()
	clusterDelete := allowedOnCluster(az, opDelete)
	deny := func(rt *kmsg.DeleteTopicsResponseTopic) {
		rt.ErrorCode, rt.ErrorMessage = kerr.TopicAuthorizationFailed.Code, authzMessage(kerr.TopicAuthorizationFailed.Code)
		resp.Topics = append(resp.Topics, *rt)
	}
	del := func(name *string, id [16]byte) {
		rt := kmsg.NewDeleteTopicsResponseTopic()
		rt.Topic, rt.TopicID = name, id
		var err error
		if name != nil && *name != "" {
			describable := viaCluster(clusterDelete, *name) || az.Allowed(opDescribe, resTopic, *name)
			if !describable {
				deny(&rt)
				return
			}
			info, ierr := c.s.broker.Topic(c.ctx, *name, false)
			if ierr == nil {
				rt.TopicID = info.ID
			}
			switch {
			case viaCluster(clusterDelete, *name) || az.Allowed(opDelete, resTopic, *name):
				err = c.s.broker.DeleteTopic(c.ctx, *name)
			case ierr == nil:
				rt.TopicID = [16]byte{}
				deny(&rt)
				return
			default:
				// Missing when looked up: answer that, and never delete
				// what the principal may not (it may exist by now).
				err = ierr
			}
		} else {
			if info, ok := c.s.broker.TopicByID(id); ok && !viaCluster(clusterDelete, info.Name) && !az.Allowed(opDelete, resTopic, info.Name) {
				if az.Allowed(opDescribe, resTopic, info.Name) {
					rt.Topic = &info.Name
				}
				deny(&rt)
				return
			}
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
