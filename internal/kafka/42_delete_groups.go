package kafka

import "github.com/twmb/franz-go/pkg/kmsg"

// DeleteGroups, versions 0-2.
//
// Removes empty groups and their committed offsets (durably, as
// tombstones in the group log); NON_EMPTY_GROUP while members remain,
// GROUP_ID_NOT_FOUND for unknown groups.
func (c *conn) handleDeleteGroups(r *request) {
	req := r.kreq.(*kmsg.DeleteGroupsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	errs := c.s.broker.Groups.DeleteGroups(req.Groups)
	for i, g := range req.Groups {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group = g
		if i < len(errs) {
			rg.ErrorCode = errCode(errs[i])
		}
		resp.Groups = append(resp.Groups, rg)
	}
	r.respond(resp)
}
