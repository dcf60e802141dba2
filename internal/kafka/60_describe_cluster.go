package kafka

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
)

// DescribeCluster, versions 0-1.
//
// A cluster of one: this node is the only broker and the controller.
// EndpointType 2 (controllers, v1+) lists the same node, since a single
// Tern node is its own controller. As in Kafka, anyone may ask; the
// cluster's authorized-operations bitfield (KIP-430), when asked for, is 0
// without DESCRIBE on the cluster.
func (c *conn) handleDescribeCluster(r *request) {
	req := r.kreq.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	if req.IncludeClusterAuthorizedOperations {
		az := c.authz()
		resp.ClusterAuthorizedOperations = 0
		if allowedOnCluster(az, opDescribe) {
			resp.ClusterAuthorizedOperations = authorizedOps(az, resCluster, broker.ClusterResourceName)
		}
	}
	b := c.s.broker
	resp.ClusterID = b.ClusterID()
	resp.ControllerID = b.NodeID()
	resp.EndpointType = req.EndpointType
	br := kmsg.NewDescribeClusterResponseBroker()
	br.NodeID, br.Host, br.Port = b.NodeID(), c.s.cfg.AdvertisedHost, c.s.cfg.AdvertisedPort
	resp.Brokers = []kmsg.DescribeClusterResponseBroker{br}
	r.respond(resp)
}
