package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
)

// CreateACLs, versions 1-3.
//
// Needs ALTER on the cluster: otherwise every creation gets
// CLUSTER_AUTHORIZATION_FAILED; with kafka.authorizer=none every one gets
// SECURITY_DISABLED. Then, as Kafka: a field of code 0 (UNKNOWN) closes
// the connection (the request fails to parse); a filter-only value (ANY
// resource type, operation or permission, ANY or MATCH pattern) fails
// building the bindings, so every creation gets UNKNOWN_SERVER_ERROR;
// otherwise each creation stands alone, with INVALID_REQUEST for a
// CLUSTER not named kafka-cluster, an empty name, an undefined code or a
// principal without "Type:". The created ACLs are durable (one catalog
// record) before the answer; creating an existing ACL succeeds and changes
// nothing. Hosts are stored as given; only "*" and IP addresses ever match.
func (c *conn) handleCreateACLs(r *request) {
	req := r.kreq.(*kmsg.CreateACLsRequest)
	resp := req.ResponseKind().(*kmsg.CreateACLsResponse)
	filterOnly := false
	for _, cr := range req.Creations {
		if cr.ResourceType == 0 || cr.ResourcePatternType == 0 || cr.Operation == 0 || cr.PermissionType == 0 {
			c.refuse(r, "CreateAcls creations contain UNKNOWN elements")
			return
		}
		filterOnly = filterOnly || cr.ResourceType == kmsg.ACLResourceTypeAny ||
			cr.ResourcePatternType == kmsg.ACLResourcePatternTypeAny || cr.ResourcePatternType == kmsg.ACLResourcePatternTypeMatch ||
			cr.Operation == kmsg.ACLOperationAny || cr.PermissionType == kmsg.ACLPermissionTypeAny
	}
	all := func(code int16, msg *string) {
		for range req.Creations {
			rr := kmsg.NewCreateACLsResponseResult()
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
	case filterOnly:
		all(kerr.UnknownServerError.Code, nil)
	default:
		acls := make([]broker.ACL, len(req.Creations))
		for i, cr := range req.Creations {
			acls[i] = broker.ACL{
				ResourceType: broker.ACLResourceType(cr.ResourceType), ResourceName: cr.ResourceName,
				PatternType: broker.ACLPatternType(cr.ResourcePatternType), Principal: cr.Principal, Host: cr.Host,
				Operation: broker.ACLOperation(cr.Operation), Permission: broker.ACLPermission(cr.PermissionType),
			}
		}
		for _, err := range c.s.broker.CreateACLs(c.ctx, acls) {
			rr := kmsg.NewCreateACLsResponseResult()
			rr.ErrorCode, rr.ErrorMessage = errCode(err), errMessage(err)
			resp.Results = append(resp.Results, rr)
		}
	}
	r.respond(resp)
}
