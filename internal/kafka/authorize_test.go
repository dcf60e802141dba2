package kafka_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// The test client has no credentials, so it is User:ANONYMOUS.
const anon = "User:ANONYMOUS"

// startACLBroker runs a broker with kafka.authorizer=acl. seed ACLs go
// straight into the core: the test client, User:ANONYMOUS, may not create
// ACLs before some ACL lets it.
func startACLBroker(t *testing.T, configure func(*config.Config), seed ...broker.ACL) *testbroker.Broker {
	t.Helper()
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) {
		c.Authorizer = "acl"
		if configure != nil {
			configure(c)
		}
	}))
	grant(t, b, seed...)
	return b
}

func grant(t *testing.T, b *testbroker.Broker, acls ...broker.ACL) {
	t.Helper()
	for i, err := range b.Node().Broker.CreateACLs(context.Background(), acls) {
		if err != nil {
			t.Fatalf("seed ACL %+v: %v", acls[i], err)
		}
	}
}

// rule builds an ACL; every host.
func rule(rt broker.ACLResourceType, name string, pt broker.ACLPatternType, principal string, op broker.ACLOperation, perm broker.ACLPermission) broker.ACL {
	return broker.ACL{ResourceType: rt, ResourceName: name, PatternType: pt, Principal: principal, Host: "*", Operation: op, Permission: perm}
}

func allowAnon(rt broker.ACLResourceType, name string, op broker.ACLOperation) broker.ACL {
	return rule(rt, name, broker.ACLPatternLiteral, anon, op, broker.ACLPermAllow)
}

