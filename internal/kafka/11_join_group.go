package kafka

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker/group"
)

// JoinGroup, versions 0-9.
//
// Translated to the core's group coordinator (internal/broker/group),
// which holds the request until the join phase ends. v0 has no rebalance
// timeout, so the session timeout stands in, as in Kafka. v4+ new members
// first get MEMBER_ID_REQUIRED with their id (KIP-394); v5+ static
// membership (KIP-345); v9+ SkipAssignment (KIP-814). Needs READ on the
// group: GROUP_AUTHORIZATION_FAILED with generation -1 and no member id.
func (c *conn) handleJoinGroup(r *request) {
	req := r.kreq.(*kmsg.JoinGroupRequest)
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	if !c.authz().Allowed(opRead, resGroup, req.Group) {
		resp.ErrorCode, resp.Generation = kerr.GroupAuthorizationFailed.Code, -1
		if r.version < 7 {
			empty := ""
			resp.Protocol = &empty
		}
		r.respond(resp)
		return
	}
	jr := group.JoinRequest{
		Group:                req.Group,
		MemberID:             req.MemberID,
		InstanceID:           deref(req.InstanceID),
		ClientID:             r.clientID,
		ClientHost:           c.remoteHost(),
		ProtocolType:         req.ProtocolType,
		SessionTimeout:       time.Duration(req.SessionTimeoutMillis) * time.Millisecond,
		RebalanceTimeout:     time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond,
		RequireKnownMemberID: r.version >= 4,
		Reason:               deref(req.Reason),
	}
	if r.version == 0 {
		jr.RebalanceTimeout = jr.SessionTimeout
	}
	for _, p := range req.Protocols {
		jr.Protocols = append(jr.Protocols, group.Protocol{Name: p.Name, Metadata: p.Metadata})
	}
	c.goAsync(r, func() {
		res := c.s.broker.Groups.Join(c.ctx, jr)
		resp.ErrorCode = errCode(res.Err)
		resp.Generation = res.Generation
		if res.Err != nil && res.Generation == 0 {
			resp.Generation = -1
		}
		resp.ProtocolType = strPtr(res.ProtocolType)
		resp.Protocol = strPtr(res.Protocol)
		if r.version < 7 && resp.Protocol == nil {
			empty := ""
			resp.Protocol = &empty
		}
		resp.LeaderID, resp.MemberID, resp.SkipAssignment = res.LeaderID, res.MemberID, res.SkipAssignment
		for _, m := range res.Members {
			rm := kmsg.NewJoinGroupResponseMember()
			rm.MemberID, rm.InstanceID, rm.ProtocolMetadata = m.MemberID, strPtr(m.InstanceID), m.Metadata
			resp.Members = append(resp.Members, rm)
		}
		r.respond(resp)
	})
}
