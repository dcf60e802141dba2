package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// FindCoordinator, versions 0-4.
//
// This node coordinates every group and every transactional id (type 1);
// share coordinators (type 2) get INVALID_REQUEST. v4+ batches keys.
//
// A group key needs DESCRIBE on the group (GROUP_AUTHORIZATION_FAILED), a
// transactional id DESCRIBE on it (TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
// checked first, as Kafka; a refused key gets no node.
func (c *conn) handleFindCoordinator(r *request) {
	req := r.kreq.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	az := c.authz()
	keyCode := func(key string) int16 {
		switch req.CoordinatorType {
		case 0:
			if !az.Allowed(opDescribe, resGroup, key) {
				return kerr.GroupAuthorizationFailed.Code
			}
			return 0
		case 1:
			if !az.Allowed(opDescribe, resTxnID, key) {
				return kerr.TransactionalIDAuthorizationFailed.Code
			}
			return 0
		default:
			return kerr.InvalidRequest.Code
		}
	}
	node, host, port := c.s.broker.NodeID(), c.s.cfg.AdvertisedHost, c.s.cfg.AdvertisedPort
	if r.version < 4 {
		code := keyCode(req.CoordinatorKey)
		resp.ErrorCode = code
		if code == 0 {
			resp.NodeID, resp.Host, resp.Port = node, host, port
		} else {
			resp.NodeID, resp.Port = -1, -1
		}
		r.respond(resp)
		return
	}
	for _, key := range req.CoordinatorKeys {
		rc := kmsg.NewFindCoordinatorResponseCoordinator()
		code := keyCode(key)
		rc.Key, rc.ErrorCode = key, code
		if code == 0 {
			rc.NodeID, rc.Host, rc.Port = node, host, port
		} else {
			rc.NodeID, rc.Port = -1, -1
		}
		resp.Coordinators = append(resp.Coordinators, rc)
	}
	r.respond(resp)
}