// seedTopicAndGroup creates topic "t" (and "t-del") and group "g" (and
// "g-del") through the core, which no ACL guards.
func seedTopicAndGroup(t *testing.T, b *testbroker.Broker) {
	t.Helper()
	ctx := context.Background()
	core := b.Node().Broker
	for _, name := range []string{"t", "t-del"} {
		if _, err := core.CreateTopic(ctx, broker.CreateTopicRequest{Name: name, Partitions: 1, ReplicationFactor: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := core.Txns.InitProducerID(ctx, "txn", 60000, -1, -1); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"g", "g-del"} {
		if gerr, _ := core.Groups.CommitOffsets(ctx, g, "", "", -1, []group.OffsetCommit{{Topic: "t", Partition: 0, Offset: 0, LeaderEpoch: -1}}); gerr != nil {
			t.Fatal(gerr)
		}
	}
}

// apiCase is one request and how to read the code that says whether it
// was authorized. A case that lists rather than refuses (ListGroups)
// reports GROUP_AUTHORIZATION_FAILED itself when what it must hide shows.
type apiCase struct {
	name    string
	version int16
	req     func() kmsg.Request
	code    func(kmsg.Response) int16
	denied  int16 // the code Kafka answers a principal without ACLs
}

func str(s string) *string { return &s }

func apiCases() []apiCase {
	const (
		topicDenied   = 29 // TOPIC_AUTHORIZATION_FAILED
		groupDenied   = 30 // GROUP_AUTHORIZATION_FAILED
		clusterDenied = 31 // CLUSTER_AUTHORIZATION_FAILED
		txnDenied     = 53 // TRANSACTIONAL_ID_AUTHORIZATION_FAILED
	)
	return []apiCase{
		{"Produce", 9, func() kmsg.Request { return produceReq("t", 0, batch("x"), -1) },
			func(r kmsg.Response) int16 { return r.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode }, topicDenied},
		{"Fetch", 12, func() kmsg.Request { return fetchReq("t", 0, 0, 0) },
			func(r kmsg.Response) int16 { return r.(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode }, topicDenied},
		{"ListOffsets", 6, func() kmsg.Request {
			req := kmsg.NewPtrListOffsetsRequest()
			rt := kmsg.NewListOffsetsRequestTopic()
			rt.Topic = "t"
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Timestamp = -1
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0].ErrorCode }, topicDenied},
		{"Metadata", 12, func() kmsg.Request {
			req := kmsg.NewPtrMetadataRequest()
			mt := kmsg.NewMetadataRequestTopic()
			mt.Topic = str("t")
			req.Topics = append(req.Topics, mt)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.MetadataResponse).Topics[0].ErrorCode }, topicDenied},
		{"OffsetCommit", 8, func() kmsg.Request {
			req := kmsg.NewPtrOffsetCommitRequest()
			req.Group, req.Generation = "g", -1
			rt := kmsg.NewOffsetCommitRequestTopic()
			rt.Topic = "t"
			rp := kmsg.NewOffsetCommitRequestTopicPartition()
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode }, groupDenied},
		{"OffsetFetch", 8, func() kmsg.Request {
			req := kmsg.NewPtrOffsetFetchRequest()
			g := kmsg.NewOffsetFetchRequestGroup()
			g.Group = "g"
			req.Groups = append(req.Groups, g)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.OffsetFetchResponse).Groups[0].ErrorCode }, groupDenied},
		{"FindCoordinator group", 4, func() kmsg.Request {
			req := kmsg.NewPtrFindCoordinatorRequest()
			req.CoordinatorKeys = []string{"g"}
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.FindCoordinatorResponse).Coordinators[0].ErrorCode }, groupDenied},
		{"FindCoordinator transactional id", 3, func() kmsg.Request {
			req := kmsg.NewPtrFindCoordinatorRequest()
			req.CoordinatorKey, req.CoordinatorType = "txn", 1
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.FindCoordinatorResponse).ErrorCode }, txnDenied},
		{"JoinGroup", 9, func() kmsg.Request {
			req := kmsg.NewPtrJoinGroupRequest()
			req.Group, req.ProtocolType = "g", "consumer"
			req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 10000, 10000
			p := kmsg.NewJoinGroupRequestProtocol()
			p.Name, p.Metadata = "range", []byte{}
			req.Protocols = append(req.Protocols, p)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.JoinGroupResponse).ErrorCode }, groupDenied},
		{"Heartbeat", 4, func() kmsg.Request {
			req := kmsg.NewPtrHeartbeatRequest()
			req.Group, req.MemberID, req.Generation = "g", "m", 1
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.HeartbeatResponse).ErrorCode }, groupDenied},
		{"LeaveGroup", 5, func() kmsg.Request {
			req := kmsg.NewPtrLeaveGroupRequest()
			req.Group = "g"
			m := kmsg.NewLeaveGroupRequestMember()
			m.MemberID = "m"
			req.Members = append(req.Members, m)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.LeaveGroupResponse).ErrorCode }, groupDenied},
		{"SyncGroup", 5, func() kmsg.Request {
			req := kmsg.NewPtrSyncGroupRequest()
			req.Group, req.MemberID, req.Generation = "g", "m", 1
			req.ProtocolType, req.Protocol = str("consumer"), str("range")
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.SyncGroupResponse).ErrorCode }, groupDenied},
		{"DescribeGroups", 5, func() kmsg.Request {
			req := kmsg.NewPtrDescribeGroupsRequest()
			req.Groups = []string{"g"}
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.DescribeGroupsResponse).Groups[0].ErrorCode }, groupDenied},
		{"ListGroups", 5, func() kmsg.Request { return kmsg.NewPtrListGroupsRequest() },
			func(r kmsg.Response) int16 {
				for _, g := range r.(*kmsg.ListGroupsResponse).Groups {
					if g.Group == "g" {
						return 0
					}
				}
				return groupDenied
			}, groupDenied},
		{"AddPartitionsToTxn", 3, func() kmsg.Request {
			req := kmsg.NewPtrAddPartitionsToTxnRequest()
			req.TransactionalID, req.ProducerID = "txn", 1
			rt := kmsg.NewAddPartitionsToTxnRequestTopic()
			rt.Topic, rt.Partitions = "t", []int32{0}
			req.Topics = append(req.Topics, rt)
			return req
		}, func(r kmsg.Response) int16 {
			return r.(*kmsg.AddPartitionsToTxnResponse).Topics[0].Partitions[0].ErrorCode
		}, txnDenied},
		{"AddOffsetsToTxn", 3, func() kmsg.Request {
			req := kmsg.NewPtrAddOffsetsToTxnRequest()
			req.TransactionalID, req.ProducerID, req.Group = "txn", 1, "g"
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.AddOffsetsToTxnResponse).ErrorCode }, txnDenied},
		{"EndTxn", 3, func() kmsg.Request {
			req := kmsg.NewPtrEndTxnRequest()
			req.TransactionalID, req.ProducerID = "txn", 1
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.EndTxnResponse).ErrorCode }, txnDenied},
		{"TxnOffsetCommit", 3, func() kmsg.Request {
			req := kmsg.NewPtrTxnOffsetCommitRequest()
			req.TransactionalID, req.ProducerID, req.Group, req.Generation = "txn", 1, "g", -1
			rt := kmsg.NewTxnOffsetCommitRequestTopic()
			rt.Topic = "t"
			rt.Partitions = append(rt.Partitions, kmsg.NewTxnOffsetCommitRequestTopicPartition())
			req.Topics = append(req.Topics, rt)
			return req
		}, func(r kmsg.Response) int16 {
			return r.(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
		}, txnDenied},
		{"DescribeTransactions", 0, func() kmsg.Request {
			req := kmsg.NewPtrDescribeTransactionsRequest()
			req.TransactionalIDs = []string{"txn"}
			return req
		}, func(r kmsg.Response) int16 {
			return r.(*kmsg.DescribeTransactionsResponse).TransactionStates[0].ErrorCode
		}, txnDenied},
		{"ListTransactions", 1, func() kmsg.Request { return kmsg.NewPtrListTransactionsRequest() },
			func(r kmsg.Response) int16 {
				for _, s := range r.(*kmsg.ListTransactionsResponse).TransactionStates {
					if s.TransactionalID == "txn" {
						return 0
					}
				}
				return txnDenied
			}, txnDenied},
		{"ApiVersions", 3, func() kmsg.Request { return kmsg.NewPtrApiVersionsRequest() },
			func(r kmsg.Response) int16 { return r.(*kmsg.ApiVersionsResponse).ErrorCode }, 0},
		{"CreateTopics", 7, func() kmsg.Request {
			req := kmsg.NewPtrCreateTopicsRequest()
			ct := kmsg.NewCreateTopicsRequestTopic()
			ct.Topic, ct.NumPartitions, ct.ReplicationFactor = "t-new", 1, 1
			req.Topics = append(req.Topics, ct)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.CreateTopicsResponse).Topics[0].ErrorCode }, topicDenied},
		{"DeleteTopics", 6, func() kmsg.Request {
			req := kmsg.NewPtrDeleteTopicsRequest()
			dt := kmsg.NewDeleteTopicsRequestTopic()
			dt.Topic = str("t-del")
			req.Topics = append(req.Topics, dt)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.DeleteTopicsResponse).Topics[0].ErrorCode }, topicDenied},
		{"DeleteRecords", 2, func() kmsg.Request {
			req := kmsg.NewPtrDeleteRecordsRequest()
			rt := kmsg.NewDeleteRecordsRequestTopic()
			rt.Topic = "t"
			rp := kmsg.NewDeleteRecordsRequestTopicPartition()
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.DeleteRecordsResponse).Topics[0].Partitions[0].ErrorCode }, topicDenied},
		{"InitProducerID idempotent", 4, func() kmsg.Request { return kmsg.NewPtrInitProducerIDRequest() },
			func(r kmsg.Response) int16 { return r.(*kmsg.InitProducerIDResponse).ErrorCode }, clusterDenied},
		{"InitProducerID transactional", 4, func() kmsg.Request {
			req := kmsg.NewPtrInitProducerIDRequest()
			req.TransactionalID, req.TransactionTimeoutMillis = str("txn"), 10000
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.InitProducerIDResponse).ErrorCode }, txnDenied},
		{"OffsetForLeaderEpoch", 4, func() kmsg.Request {
			req := kmsg.NewPtrOffsetForLeaderEpochRequest()
			rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
			rt.Topic = "t"
			rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
			rp.CurrentLeaderEpoch, rp.LeaderEpoch = -1, 0
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			return req
		}, func(r kmsg.Response) int16 {
			return r.(*kmsg.OffsetForLeaderEpochResponse).Topics[0].Partitions[0].ErrorCode
		}, topicDenied},
		{"DescribeACLs", 3, func() kmsg.Request {
			req := kmsg.NewPtrDescribeACLsRequest()
			req.ResourceType, req.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
			req.Operation, req.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.DescribeACLsResponse).ErrorCode }, clusterDenied},
		{"CreateACLs", 3, func() kmsg.Request {
			req := kmsg.NewPtrCreateACLsRequest()
			c := kmsg.NewCreateACLsRequestCreation()
			c.ResourceType, c.ResourceName, c.Principal, c.Host = kmsg.ACLResourceTypeTopic, "x", "User:x", "*"
			c.Operation, c.PermissionType = kmsg.ACLOperationRead, kmsg.ACLPermissionTypeAllow
			req.Creations = append(req.Creations, c)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.CreateACLsResponse).Results[0].ErrorCode }, clusterDenied},
		{"DeleteACLs", 3, func() kmsg.Request {
			req := kmsg.NewPtrDeleteACLsRequest()
			f := kmsg.NewDeleteACLsRequestFilter()
			f.ResourceType, f.ResourceName = kmsg.ACLResourceTypeTopic, str("nothing")
			f.Operation, f.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
			req.Filters = append(req.Filters, f)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.DeleteACLsResponse).Results[0].ErrorCode }, clusterDenied},
		{"DescribeConfigs topic", 4, func() kmsg.Request { return describeConfigsReq(kmsg.ConfigResourceTypeTopic, "t") },
			func(r kmsg.Response) int16 { return r.(*kmsg.DescribeConfigsResponse).Resources[0].ErrorCode }, topicDenied},
		{"DescribeConfigs broker", 4, func() kmsg.Request { return describeConfigsReq(kmsg.ConfigResourceTypeBroker, "") },
			func(r kmsg.Response) int16 { return r.(*kmsg.DescribeConfigsResponse).Resources[0].ErrorCode }, clusterDenied},
		{"AlterConfigs topic", 2, func() kmsg.Request { return alterConfigsReq(kmsg.ConfigResourceTypeTopic, "t") },
			func(r kmsg.Response) int16 { return r.(*kmsg.AlterConfigsResponse).Resources[0].ErrorCode }, topicDenied},
		{"AlterConfigs broker", 2, func() kmsg.Request { return alterConfigsReq(kmsg.ConfigResourceTypeBroker, "") },
			func(r kmsg.Response) int16 { return r.(*kmsg.AlterConfigsResponse).Resources[0].ErrorCode }, clusterDenied},
		{"DescribeLogDirs", 4, func() kmsg.Request { return kmsg.NewPtrDescribeLogDirsRequest() },
			func(r kmsg.Response) int16 { return r.(*kmsg.DescribeLogDirsResponse).ErrorCode }, clusterDenied},
		{"CreatePartitions", 3, func() kmsg.Request {
			req := kmsg.NewPtrCreatePartitionsRequest()
			rt := kmsg.NewCreatePartitionsRequestTopic()
			rt.Topic, rt.Count = "t", 2
			req.Topics = append(req.Topics, rt)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.CreatePartitionsResponse).Topics[0].ErrorCode }, topicDenied},
		{"DeleteGroups", 2, func() kmsg.Request {
			req := kmsg.NewPtrDeleteGroupsRequest()
			req.Groups = []string{"g-del"}
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.DeleteGroupsResponse).Groups[0].ErrorCode }, groupDenied},
		{"IncrementalAlterConfigs topic", 1, func() kmsg.Request { return incAlterConfigsReq(kmsg.ConfigResourceTypeTopic, "t") },
			func(r kmsg.Response) int16 { return r.(*kmsg.IncrementalAlterConfigsResponse).Resources[0].ErrorCode }, topicDenied},
		{"IncrementalAlterConfigs broker", 1, func() kmsg.Request { return incAlterConfigsReq(kmsg.ConfigResourceTypeBroker, "") },
			func(r kmsg.Response) int16 { return r.(*kmsg.IncrementalAlterConfigsResponse).Resources[0].ErrorCode }, clusterDenied},
		{"OffsetDelete", 0, func() kmsg.Request {
			req := kmsg.NewPtrOffsetDeleteRequest()
			req.Group = "g"
			rt := kmsg.NewOffsetDeleteRequestTopic()
			rt.Topic = "t"
			rt.Partitions = append(rt.Partitions, kmsg.NewOffsetDeleteRequestTopicPartition())
			req.Topics = append(req.Topics, rt)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.OffsetDeleteResponse).ErrorCode }, groupDenied},
		{"DescribeCluster", 1, func() kmsg.Request {
			req := kmsg.NewPtrDescribeClusterRequest()
			req.IncludeClusterAuthorizedOperations = true
			return req
		}, func(r kmsg.Response) int16 {
			// Anyone may describe the cluster; what it may do there is 0.
			resp := r.(*kmsg.DescribeClusterResponse)
			if resp.ErrorCode == 0 && resp.ClusterAuthorizedOperations == 0 {
				return clusterDenied
			}
			return resp.ErrorCode
		}, clusterDenied},
		{"ConsumerGroupHeartbeat", 1, func() kmsg.Request {
			req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
			req.Group, req.MemberID, req.RebalanceTimeoutMillis = "cg", "m", 30000
			req.SubscribedTopicNames, req.Topics = []string{"t"}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.ConsumerGroupHeartbeatResponse).ErrorCode }, groupDenied},
		{"ConsumerGroupDescribe", 1, func() kmsg.Request {
			req := kmsg.NewPtrConsumerGroupDescribeRequest()
			req.Groups = []string{"cg"}
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.ConsumerGroupDescribeResponse).Groups[0].ErrorCode }, groupDenied},
		{"DescribeUserScramCredentials", 0, func() kmsg.Request { return kmsg.NewPtrDescribeUserSCRAMCredentialsRequest() },
			func(r kmsg.Response) int16 { return r.(*kmsg.DescribeUserSCRAMCredentialsResponse).ErrorCode }, clusterDenied},
		{"AlterUserScramCredentials", 0, func() kmsg.Request {
			req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
			d := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
			d.Name, d.Mechanism = "nobody", 1
			req.Deletions = append(req.Deletions, d)
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.AlterUserSCRAMCredentialsResponse).Results[0].ErrorCode }, clusterDenied},
		// SASL is authentication, not authorization: on a PLAINTEXT
		// listener both answer ILLEGAL_SASL_STATE, to anyone.
		{"SaslHandshake", 1, func() kmsg.Request {
			req := kmsg.NewPtrSASLHandshakeRequest()
			req.Mechanism = "PLAIN"
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.SASLHandshakeResponse).ErrorCode }, kerr.IllegalSaslState.Code},
		{"SaslAuthenticate", 1, func() kmsg.Request { return kmsg.NewPtrSASLAuthenticateRequest() },
			func(r kmsg.Response) int16 { return r.(*kmsg.SASLAuthenticateResponse).ErrorCode }, kerr.IllegalSaslState.Code},
	}
}

