package kafka

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListGroups, versions 0-5.
//
// Every group the coordinator knows, filtered by state (v4+) and by type
// (v5+: all of Tern's groups are "classic" until KIP-848 groups arrive).
// DESCRIBE on the cluster lists every group; without it, only the groups
// the principal may DESCRIBE, silently.
func (c *conn) handleListGroups(r *request) {
	req := r.kreq.(*kmsg.ListGroupsRequest)
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	az := c.authz()
	everything := allowedOnCluster(az, opDescribe)
	typeOK := len(req.TypesFilter) == 0 || slices.ContainsFunc(req.TypesFilter, func(t string) bool { return t == "classic" || t == "Classic" })
	if typeOK {
		for _, g := range c.s.broker.Groups.List(req.StatesFilter) {
			if !everything && !az.Allowed(opDescribe, resGroup, g.Group) {
				continue
			}
			rg := kmsg.NewListGroupsResponseGroup()
			rg.Group, rg.ProtocolType, rg.GroupState, rg.GroupType = g.Group, g.ProtocolType, g.State, "classic"
			resp.Groups = append(resp.Groups, rg)
		}
	}
	r.respond(resp)
}
