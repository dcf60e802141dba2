package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeGroups, versions 0-5.
//
// State, protocol and members of each group; an unknown group is
// described as Dead with no error, as Kafka does. Each group needs
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
