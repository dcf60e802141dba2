package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteGroups, versions 0-2.
//
// Removes empty groups and their committed offsets (durably, as
// tombstones in the group log); NON_EMPTY_GROUP while members remain,
// GROUP_ID_NOT_FOUND for unknown groups. Each group needs DELETE
// (GROUP_AUTHORIZATION_FAILED).
func (c *conn) handleDeleteGroups(r *request) {
	req := r.kreq.(*kmsg.DeleteGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	az := c.authz()
	var allowed []string
	for _, g := range req.Groups {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group = g
		if az.Allowed(opDelete, resGroup, g) {
			allowed = append(allowed, g)
		} else {
			rg.ErrorCode = kerr.GroupAuthorizationFailed.Code
		}
		resp.Groups = append(resp.Groups, rg)
	}
	errs := c.s.broker.Groups.DeleteGroups(allowed)
	i := 0
	for gi := range resp.Groups {
		rg := &resp.Groups[gi]
		if rg.ErrorCode != 0 {
			continue
		}
		if i < len(errs) {
			rg.ErrorCode = errCode(errs[i])
		}
		i++
	}
	r.respond(resp)
}
