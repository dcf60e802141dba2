package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
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
// asked for by id.
//
// Authorization, as Kafka: a listing of all topics silently leaves out
// those the principal may not DESCRIBE; a topic asked for by name without
// DESCRIBE gets TOPIC_AUTHORIZATION_FAILED whether or not it exists (no
// id, no partitions); by id, the id is kept (ids are not secret).
// Auto-creation needs CREATE on the cluster or the topic, else
// TOPIC_AUTHORIZATION_FAILED. Authorized-operation bitfields (KIP-430) are
// filled when asked: topics (v8+) and the cluster (v8-10; 0 without
// DESCRIBE on it). The topics of AMQP stream queues of vhosts other than
// "/" (broker.IsStreamTopic) are internal, and only super users may
// describe them.
func (c *conn) handleMetadata(r *request) {
	req := r.kreq.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	b := c.s.broker
	az := c.authz()
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
	var codes []int16 // authorization refusals, which errs cannot carry
	add := func(info broker.TopicInfo, err error, code int16) {
		infos, errs, codes = append(infos, info), append(errs, err), append(codes, code)
	}
	if all {
		for _, info := range b.Topics() {
			if az.Allowed(opDescribe, resTopic, info.Name) {
				add(info, nil, 0)
			}
		}
	} else {
		for _, t := range req.Topics {
			switch {
			case t.Topic != nil && *t.Topic != "":
				name := *t.Topic
				if !az.Allowed(opDescribe, resTopic, name) {
					add(broker.TopicInfo{Name: name}, nil, kerr.TopicAuthorizationFailed.Code)
					continue
				}
				// Only a creation that would happen needs CREATE.
				noCreate := autoCreate && b.AutoCreateTopics() && az.Enabled() && !c.mayAutoCreate(az, name)
				info, err := b.Topic(c.ctx, name, autoCreate && !noCreate)
				if noCreate && errors.Is(err, broker.ErrUnknownTopicOrPartition) {
					add(broker.TopicInfo{Name: name}, nil, kerr.TopicAuthorizationFailed.Code)
					continue
				}
				if err != nil {
					info.Name = name
				}
				add(info, err, 0)
			default:
				info, ok := b.TopicByID(t.TopicID)
				switch {
				case !ok:
					add(broker.TopicInfo{ID: t.TopicID}, broker.ErrUnknownTopicID, 0)
				case !az.Allowed(opDescribe, resTopic, info.Name):
					add(broker.TopicInfo{ID: t.TopicID}, broker.ErrUnknownTopicID, kerr.TopicAuthorizationFailed.Code)
				default:
					add(info, nil, 0)
				}
			}
		}
	}
	for i, info := range infos {
		rt := kmsg.NewMetadataResponseTopic()
		name := info.Name
		rt.Topic, rt.TopicID, rt.IsInternal = &name, info.ID, info.Internal
		rt.ErrorCode = errCode(errs[i])
		if errors.Is(errs[i], broker.ErrUnknownTopicID) {
			rt.Topic = nil
		}
		if codes[i] != 0 {
			rt.ErrorCode = codes[i]
			resp.Topics = append(resp.Topics, rt)
			continue
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
		if req.IncludeTopicAuthorizedOperations && r.version >= 8 && rt.Topic != nil {
			rt.AuthorizedOperations = authorizedOps(az, resTopic, name)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if req.IncludeClusterAuthorizedOperations && r.version >= 8 && r.version <= 10 {
		resp.AuthorizedOperations = 0
		if allowedOnCluster(az, opDescribe) {
			resp.AuthorizedOperations = authorizedOps(az, resCluster, broker.ClusterResourceName)
		}
	}
	r.respond(resp)
}