func describeConfigsReq(typ kmsg.ConfigResourceType, name string) kmsg.Request {
	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName = typ, name
	req.Resources = append(req.Resources, res)
	return req
}

func alterConfigsReq(typ kmsg.ConfigResourceType, name string) kmsg.Request {
	req := kmsg.NewPtrAlterConfigsRequest()
	res := kmsg.NewAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = typ, name
	req.Resources = append(req.Resources, res)
	req.ValidateOnly = true
	return req
}

func incAlterConfigsReq(typ kmsg.ConfigResourceType, name string) kmsg.Request {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = typ, name
	req.Resources = append(req.Resources, res)
	req.ValidateOnly = true
	return req
}

// TestEveryAPIIsAuthorized sends every API Tern answers as a principal no
// ACL mentions (allow.everyone.if.no.acl.found off), and expects the
// error Kafka gives; then as a super user, and expects no authorization
// error at all. It fails when an API is added to the version table
// without a case here.
func TestEveryAPIIsAuthorized(t *testing.T) {
	cases := apiCases()
	denied := startACLBroker(t, nil)
	seedTopicAndGroup(t, denied)
	super := startACLBroker(t, func(c *config.Config) { c.SuperUsers = []string{anon} })
	seedTopicAndGroup(t, super)

	covered := map[int16]bool{}
	for _, c := range cases {
		covered[c.req().Key()] = true
	}
	versions := dialRaw(t, denied.Addr).roundTrip(kmsg.NewPtrApiVersionsRequest(), 3).(*kmsg.ApiVersionsResponse)
	for _, k := range versions.ApiKeys {
		if !covered[k.ApiKey] {
			t.Errorf("API %d (%s) has no authorization case", k.ApiKey, kmsg.NameForKey(k.ApiKey))
		}
	}
	authErrors := map[int16]bool{29: true, 30: true, 31: true, 53: true}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.code(dialRaw(t, denied.Addr).roundTrip(c.req(), c.version))
			if got != c.denied {
				t.Errorf("without ACLs: %v, want %v", kerr.ErrorForCode(got), kerr.ErrorForCode(c.denied))
			}
			got = c.code(dialRaw(t, super.Addr).roundTrip(c.req(), c.version))
			if authErrors[got] {
				t.Errorf("as a super user: %v", kerr.ErrorForCode(got))
			}
		})
	}
	// What was refused did not happen.
	core := denied.Node().Broker
	if _, err := core.Topic(context.Background(), "t-del", false); err != nil {
		t.Errorf("refused DeleteTopics deleted the topic: %v", err)
	}
	if _, err := core.Topic(context.Background(), "t-new", false); err == nil {
		t.Error("refused CreateTopics created the topic")
	}
	if d := core.Groups.Describe([]string{"g-del"}); d[0].State == "Dead" {
		t.Error("refused DeleteGroups deleted the group")
	}
}

// TestSuperUserByAdministratorTag: a user tagged administrator is a super
// user under User:<name>; the anonymous principal never is one through a
// user of its name.
func TestSuperUserByAdministratorTag(t *testing.T) {
	b := startACLBroker(t, nil)
	if _, err := b.Node().Broker.PutUser(context.Background(), "ANONYMOUS", "pw", []string{"administrator"}); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, b.Addr)
	resp := c.roundTrip(kmsg.NewPtrDescribeLogDirsRequest(), 4).(*kmsg.DescribeLogDirsResponse)
	if resp.ErrorCode != kerr.ClusterAuthorizationFailed.Code {
		t.Fatalf("anonymous client through an administrator named ANONYMOUS: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	core := b.Node().Broker
	if !core.Authorize("User:guest", netip.MustParseAddr("127.0.0.1"), broker.ACLOpAlter, broker.ACLResourceCluster, broker.ClusterResourceName) {
		t.Fatal("the default administrator is not a super user")
	}
}
