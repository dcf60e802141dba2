package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat, versions 0-4.
//
// Keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to
// rejoin. v3+ carries the static instance id (FENCED_INSTANCE_ID for a
// replaced incarnation). Needs READ on the group
// (GROUP_AUTHORIZATION_FAILED).
func (c *conn) handleHeartbeat(r *request) {
	req := r.kreq.(*kmsg.HeartbeatRequest)
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	if !c.authz().Allowed(opRead, resGroup, req.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		r.respond(resp)
		return
	}
	resp.ErrorCode = errCode(c.s.broker.Groups.Heartbeat(req.Group, req.MemberID, deref(req.InstanceID), req.Generation))
	r.respond(resp)
}
