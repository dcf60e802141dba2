package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
)

// DeleteACLs, versions 1-3.
//
// Needs ALTER on the cluster: otherwise every filter gets
// CLUSTER_AUTHORIZATION_FAILED; with kafka.authorizer=none every one gets
// SECURITY_DISABLED. Filters are read as DescribeACLs reads its one; a
// field of code 0 (UNKNOWN) closes the connection, an undefined code gets
// INVALID_REQUEST for that filter. Each filter lists every ACL it
// matched, including ones another filter of the request matched too; all
// removals are durable (one catalog record) before the answer.
func (c *conn) handleDeleteACLs(r *request) {
	req := r.kreq.(*kmsg.DeleteACLsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteACLsResponse)
	filters := make([]broker.ACLFilter, len(req.Filters))
	for i, f := range req.Filters {
		if f.ResourceType == 0 || f.ResourcePatternType == 0 || f.Operation == 0 || f.PermissionType == 0 {
			c.refuse(r, "DeleteAcls filters contain UNKNOWN elements")
			return
		}
		filters[i] = broker.ACLFilter{
			ResourceType: broker.ACLResourceType(f.ResourceType), ResourceName: f.ResourceName,
			PatternType: broker.ACLPatternType(f.ResourcePatternType), Principal: f.Principal, Host: f.Host,
			Operation: broker.ACLOperation(f.Operation), Permission: broker.ACLPermission(f.PermissionType),
		}
	}
	all := func(code int16, msg *string) {
		for range req.Filters {
			rr := kmsg.NewDeleteACLsResponseResult()
			rr.ErrorCode, rr.ErrorMessage = code, msg
			resp.Results = append(resp.Results, rr)
		}
	}
	switch {
	case !allowedOnCluster(c.authz(), opAlter):
		all(kerr.ClusterAuthorizationFailed.Code, authzMessage(kerr.ClusterAuthorizationFailed.Code))
	case !c.s.broker.ACLsEnabled():
		msg := "No Authorizer is configured."
		all(kerr.SecurityDisabled.Code, &msg)
	default:
		for _, res := range c.s.broker.DeleteACLs(c.ctx, filters) {
			rr := kmsg.NewDeleteACLsResponseResult()
			rr.ErrorCode, rr.ErrorMessage = errCode(res.Err), errMessage(res.Err)
			for _, a := range res.Deleted {
				m := kmsg.NewDeleteACLsResponseResultMatchingACL()
				m.ResourceType, m.ResourceName = kmsg.ACLResourceType(a.ResourceType), a.ResourceName
				m.ResourcePatternType = kmsg.ACLResourcePatternType(a.PatternType)
				m.Principal, m.Host = a.Principal, a.Host
				m.Operation, m.PermissionType = kmsg.ACLOperation(a.Operation), kmsg.ACLPermissionType(a.Permission)
				rr.MatchingACLs = append(rr.MatchingACLs, m)
			}
			resp.Results = append(resp.Results, rr)
		}
	}
	r.respond(resp)
}
