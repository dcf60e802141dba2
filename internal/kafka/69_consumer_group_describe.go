package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/group"
)

// ConsumerGroupDescribe, versions 0-1 (KIP-848).
//
// State, epochs, assignor and members (subscriptions, current and target
// assignments by topic id and name) of consumer-protocol groups. A group
// that does not exist or is a classic group gets GROUP_ID_NOT_FOUND with
// Kafka's message. v1 adds MemberType, always 1 (consumer protocol: Tern
// does not admit classic members into consumer groups).
//
// Each group needs DESCRIBE (GROUP_AUTHORIZATION_FAILED). As in Kafka 4, a
// group whose members subscribe to or are assigned a topic the principal
// may not DESCRIBE is answered TOPIC_AUTHORIZATION_FAILED with no details.
// IncludeAuthorizedOperations asks for the KIP-430 bitfield of the group.
func (c *conn) handleConsumerGroupDescribe(r *request) {
	req := r.kreq.(*kmsg.ConsumerGroupDescribeRequest)
	resp := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	az := c.authz()
	ok := make([]bool, len(req.Groups))
	var allowed []string
	for i, g := range req.Groups {
		if ok[i] = az.Allowed(opDescribe, resGroup, g); ok[i] {
			allowed = append(allowed, g)
		}
	}
	descs := c.s.broker.Groups.ConsumerDescribe(allowed)
	for i, g := range req.Groups {
		rg := kmsg.NewConsumerGroupDescribeResponseGroup()
		rg.Group = g
		if !ok[i] {
			rg.ErrorCode = kerr.GroupAuthorizationFailed.Code
			rg.ErrorMessage = authzMessage(rg.ErrorCode)
			resp.Groups = append(resp.Groups, rg)
			continue
		}
		d := descs[0]
		descs = descs[1:]
		if d.Err != nil {
			rg.ErrorCode, rg.ErrorMessage = errCode(d.Err), kafkaMessage(d.Err)
			resp.Groups = append(resp.Groups, rg)
			continue
		}
		if !mayDescribeTopicsOf(az, d) {
			rg.ErrorCode = kerr.TopicAuthorizationFailed.Code
			msg := "The described group uses topics that the client is not authorized to describe."
			rg.ErrorMessage = &msg
			resp.Groups = append(resp.Groups, rg)
			continue
		}
		rg.State, rg.Epoch, rg.AssignmentEpoch, rg.AssignorName = d.State, d.Epoch, d.AssignmentEpoch, d.Assignor
		if req.IncludeAuthorizedOperations {
			rg.AuthorizedOperations = authorizedOps(az, resGroup, g)
		}
		for _, m := range d.Members {
			rm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
			rm.MemberID, rm.InstanceID, rm.RackID = m.MemberID, strPtr(m.InstanceID), strPtr(m.RackID)
			rm.MemberEpoch, rm.ClientID, rm.ClientHost = m.MemberEpoch, m.ClientID, m.ClientHost
			rm.SubscribedTopics = m.SubscribedTopics
			if rm.SubscribedTopics == nil {
				rm.SubscribedTopics = []string{}
			}
			rm.SubscribedTopicRegex = strPtr(m.SubscribedRegex)
			rm.Assignment, rm.TargetAssignment = describedAssignment(m.Assignment), describedAssignment(m.TargetAssignment)
			rm.MemberType = 1
			rg.Members = append(rg.Members, rm)
		}
		resp.Groups = append(resp.Groups, rg)
	}
	r.respond(resp)
}

// mayDescribeTopicsOf reports whether the principal may DESCRIBE every
// topic the group's members subscribe to or are assigned.
func mayDescribeTopicsOf(az broker.Authorizer, d group.ConsumerDescription) bool {
	for _, m := range d.Members {
		for _, t := range m.SubscribedTopics {
			if !az.Allowed(opDescribe, resTopic, t) {
				return false
			}
		}
		for _, tps := range [][]group.TopicPartitions{m.Assignment, m.TargetAssignment} {
			for _, tp := range tps {
				if !az.Allowed(opDescribe, resTopic, tp.Topic) {
					return false
				}
			}
		}
	}
	return true
}

func describedAssignment(tps []group.TopicPartitions) kmsg.Assignment {
	a := kmsg.NewAssignment()
	a.TopicPartitions = make([]kmsg.AssignmentTopicPartition, 0, len(tps))
	for _, tp := range tps {
		t := kmsg.NewAssignmentTopicPartition()
		t.TopicID, t.Topic, t.Partitions = tp.TopicID, tp.Topic, tp.Partitions
		a.TopicPartitions = append(a.TopicPartitions, t)
	}
	return a
}
