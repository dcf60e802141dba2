package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetForLeaderEpoch, versions 2-4.
//
// For each partition: the largest leader epoch at or below the asked one
// and the end offset of that epoch (the start of the next, or the log
// end), from the log's epoch checkpoint; -1/-1 for an epoch older than the
// log. CurrentLeaderEpoch (when not -1) is fenced as Kafka does: newer
// than ours gets UNKNOWN_LEADER_EPOCH, older FENCED_LEADER_EPOCH.
// Consumers use this to detect log truncation after a leader change.
// Each topic needs DESCRIBE, or the caller CLUSTER_ACTION on the cluster
// (KIP-320; TOPIC_AUTHORIZATION_FAILED).
func (c *conn) handleOffsetForLeaderEpoch(r *request) {
	req := r.kreq.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	az := c.authz()
	replica := allowedOnCluster(az, opClusterAction)
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetForLeaderEpochResponseTopic()
		rt.Topic = t.Topic
		describable := viaCluster(replica, t.Topic) || az.Allowed(opDescribe, resTopic, t.Topic)
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			rp.Partition, rp.LeaderEpoch, rp.EndOffset = p.Partition, -1, -1
			if !describable {
				rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				rt.Partitions = append(rt.Partitions, rp)
				continue
			}
			cur, err := c.s.broker.LeaderEpoch(t.Topic, p.Partition)
			switch {
			case err != nil:
				rp.ErrorCode = errCode(err)
			case p.CurrentLeaderEpoch > cur:
				rp.ErrorCode = kerr.UnknownLeaderEpoch.Code
			case p.CurrentLeaderEpoch >= 0 && p.CurrentLeaderEpoch < cur:
				rp.ErrorCode = kerr.FencedLeaderEpoch.Code
			default:
				rp.LeaderEpoch, rp.EndOffset, err = c.s.broker.EndOffsetForEpoch(t.Topic, p.Partition, p.LeaderEpoch)
				rp.ErrorCode = errCode(err)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	r.respond(resp)
}
