package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListOffsets, versions 1-6.
//
// Timestamp -2 is the log start offset, -1 the high watermark — or the
// last stable offset for IsolationLevel 1 (read_committed), so a consumer
// starting at the end never lands inside an open transaction — anything
// else the first offset whose record timestamp is at or after it (-1 when
// none).
// Ignored: CurrentLeaderEpoch fencing and ReplicaID. v7+ (-3, max
// timestamp, KIP-734) is not offered. Each topic needs DESCRIBE
// (TOPIC_AUTHORIZATION_FAILED).
func (c *conn) handleListOffsets(r *request) {
	req := r.kreq.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	az := c.authz()
	for _, t := range req.Topics {
		rt := kmsg.NewListOffsetsResponseTopic()
		rt.Topic = t.Topic
		describable := az.Allowed(opDescribe, resTopic, t.Topic)
		for _, p := range t.Partitions {
			rp := kmsg.NewListOffsetsResponseTopicPartition()
			rp.Partition = p.Partition
			rp.Offset, rp.Timestamp = -1, -1
			if !describable {
				rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				rt.Partitions = append(rt.Partitions, rp)
				continue
			}
			start, hw, lso, err := c.s.broker.PartitionOffsets(t.Topic, p.Partition)
			if req.IsolationLevel == 1 {
				hw = lso
			}
			if err == nil {
				rp.LeaderEpoch, err = c.s.broker.LeaderEpoch(t.Topic, p.Partition)
			}
			if err == nil {
				switch p.Timestamp {
				case -2:
					rp.Offset = start
				case -1:
					rp.Offset = hw
				default:
					rp.Offset, rp.Timestamp, err = c.s.broker.OffsetForTimestamp(t.Topic, p.Partition, p.Timestamp)
				}
			}
			rp.ErrorCode = errCode(err)
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	r.respond(resp)
}
