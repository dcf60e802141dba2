package kafka

import "github.com/twmb/franz-go/pkg/kmsg"

// DescribeGroups, versions 0-5.
//
// State, protocol and members of each group; an unknown group is
// described as Dead with no error, as Kafka does. Authorized operations
// (v3+) are "not computed" until ACLs exist.
func (c *conn) handleDescribeGroups(r *request) {
	req := r.kreq.(*kmsg.DescribeGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, d := range c.s.broker.Groups.Describe(req.Groups) {
		rg := kmsg.NewDescribeGroupsResponseGroup()
		rg.Group, rg.State, rg.ProtocolType, rg.Protocol = d.Group, d.State, d.ProtocolType, d.Protocol
		rg.ErrorCode = errCode(d.Err)
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
