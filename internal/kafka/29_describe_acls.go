package kafka

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
)

// DescribeACLs, versions 1-3 (Kafka 4.0 removed v0; v3 adds the USER
// resource type).
//
// Needs DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED). With
// kafka.authorizer=none the answer is SECURITY_DISABLED, as Kafka without
// an authorizer. The filter is Kafka's AclBindingFilter: ANY matches every
// value, a null name/principal/host every one, MATCH the ACLs that would
// apply to the named resource (literal, "*" and prefixes); codes Kafka
// does not define match nothing. A filter field of code 0 (UNKNOWN) makes
// Kafka fail to parse the request, which closes the connection; so here.
// ACLs come back grouped by resource pattern, sorted.
func (c *conn) handleDescribeACLs(r *request) {
	req := r.kreq.(*kmsg.DescribeACLsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeACLsResponse)
	if req.ResourceType == 0 || req.ResourcePatternType == 0 || req.Operation == 0 || req.PermissionType == 0 {
		c.refuse(r, "DescribeAcls filter contains UNKNOWN elements")
		return
	}
	switch {
	case !allowedOnCluster(c.authz(), opDescribe):
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		resp.ErrorMessage = authzMessage(resp.ErrorCode)
	case !c.s.broker.ACLsEnabled():
		resp.ErrorCode = kerr.SecurityDisabled.Code
		msg := "No Authorizer is configured on the broker"
		resp.ErrorMessage = &msg
	default:
		acls := c.s.broker.DescribeACLs(broker.ACLFilter{
			ResourceType: broker.ACLResourceType(req.ResourceType), ResourceName: req.ResourceName,
			PatternType: broker.ACLPatternType(req.ResourcePatternType), Principal: req.Principal, Host: req.Host,
			Operation: broker.ACLOperation(req.Operation), Permission: broker.ACLPermission(req.PermissionType),
		})
		resp.Resources = aclResources(acls)
	}
	r.respond(resp)
}

// aclResources groups sorted ACLs by resource pattern.
func aclResources(acls []broker.ACL) []kmsg.DescribeACLsResponseResource {
	var out []kmsg.DescribeACLsResponseResource
	for i, a := range acls {
		if i == 0 || a.ResourceType != acls[i-1].ResourceType || a.ResourceName != acls[i-1].ResourceName || a.PatternType != acls[i-1].PatternType {
			rr := kmsg.NewDescribeACLsResponseResource()
			rr.ResourceType, rr.ResourceName = kmsg.ACLResourceType(a.ResourceType), a.ResourceName
			rr.ResourcePatternType = kmsg.ACLResourcePatternType(a.PatternType)
			out = append(out, rr)
		}
		ra := kmsg.NewDescribeACLsResponseResourceACL()
		ra.Principal, ra.Host = a.Principal, a.Host
		ra.Operation, ra.PermissionType = kmsg.ACLOperation(a.Operation), kmsg.ACLPermissionType(a.Permission)
		last := &out[len(out)-1]
		last.ACLs = append(last.ACLs, ra)
	}
	return slices.Clip(out)
}
