package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
)

// Metadata, versions 0-12.
//
// One broker (this node) leads every partition with itself as the only
// replica and ISR. Asking for a missing topic creates it when the request
// allows it (always before v4) and the broker's auto.create.topics.enable
// is on; otherwise UNKNOWN_TOPIC_OR_PARTITION. A topic name that breaks
// Kafka's naming rules gets INVALID_TOPIC_EXCEPTION. v10+ topics may be
// asked for by id. Authorized operations (v8+) are reported as "not
// computed" (-2147483648) until ACLs exist.
func (c *conn) handleMetadata(r *request) {
	req := r.kreq.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	b := c.s.broker
	node := b.NodeID()
	br := kmsg.NewMetadataResponseBroker()
	br.NodeID, br.Host, br.Port = node, c.s.cfg.AdvertisedHost, c.s.cfg.AdvertisedPort
	resp.Brokers = []kmsg.MetadataResponseBroker{br}
	cluster := b.ClusterID()
	resp.ClusterID = &cluster
	resp.ControllerID = node

	all := req.Topics == nil || (r.version == 0 && len(req.Topics) == 0)
	autoCreate := r.version < 4 || req.AllowAutoTopicCreation

	var infos []broker.TopicInfo
	var errs []error
	if all {
		infos = b.Topics()
		errs = make([]error, len(infos))
	} else {
		for _, t := range req.Topics {
			var info broker.TopicInfo
			var err error
			switch {
			case t.Topic != nil && *t.Topic != "":
				info, err = b.Topic(c.ctx, *t.Topic, autoCreate)
				if err != nil {
					info.Name = *t.Topic
				}
			default:
				var ok bool
				if info, ok = b.TopicByID(t.TopicID); !ok {
					info.ID, err = t.TopicID, broker.ErrUnknownTopicID
				}
			}
			infos = append(infos, info)
			errs = append(errs, err)
		}
	}
	for i, info := range infos {
		rt := kmsg.NewMetadataResponseTopic()
		name := info.Name
		rt.Topic, rt.TopicID = &name, info.ID
		rt.ErrorCode = errCode(errs[i])
		if errors.Is(errs[i], broker.ErrUnknownTopicID) {
			rt.Topic = nil
		}
		if errs[i] == nil {
			for p := int32(0); p < info.Partitions; p++ {
				rp := kmsg.NewMetadataResponseTopicPartition()
				rp.Partition, rp.Leader = p, node
				rp.LeaderEpoch, _ = b.LeaderEpoch(info.Name, p)
				rp.Replicas, rp.ISR = []int32{node}, []int32{node}
				rt.Partitions = append(rt.Partitions, rp)
			}
		}
		resp.Topics = append(resp.Topics, rt)
	}
	r.respond(resp)
}
