package kafka

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListGroups, versions 0-5.
//
// Every group the coordinator knows, filtered by state (v4+; states
// compared without case, consumer groups having their own: Empty,
// Assigning, Reconciling, Stable) and by type (v5+: "classic" or
// "consumer", without case; an unknown type matches no group, as in
// Kafka). DESCRIBE on the cluster lists every group; without it, only the
// groups the principal may DESCRIBE, silently.
func (c *conn) handleListGroups(r *request) {
	req := r.kreq.(*kmsg.ListGroupsRequest)
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	az := c.authz()
	everything := allowedOnCluster(az, opDescribe)
	for _, g := range c.s.broker.Groups.List(req.StatesFilter) {
		if len(req.TypesFilter) > 0 && !slices.ContainsFunc(req.TypesFilter, func(t string) bool { return strings.EqualFold(strings.TrimSpace(t), g.Type) }) {
			continue
		}
		if !everything && !az.Allowed(opDescribe, resGroup, g.Group) {
			continue
		}
		rg := kmsg.NewListGroupsResponseGroup()
		rg.Group, rg.ProtocolType, rg.GroupState, rg.GroupType = g.Group, g.ProtocolType, g.State, g.Type
		resp.Groups = append(resp.Groups, rg)
	}
	r.respond(resp)
}
