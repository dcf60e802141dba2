package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
)

// CreateTopics, versions 2-7.
//
// NumPartitions and ReplicationFactor of -1 take the broker defaults
// (KIP-464). Replication factors other than 1 get INVALID_REPLICATION_FACTOR
// on this single node; manual replica assignments get INVALID_REQUEST. A
// topic named twice in one request gets INVALID_REQUEST for both, as Kafka
// does. v5+ answers carry the resolved configs. TimeoutMillis is ignored:
// creation is synchronous.
//
// Each topic needs CREATE on the cluster or on the topic
// (TOPIC_AUTHORIZATION_FAILED, "Authorization failed."); a created topic
// whose configs the principal may not DESCRIBE_CONFIGS comes back with
// ConfigErrorCode TOPIC_AUTHORIZATION_FAILED and only its id, as
// Kafka's controller answers.
func (c *conn) handleCreateTopics(r *request) {
	req := r.kreq.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	az := c.authz()
	clusterCreate := allowedOnCluster(az, opCreate)
	seen := map[string]int{}
	for _, t := range req.Topics {
		seen[t.Topic]++
	}
	for _, t := range req.Topics {
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic = t.Topic
		rt.NumPartitions, rt.ReplicationFactor = -1, -1
		var err error
		configs := map[string]string{}
		for _, cfg := range t.Configs {
			if cfg.Value != nil {
				configs[cfg.Name] = *cfg.Value
			}
		}
		switch {
		case seen[t.Topic] > 1:
			rt.ErrorCode = kerr.InvalidRequest.Code
			msg := "topic named more than once in the request"
			rt.ErrorMessage = &msg
		case !viaCluster(clusterCreate, t.Topic) && !az.Allowed(opCreate, resTopic, t.Topic):
			rt.ErrorCode = kerr.TopicAuthorizationFailed.Code
			msg := "Authorization failed."
			rt.ErrorMessage = &msg
		case len(t.ReplicaAssignment) > 0:
			rt.ErrorCode = kerr.InvalidRequest.Code
			msg := "manual replica assignment is not supported on a single node"
			rt.ErrorMessage = &msg
		default:
			var info broker.TopicInfo
			info, err = c.s.broker.CreateTopic(c.ctx, broker.CreateTopicRequest{
				Name: t.Topic, Partitions: t.NumPartitions, ReplicationFactor: t.ReplicationFactor,
				Configs: configs, ValidateOnly: req.ValidateOnly,
			})
			rt.ErrorCode, rt.ErrorMessage = errCode(err), errMessage(err)
			if err == nil && !az.Allowed(opDescribeConfigs, resTopic, t.Topic) {
				rt.TopicID, rt.ConfigErrorCode = info.ID, kerr.TopicAuthorizationFailed.Code
			} else if err == nil {
				rt.TopicID, rt.NumPartitions, rt.ReplicationFactor = info.ID, info.Partitions, 1
				if entries, cerr := c.s.broker.TopicConfigs(t.Topic); cerr == nil {
					for _, e := range entries {
						rc := kmsg.NewCreateTopicsResponseTopicConfig()
						v := e.Value
						rc.Name, rc.Value, rc.ReadOnly, rc.Source, rc.IsSensitive = e.Name, &v, e.ReadOnly, int8(e.Source), e.Sensitive
						rt.Configs = append(rt.Configs, rc)
					}
				}
			}
		}
		resp.Topics = append(resp.Topics, rt)
	}
	r.respond(resp)
}
