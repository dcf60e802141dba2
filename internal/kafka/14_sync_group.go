package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker/group"
)

// SyncGroup, versions 0-5.
//
// Followers wait in the coordinator until the leader's assignment
// arrives; v5+ protocol type and name are checked against the group's.
// Needs READ on the group (GROUP_AUTHORIZATION_FAILED).
func (c *conn) handleSyncGroup(r *request) {
	req := r.kreq.(*kmsg.SyncGroupRequest)
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	if !c.authz().Allowed(opRead, resGroup, req.Group) {
		resp.ErrorCode, resp.MemberAssignment = kerr.GroupAuthorizationFailed.Code, []byte{}
		r.respond(resp)
		return
	}
	sr := group.SyncRequest{
		Group: req.Group, MemberID: req.MemberID, InstanceID: deref(req.InstanceID),
		ProtocolType: deref(req.ProtocolType), Protocol: deref(req.Protocol), Generation: req.Generation,
	}
	if len(req.GroupAssignment) > 0 {
		sr.Assignments = make(map[string][]byte, len(req.GroupAssignment))
		for _, a := range req.GroupAssignment {
			sr.Assignments[a.MemberID] = a.MemberAssignment
		}
	}
	c.goAsync(r, func() {
		res := c.s.broker.Groups.Sync(c.ctx, sr)
		resp.ErrorCode = errCode(res.Err)
		resp.ProtocolType, resp.Protocol = strPtr(res.ProtocolType), strPtr(res.Protocol)
		resp.MemberAssignment = res.Assignment
		if resp.MemberAssignment == nil {
			resp.MemberAssignment = []byte{}
		}
		r.respond(resp)
	})
}
