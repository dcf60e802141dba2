package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker/group"
)

// DescribeGroups, versions 0-6.
//
// State, protocol and members of each classic group. A group that does
// not exist, or is a consumer-protocol (KIP-848) group, is described as
// Kafka 4 does: Dead, and from v6 with GROUP_ID_NOT_FOUND and Kafka's
// message (ConsumerGroupDescribe describes consumer groups). Each group needs
// DESCRIBE: otherwise GROUP_AUTHORIZATION_FAILED and nothing else. v3+
// may ask for the KIP-430 authorized-operations bitfield.
func (c *conn) handleDescribeGroups(r *request) {
	req := r.kreq.(*kmsg.DescribeGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	az := c.authz()
	ok := make([]bool, len(req.Groups))
	var allowed []string
	for i, g := range req.Groups {
		if ok[i] = az.Allowed(opDescribe, resGroup, g); ok[i] {
			allowed = append(allowed, g)
		}
	}
	descs := c.s.broker.Groups.Describe(allowed)
	for i, g := range req.Groups {
		rg := kmsg.NewDescribeGroupsResponseGroup()
		if !ok[i] {
			rg.Group, rg.ErrorCode = g, kerr.GroupAuthorizationFailed.Code
			resp.Groups = append(resp.Groups, rg)
			continue
		}
		d := descs[0]
		descs = descs[1:]
		if d.Err == nil && d.Type != group.GroupTypeClassic {
			rg.Group, rg.State = g, group.StateDead
			if r.version >= 6 {
				msg := "Group " + g + " not found."
				if d.Type == group.GroupTypeConsumer {
					msg = "Group " + g + " is not a classic group."
				}
				rg.ErrorCode, rg.ErrorMessage = kerr.GroupIDNotFound.Code, &msg
			}
			resp.Groups = append(resp.Groups, rg)
			continue
		}
		rg.Group, rg.State, rg.ProtocolType, rg.Protocol = d.Group, d.State, d.ProtocolType, d.Protocol
		rg.ErrorCode = errCode(d.Err)
		if req.IncludeAuthorizedOperations && r.version >= 3 {
			rg.AuthorizedOperations = authorizedOps(az, resGroup, g)
		}
		for _, m := range d.Members {
			rm := kmsg.NewDescribeGroupsResponseGroupMember()
			rm.MemberID, rm.InstanceID, rm.ClientID, rm.ClientHost = m.MemberID, strPtr(m.InstanceID), m.ClientID, m.ClientHost
			rm.ProtocolMetadata, rm.MemberAssignment = nonNil(m.Metadata), nonNil(m.Assignment)
			rg.Members = append(rg.Members, rm)
		}
		resp.Groups = append(resp.Groups, rg)
	}
	r.respond(resp)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
