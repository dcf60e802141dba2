package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteRecords, versions 0-2.
//
// Moves each partition's log start offset up to Offset (-1: the high
// watermark); whole segments below it are deleted, and fetches below it
// get OFFSET_OUT_OF_RANGE. An offset past the high watermark gets
// OFFSET_OUT_OF_RANGE. The new log start offset is the low watermark.
// Each topic needs DELETE (TOPIC_AUTHORIZATION_FAILED, low watermark -1).
func (c *conn) handleDeleteRecords(r *request) {
	req := r.kreq.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	az := c.authz()
	for _, t := range req.Topics {
		rt := kmsg.NewDeleteRecordsResponseTopic()
		rt.Topic = t.Topic
		deletable := az.Allowed(opDelete, resTopic, t.Topic)
		for _, p := range t.Partitions {
			rp := kmsg.NewDeleteRecordsResponseTopicPartition()
			rp.Partition = p.Partition
			if !deletable {
				rp.LowWatermark, rp.ErrorCode = -1, kerr.TopicAuthorizationFailed.Code
				rt.Partitions = append(rt.Partitions, rp)
				continue
			}
			low, err := c.s.broker.DeleteRecords(t.Topic, p.Partition, p.Offset)
			rp.LowWatermark, rp.ErrorCode = low, errCode(err)
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	r.respond(resp)
}
