package kafka

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetFetch, versions 1-8.
//
// Committed offsets of a group (-1 where none); a nil topic list (v2+)
// means every committed partition. v8+ asks for several groups at once;
// older versions are answered from the same per-group result, moved into
// the pre-v8 layout. RequireStable (v7+) needs no waiting: there are no
// pending transactional commits yet.
func (c *conn) handleOffsetFetch(r *request) {
	req := r.kreq.(*kmsg.OffsetFetchRequest)
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if r.version >= 8 {
		for _, g := range req.Groups {
			var topics map[string][]int32
			if g.Topics != nil {
				topics = map[string][]int32{}
				for _, t := range g.Topics {
					topics[t.Topic] = append(topics[t.Topic], t.Partitions...)
				}
			}
			resp.Groups = append(resp.Groups, c.groupOffsets(g.Group, topics))
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
	g := c.groupOffsets(req.Group, topics)
	resp.ErrorCode = g.ErrorCode
	for _, gt := range g.Topics {
		t := kmsg.NewOffsetFetchResponseTopic()
		t.Topic = gt.Topic
		for _, gp := range gt.Partitions {
			p := kmsg.NewOffsetFetchResponseTopicPartition()
			p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode = gp.Partition, gp.Offset, gp.LeaderEpoch, gp.Metadata, gp.ErrorCode
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	r.respond(resp)
}

// groupOffsets answers one group in the v8+ layout, partitions grouped by
// topic in the order the coordinator returns them.
func (c *conn) groupOffsets(group string, topics map[string][]int32) kmsg.OffsetFetchResponseGroup {
	rg := kmsg.NewOffsetFetchResponseGroup()
	rg.Group = group
	offsets, err := c.s.broker.Groups.FetchOffsets(group, topics)
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
		p.Partition, p.Offset, p.LeaderEpoch, p.ErrorCode = o.Partition, o.Offset, o.LeaderEpoch, rg.ErrorCode
		md := o.Metadata
		p.Metadata = &md
		rg.Topics[i].Partitions = append(rg.Topics[i].Partitions, p)
	}
	return rg
}
