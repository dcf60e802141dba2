package kafka

import "github.com/twmb/franz-go/pkg/kmsg"

// DescribeCluster, versions 0-1.
//
// A cluster of one: this node is the only broker and the controller.
// EndpointType 2 (controllers, v1+) lists the same node, since a single
// Tern node is its own controller. Authorized operations are "not
// computed" until ACLs exist.
func (c *conn) handleDescribeCluster(r *request) {
	req := r.kreq.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	b := c.s.broker
	resp.ClusterID = b.ClusterID()
	resp.ControllerID = b.NodeID()
	resp.EndpointType = req.EndpointType
	br := kmsg.NewDescribeClusterResponseBroker()
	br.NodeID, br.Host, br.Port = b.NodeID(), c.s.cfg.AdvertisedHost, c.s.cfg.AdvertisedPort
	resp.Brokers = []kmsg.DescribeClusterResponseBroker{br}
	r.respond(resp)
}
