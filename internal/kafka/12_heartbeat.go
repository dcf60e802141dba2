package kafka

import "github.com/twmb/franz-go/pkg/kmsg"

// Heartbeat, versions 0-4.
//
// Keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to
// rejoin. v3+ carries the static instance id (FENCED_INSTANCE_ID for a
// replaced incarnation).
func (c *conn) handleHeartbeat(r *request) {
	req := r.kreq.(*kmsg.HeartbeatRequest)
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	resp.ErrorCode = errCode(c.s.broker.Groups.Heartbeat(req.Group, req.MemberID, deref(req.InstanceID), req.Generation))
	r.respond(resp)
}
