package kafka

import (
	"errors"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker/group"
)

// ConsumerGroupHeartbeat, versions 0-1 (KIP-848).
//
// The consumer group protocol: members join, heartbeat and leave (epoch
// -1, or -2 for a static member leaving for now) with this one request,
// and the coordinator assigns partitions with a server-side assignor
// (ServerAssignor "uniform" or "range", group.consumer.assignors),
// incrementally: a partition moves only once its owner reported it
// revoked (internal/broker/group, consumer_*.go). v1: the client names
// itself (MemberID may not be empty) and may subscribe with
// SubscribedTopicRegex, matched against whole topic names.
//
// Needs READ on the group (GROUP_AUTHORIZATION_FAILED), and DESCRIBE on
// every topic in SubscribedTopicNames (TOPIC_AUTHORIZATION_FAILED, as
// Kafka 4); a regular expression resolves only to topics the member may
// DESCRIBE. RackID is stored and described but not used (assignors are
// not rack-aware). The heartbeat runs on the connection's reader, as
// commits do, so a member's heartbeats and commits apply in the order
// sent; an answer that changed the group waits until it is durable.
func (c *conn) handleConsumerGroupHeartbeat(r *request) {
	req := r.kreq.(*kmsg.ConsumerGroupHeartbeatRequest)
	resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	az := c.authz()
	if !az.Allowed(opRead, resGroup, req.Group) {
		resp.ErrorCode, resp.ErrorMessage = kerr.GroupAuthorizationFailed.Code, authzMessage(kerr.GroupAuthorizationFailed.Code)
		r.respond(resp)
		return
	}
	if slices.ContainsFunc(req.SubscribedTopicNames, func(t string) bool { return !az.Allowed(opDescribe, resTopic, t) }) {
		resp.ErrorCode = kerr.TopicAuthorizationFailed.Code
		r.respond(resp)
		return
	}
	hr := group.ConsumerHeartbeatRequest{
		Group:              req.Group,
		MemberID:           req.MemberID,
		MemberEpoch:        req.MemberEpoch,
		InstanceID:         req.InstanceID,
		RackID:             req.RackID,
		RebalanceTimeoutMs: req.RebalanceTimeoutMillis,
		SubscribedTopics:   req.SubscribedTopicNames,
		SubscribedRegex:    req.SubscribedTopicRegex,
		ServerAssignor:     req.ServerAssignor,
		ClientID:           r.clientID,
		ClientHost:         c.remoteHost(),
		Version:            r.version,
		TopicAllowed:       func(t string) bool { return az.Allowed(opDescribe, resTopic, t) },
	}
	if req.Topics != nil {
		hr.Owned = make([]group.TopicPartitions, 0, len(req.Topics))
		for _, t := range req.Topics {
			hr.Owned = append(hr.Owned, group.TopicPartitions{TopicID: t.TopicID, Partitions: t.Partitions})
		}
	}
	res := c.s.broker.Groups.ConsumerHeartbeat(c.ctx, hr)
	if res.Err != nil {
		resp.ErrorCode = errCode(res.Err)
		resp.ErrorMessage = kafkaMessage(res.Err)
		r.respond(resp)
		return
	}
	resp.MemberID = &res.MemberID
	resp.MemberEpoch = res.MemberEpoch
	resp.HeartbeatIntervalMillis = int32(res.HeartbeatInterval.Milliseconds())
	if res.HasAssignment {
		a := kmsg.NewConsumerGroupHeartbeatResponseAssignment()
		a.Topics = make([]kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic, 0, len(res.Assignment))
		for _, tp := range res.Assignment {
			t := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
			t.TopicID, t.Partitions = tp.TopicID, tp.Partitions
			a.Topics = append(a.Topics, t)
		}
		resp.Assignment = &a
	}
	r.respond(resp)
}

// kafkaMessage is the ErrorMessage of a response: the coordinator's text
// for its errors (Kafka's message), nothing for the others, whose code
// says it all.
func kafkaMessage(err error) *string {
	var withMsg interface{ KafkaMessage() string }
	if errors.As(err, &withMsg) {
		s := withMsg.KafkaMessage()
		return &s
	}
	return nil
}
