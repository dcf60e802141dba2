package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
)

// Authorization: every handler takes the request's authorizer with
// c.authz() and asks it about each resource it touches, the way Kafka's
// KafkaApis and ControllerApis do (which operation on which resource,
// which error, and what an unauthorized caller may learn are noted in
// each handler). With kafka.authorizer=none, c.authz() allows everything
// after one branch, except the topics of AMQP stream queues of vhosts
// other than "/" (broker.IsStreamTopic), which are super users' alone
// either way: a grant on the cluster does not reach them (viaCluster).

// Shorthands for the resource types and operations handlers ask about.
const (
	resTopic   = broker.ACLResourceTopic
	resGroup   = broker.ACLResourceGroup
	resCluster = broker.ACLResourceCluster
	resTxnID   = broker.ACLResourceTransactionalID

	opRead            = broker.ACLOpRead
	opWrite           = broker.ACLOpWrite
	opCreate          = broker.ACLOpCreate
	opDelete          = broker.ACLOpDelete
	opAlter           = broker.ACLOpAlter
	opDescribe        = broker.ACLOpDescribe
	opClusterAction   = broker.ACLOpClusterAction
	opDescribeConfigs = broker.ACLOpDescribeConfigs
	opAlterConfigs    = broker.ACLOpAlterConfigs
	opIdempotentWrite = broker.ACLOpIdempotentWrite
)

// authz is the request's authorizer: the connection's principal and
// client address against the current ACLs.
func (c *conn) authz() broker.Authorizer {
	return c.s.broker.Authorizer(c.principal(), c.remote)
}

// mayManageUsers reports whether the connection may read or change the
// user store through DescribeUserScramCredentials or
// AlterUserScramCredentials (op DESCRIBE or ALTER on the cluster). With
// ACLs on, Kafka's rule decides. Without them Kafka lets anyone in, but
// Tern's users are also the AMQP and admin API users, so a credential
// change is an administrator's act: only super users (super.users, or
// a user tagged administrator) may, never an anonymous client.
func (c *conn) mayManageUsers(op broker.ACLOperation) bool {
	if c.s.broker.ACLsEnabled() {
		return allowedOnCluster(c.authz(), op)
	}
	return c.s.broker.IsSuperUser(c.principal())
}

// allowedOnCluster asks about the one CLUSTER resource.
func allowedOnCluster(az broker.Authorizer, op broker.ACLOperation) bool {
	return az.Allowed(op, resCluster, broker.ClusterResourceName)
}

// viaCluster reports whether a grant on the cluster (clusterOK) allows an
// operation on topic, as it does for CreateTopics, DeleteTopics and
// OffsetForLeaderEpoch: for any topic but a stream topic, which only super
// users reach.
func viaCluster(clusterOK bool, topic string) bool {
	return clusterOK && !broker.IsStreamTopic(topic)
}

// supportedOps are the operations Kafka reports in authorized-operations
// bitfields (KIP-430) per resource type (AclEntry.supportedOperations).
var supportedOps = map[broker.ACLResourceType][]broker.ACLOperation{
	resTopic:   {opRead, opWrite, opCreate, opDescribe, opDelete, opAlter, opDescribeConfigs, opAlterConfigs},
	resGroup:   {opRead, opDescribe, opDelete, opDescribeConfigs, opAlterConfigs},
	resCluster: {opCreate, opClusterAction, opDescribeConfigs, opAlterConfigs, opIdempotentWrite, opAlter, opDescribe},
	resTxnID:   {opDescribe, opWrite},
}

// authorizedOps is the KIP-430 bitfield of what the principal may do to
// a resource: bit n set for the operation with code n. Without an
// authorizer every supported operation is set, as in Kafka.
func authorizedOps(az broker.Authorizer, rt broker.ACLResourceType, name string) int32 {
	var bits int32
	for _, op := range supportedOps[rt] {
		if az.Allowed(op, rt, name) {
			bits |= 1 << op
		}
	}
	return bits
}

// authzMessage is Kafka's text for an authorization error code.
func authzMessage(code int16) *string {
	var s string
	switch code {
	case kerr.TopicAuthorizationFailed.Code:
		s = "Topic authorization failed."
	case kerr.GroupAuthorizationFailed.Code:
		s = "Group authorization failed."
	case kerr.ClusterAuthorizationFailed.Code:
		s = "Cluster authorization failed."
	case kerr.TransactionalIDAuthorizationFailed.Code:
		s = "Transactional Id authorization failed."
	default:
		return nil
	}
	return &s
}

// configResourceDenied is the error a config resource gets when the
// principal may not op (DESCRIBE_CONFIGS or ALTER_CONFIGS) it: topics are
// checked on the topic, the broker (and, to describe, its loggers) on the
// cluster; 0 when allowed or when the type is one the handler refuses
// anyway.
func configResourceDenied(az broker.Authorizer, typ kmsg.ConfigResourceType, name string, op broker.ACLOperation) int16 {
	switch {
	case typ == kmsg.ConfigResourceTypeTopic:
		if !az.Allowed(op, resTopic, name) {
			return kerr.TopicAuthorizationFailed.Code
		}
	case typ == kmsg.ConfigResourceTypeBroker, typ == kmsg.ConfigResourceTypeBrokerLogger && op == opDescribeConfigs:
		if !allowedOnCluster(az, op) {
			return kerr.ClusterAuthorizationFailed.Code
		}
	}
	return 0
}

// refuse closes the connection without answering, with one log line: what
// Kafka does with a request it fails to parse, such as ACL requests with
// a field of code 0 (UNKNOWN).
func (c *conn) refuse(r *request, why string) {
	c.logger.Info("closing kafka connection", "client_id", c.clientID, "api", kmsg.NameForKey(r.key), "err", why)
	r.close = true
	r.noAnswer = true
	r.respond(nil)
}
