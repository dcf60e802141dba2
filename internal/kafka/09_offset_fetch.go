package kafka

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetFetch, versions 1-8.
//
// Committed offsets of a group (-1 where none); a nil topic list (v2+)
// means every committed partition. v8+ asks for several groups at once.
// RequireStable (v7+) needs no waiting: there are no pending
// transactional commits yet.
func (c *conn) handleOffsetFetch(r *request) {
	req := r.kreq.(*kmsg.OffsetFetchRequest)
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if r.version >= 8 {
		for _, g := range req.Groups {
			rg := kmsg.NewOffsetFetchResponseGroup()
			rg.Group = g.Group
			var topics map[string][]int32
			if g.Topics != nil {
				topics = map[string][]int32{}
				for _, t := range g.Topics {
					topics[t.Topic] = append(topics[t.Topic], t.Partitions...)
				}
			}
			offsets, err := c.s.broker.Groups.FetchOffsets(g.Group, topics)
			rg.ErrorCode = errCode(err)
			byTopic := map[string]int{}
			for _, o := range offsets {
				i, ok := byTopic[o.Topic]
				if !ok {
					i = len(rg.Topics)
					byTopic[o.Topic] = i
					t := kmsg.NewOffsetFetchResponseGroupTopic()
					t.Topic = o.Topic
					rg.Topics = append(rg.Topics, t)
				}
				p := kmsg.NewOffsetFetchResponseGroupTopicPartition()
				p.Partition, p.Offset, p.LeaderEpoch = o.Partition, o.Offset, o.LeaderEpoch
				md := o.Metadata
				p.Metadata = &md
				rg.Topics[i].Partitions = append(rg.Topics[i].Partitions, p)
			}
			resp.Groups = append(resp.Groups, rg)
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
	offsets, err := c.s.broker.Groups.FetchOffsets(req.Group, topics)
	resp.ErrorCode = errCode(err)
	byTopic := map[string]int{}
	for _, o := range offsets {
		i, ok := byTopic[o.Topic]
		if !ok {
			i = len(resp.Topics)
			byTopic[o.Topic] = i
			t := kmsg.NewOffsetFetchResponseTopic()
			t.Topic = o.Topic
			resp.Topics = append(resp.Topics, t)
		}
		p := kmsg.NewOffsetFetchResponseTopicPartition()
		p.Partition, p.Offset, p.LeaderEpoch = o.Partition, o.Offset, o.LeaderEpoch
		md := o.Metadata
		p.Metadata = &md
		if err != nil {
			p.ErrorCode = resp.ErrorCode
		}
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, p)
	}
	r.respond(resp)
}
