package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker/group"
)

// LeaveGroup, versions 0-5.
//
// Before v3 one member leaves by id; v3+ (KIP-345) a batch of members,
// each by member id or static instance id, with per-member errors.
// Needs READ on the group (GROUP_AUTHORIZATION_FAILED, no members).
func (c *conn) handleLeaveGroup(r *request) {
	req := r.kreq.(*kmsg.LeaveGroupRequest)
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	if !c.authz().Allowed(opRead, resGroup, req.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		r.respond(resp)
		return
	}
	var members []group.LeaveMember
	if r.version < 3 {
		members = []group.LeaveMember{{MemberID: req.MemberID}}
	}
	for _, m := range req.Members {
		members = append(members, group.LeaveMember{MemberID: m.MemberID, InstanceID: deref(m.InstanceID), Reason: deref(m.Reason)})
	}
	gerr, merrs := c.s.broker.Groups.Leave(req.Group, members)
	resp.ErrorCode = errCode(gerr)
	if r.version < 3 {
		if gerr == nil && len(merrs) == 1 {
			resp.ErrorCode = errCode(merrs[0])
		}
		r.respond(resp)
		return
	}
	for i, m := range req.Members {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = m.MemberID, m.InstanceID
		if i < len(merrs) {
			rm.ErrorCode = errCode(merrs[i])
		}
		resp.Members = append(resp.Members, rm)
	}
	r.respond(resp)
}
