package kafka_test

import (
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

const (
	topicT   = broker.ACLResourceTopic
	groupT   = broker.ACLResourceGroup
	clusterT = broker.ACLResourceCluster
	literal  = broker.ACLPatternLiteral
	prefixed = broker.ACLPatternPrefixed
	allowP   = broker.ACLPermAllow
	denyP    = broker.ACLPermDeny
)

// describedACLs renders what a kadm describe found, sorted, one line each.
func describedACLs(t *testing.T, rs kadm.DescribeACLsResults) []string {
	t.Helper()
	var out []string
	for _, r := range rs {
		if r.Err != nil {
			t.Fatalf("describe: %v %s", r.Err, r.ErrMessage)
		}
		for _, d := range r.Described {
			out = append(out, strings.Join([]string{d.Type.String(), d.Name, d.Pattern.String(), d.Principal, d.Host, d.Operation.String(), d.Permission.String()}, " "))
		}
	}
	sort.Strings(out)
	return out
}

// TestACLsManagedWithKadm creates, lists and deletes ACLs the way
// operators' tools do (kadm's ACLBuilder), and checks they survive a
// restart.
func TestACLsManagedWithKadm(t *testing.T) {
	b := startACLBroker(t, nil, allowAnon(clusterT, broker.ClusterResourceName, broker.ACLOpAlter),
		allowAnon(clusterT, broker.ClusterResourceName, broker.ACLOpDescribe))
	ctx := ctxT(t, 30*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))

	created, err := adm.CreateACLs(ctx, kadm.NewACLs().Topics("orders").Allow(anon).Operations(kadm.OpRead, kadm.OpWrite))
	if err != nil {
		t.Fatal(err)
	}
	created2, err := adm.CreateACLs(ctx, kadm.NewACLs().Topics("logs-").ResourcePatternType(kadm.ACLPatternPrefixed).
		Deny("User:*").DenyHosts("10.1.2.3").Operations(kadm.OpDescribe))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(created, created2...) {
		if c.Err != nil {
			t.Fatalf("create %+v: %v %s", c, c.Err, c.ErrMessage)
		}
	}
	everything := func() []string {
		rs, err := adm.DescribeACLs(ctx, kadm.NewACLs().AnyResource().ResourcePatternType(kadm.ACLPatternAny).Allow().AllowHosts().Deny().DenyHosts().Operations())
		if err != nil {
			t.Fatal(err)
		}
		return describedACLs(t, rs)
	}
	want := []string{
		"CLUSTER kafka-cluster LITERAL User:ANONYMOUS * ALTER ALLOW",
		"CLUSTER kafka-cluster LITERAL User:ANONYMOUS * DESCRIBE ALLOW",
		"TOPIC logs- PREFIXED User:* 10.1.2.3 DESCRIBE DENY",
		"TOPIC orders LITERAL User:ANONYMOUS * READ ALLOW",
		"TOPIC orders LITERAL User:ANONYMOUS * WRITE ALLOW",
	}
	if got := everything(); !slices.Equal(got, want) {
		t.Fatalf("describe all:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// MATCH: the ACLs that apply to topic logs-app, whatever their pattern.
	rs, err := adm.DescribeACLs(ctx, kadm.NewACLs().Topics("logs-app").ResourcePatternType(kadm.ACLPatternMatch).Allow().AllowHosts().Deny().DenyHosts().Operations())
	if err != nil {
		t.Fatal(err)
	}
	if got := describedACLs(t, rs); !slices.Equal(got, want[2:3]) {
		t.Fatalf("match logs-app: %q", got)
	}

	b.Restart()
	adm = kadm.NewClient(newClient(t, b.Addr))
	if got := everything(); !slices.Equal(got, want) {
		t.Fatalf("after restart:\n%s", strings.Join(got, "\n"))
	}

	deleted, err := adm.DeleteACLs(ctx, kadm.NewACLs().Topics("orders").Allow(anon).AllowHosts("*").Operations())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range deleted {
		if d.Err != nil {
			t.Fatalf("delete: %v", d.Err)
		}
		n += len(d.Deleted)
	}
	if n != 2 {
		t.Fatalf("deleted %d ACLs, want the 2 on orders: %+v", n, deleted)
	}
	b.Restart()
	adm = kadm.NewClient(newClient(t, b.Addr))
	if got := everything(); !slices.Equal(got, want[:3]) {
		t.Fatalf("after delete and restart:\n%s", strings.Join(got, "\n"))
	}
}

// TestACLRequestsBadInput: what Kafka answers to ACL requests it cannot
// act on.
func TestACLRequestsBadInput(t *testing.T) {
	b := startACLBroker(t, nil, allowAnon(clusterT, broker.ClusterResourceName, broker.ACLOpAlter),
		allowAnon(clusterT, broker.ClusterResourceName, broker.ACLOpDescribe))
	creation := func(change func(*kmsg.CreateACLsRequestCreation)) kmsg.CreateACLsRequestCreation {
		c := kmsg.NewCreateACLsRequestCreation()
		c.ResourceType, c.ResourceName, c.Principal, c.Host = kmsg.ACLResourceTypeTopic, "t", "User:alice", "*"
		c.Operation, c.PermissionType = kmsg.ACLOperationRead, kmsg.ACLPermissionTypeAllow
		change(&c)
		return c
	}
	create := func(cs ...kmsg.CreateACLsRequestCreation) *kmsg.CreateACLsResponse {
		req := kmsg.NewPtrCreateACLsRequest()
		req.Creations = cs
		return dialRaw(t, b.Addr).roundTrip(req, 3).(*kmsg.CreateACLsResponse)
	}

	// Each creation stands alone: INVALID_REQUEST with Kafka's message.
	resp := create(
		creation(func(c *kmsg.CreateACLsRequestCreation) {}),
		creation(func(c *kmsg.CreateACLsRequestCreation) { c.ResourceType = kmsg.ACLResourceTypeCluster }),
		creation(func(c *kmsg.CreateACLsRequestCreation) { c.ResourceName = "" }),
		creation(func(c *kmsg.CreateACLsRequestCreation) { c.Principal = "alice" }),
		creation(func(c *kmsg.CreateACLsRequestCreation) { c.ResourceType = 42 }),
		creation(func(c *kmsg.CreateACLsRequestCreation) { c.Operation = 42 }),
		creation(func(c *kmsg.CreateACLsRequestCreation) { c.PermissionType = 9 }),
	)
	wantMsg := []string{"", "The only valid name for the CLUSTER resource is kafka-cluster", "Invalid empty resource name",
		"Could not parse principal", "Invalid resourceType UNKNOWN", "Invalid operation UNKNOWN", "Invalid permissionType UNKNOWN"}
	for i, r := range resp.Results {
		wantCode := kerr.InvalidRequest.Code
		if i == 0 {
			wantCode = 0
		}
		if r.ErrorCode != wantCode || (wantMsg[i] != "" && (r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, wantMsg[i]))) {
			t.Errorf("creation %d: %v %v, want %v %q", i, kerr.ErrorForCode(r.ErrorCode), r.ErrorMessage, kerr.ErrorForCode(wantCode), wantMsg[i])
		}
	}
	// A filter-only value anywhere fails the whole request, as building
	// Kafka's bindings throws: UNKNOWN_SERVER_ERROR for every creation.
	for _, change := range []func(*kmsg.CreateACLsRequestCreation){
		func(c *kmsg.CreateACLsRequestCreation) { c.ResourceType = kmsg.ACLResourceTypeAny },
		func(c *kmsg.CreateACLsRequestCreation) { c.ResourcePatternType = kmsg.ACLResourcePatternTypeMatch },
		func(c *kmsg.CreateACLsRequestCreation) { c.Operation = kmsg.ACLOperationAny },
		func(c *kmsg.CreateACLsRequestCreation) { c.PermissionType = kmsg.ACLPermissionTypeAny },
	} {
		resp := create(creation(func(c *kmsg.CreateACLsRequestCreation) { c.ResourceName = "fine" }), creation(change))
		for i, r := range resp.Results {
			if r.ErrorCode != kerr.UnknownServerError.Code {
				t.Errorf("filter-only creation, result %d: %v", i, kerr.ErrorForCode(r.ErrorCode))
			}
		}
	}
	if got := b.Node().Broker.DescribeACLs(broker.ACLFilter{ResourceType: broker.ACLResourceAny, PatternType: broker.ACLPatternAny,
		Operation: broker.ACLOpAny, Permission: broker.ACLPermAny, ResourceName: str("fine")}); len(got) != 0 {
		t.Errorf("a refused request stored %v", got)
	}

	// Code 0 (UNKNOWN) in any request: Kafka cannot parse it and closes
	// the connection.
	c := dialRaw(t, b.Addr)
	req := kmsg.NewPtrCreateACLsRequest()
	req.Creations = append(req.Creations, creation(func(c *kmsg.CreateACLsRequestCreation) { c.Operation = 0 }))
	c.write(frame(req, 3, 1))
	c.expectClosed()
	c = dialRaw(t, b.Addr)
	dreq := kmsg.NewPtrDescribeACLsRequest()
	dreq.ResourceType, dreq.Operation, dreq.PermissionType = kmsg.ACLResourceTypeAny, kmsg.ACLOperationAny, 0
	c.write(frame(dreq, 3, 1))
	c.expectClosed()

	// An undefined code in a delete filter: INVALID_REQUEST for it alone.
	del := kmsg.NewPtrDeleteACLsRequest()
	good := kmsg.NewDeleteACLsRequestFilter()
	good.ResourceType, good.ResourcePatternType = kmsg.ACLResourceTypeTopic, kmsg.ACLResourcePatternTypeAny
	good.Operation, good.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	bad := good
	bad.ResourceType = 42
	del.Filters = []kmsg.DeleteACLsRequestFilter{good, bad}
	dresp := dialRaw(t, b.Addr).roundTrip(del, 3).(*kmsg.DeleteACLsResponse)
	if dresp.Results[0].ErrorCode != 0 || len(dresp.Results[0].MatchingACLs) != 1 || dresp.Results[1].ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("delete: %+v", dresp.Results)
	}
	// Describing with an undefined code matches nothing, without error.
	dreq = kmsg.NewPtrDescribeACLsRequest()
	dreq.ResourceType, dreq.ResourcePatternType, dreq.Operation, dreq.PermissionType = 42, kmsg.ACLResourcePatternTypeAny, kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	if r := dialRaw(t, b.Addr).roundTrip(dreq, 3).(*kmsg.DescribeACLsResponse); r.ErrorCode != 0 || len(r.Resources) != 0 {
		t.Fatalf("describe with an undefined type: %v %+v", kerr.ErrorForCode(r.ErrorCode), r.Resources)
	}
}

// TestACLRequestsWithoutAuthorizer: with kafka.authorizer=none the ACL
// APIs answer SECURITY_DISABLED, as Kafka without an authorizer, and
// nothing else is refused.
func TestACLRequestsWithoutAuthorizer(t *testing.T) {
	b := testbroker.Start(t)
	ctx := ctxT(t, 30*time.Second)
	adm := kadm.NewClient(newClient(t, b.Addr))
	rs, err := adm.DescribeACLs(ctx, kadm.NewACLs().AnyResource().ResourcePatternType(kadm.ACLPatternAny).Allow().AllowHosts().Deny().DenyHosts().Operations())
	if err != nil || !errors.Is(rs[0].Err, kerr.SecurityDisabled) {
		t.Fatalf("describe: %v %+v", err, rs)
	}
	cr, err := adm.CreateACLs(ctx, kadm.NewACLs().Topics("t").Deny(anon).Operations(kadm.OpAll))
	if err != nil || !errors.Is(cr[0].Err, kerr.SecurityDisabled) {
		t.Fatalf("create: %v %+v", err, cr)
	}
	dr, err := adm.DeleteACLs(ctx, kadm.NewACLs().Topics("t").Deny(anon).DenyHosts("*").Operations())
	if err != nil || !errors.Is(dr[0].Err, kerr.SecurityDisabled) {
		t.Fatalf("delete: %v %+v", err, dr)
	}
	// Authorized operations without an authorizer: everything supported.
	req := kmsg.NewPtrDescribeClusterRequest()
	req.IncludeClusterAuthorizedOperations = true
	resp := dialRaw(t, b.Addr).roundTrip(req, 1).(*kmsg.DescribeClusterResponse)
	if ops := kadm.DecodeACLOperations(resp.ClusterAuthorizedOperations); len(ops) != 7 {
		t.Fatalf("cluster operations without an authorizer: %v", ops)
	}
}

// TestACLTopicAccess drives produce and fetch with franz-go through
// literal, prefixed, wildcard-principal, host and deny ACLs.
func TestACLTopicAccess(t *testing.T) {
	b := startACLBroker(t, nil,
		allowAnon(topicT, "orders", broker.ACLOpWrite),
		rule(topicT, "ord", prefixed, "User:*", broker.ACLOpRead, allowP),
		rule(topicT, "orders-private", literal, anon, broker.ACLOpRead, denyP),
		allowAnon(topicT, "orders-private", broker.ACLOpWrite),
		broker.ACL{ResourceType: topicT, ResourceName: "hosted", PatternType: literal, Principal: anon, Host: "127.0.0.1", Operation: broker.ACLOpAll, Permission: allowP},
		broker.ACL{ResourceType: topicT, ResourceName: "elsewhere", PatternType: literal, Principal: anon, Host: "10.9.9.9", Operation: broker.ACLOpAll, Permission: allowP},
		rule(topicT, "auto-", prefixed, anon, broker.ACLOpWrite, allowP),
	)
	ctx := ctxT(t, 30*time.Second)
	core := b.Node().Broker
	for _, name := range []string{"orders", "orders-private", "secret", "hosted", "elsewhere"} {
		if _, err := core.CreateTopic(ctx, broker.CreateTopicRequest{Name: name, Partitions: 1, ReplicationFactor: 1}); err != nil {
			t.Fatal(err)
		}
	}

	// Allowed: WRITE on orders for User:ANONYMOUS (which also lets the
	// idempotent producer get its id, KIP-679), READ through the prefix
	// for User:*.
	cl := newClient(t, b.Addr, kgo.ConsumeTopics("orders"), kgo.FetchMaxWait(200*time.Millisecond))
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("produce to orders: %v", err)
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err(); err != nil || fs.NumRecords() != 1 {
		t.Fatalf("consume orders: %v, %d records", err, fs.NumRecords())
	}
	// Refused: no ACL names "secret"; a client sees
	// TOPIC_AUTHORIZATION_FAILED.
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "secret", Value: []byte("v")}).FirstErr(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("produce to secret: %v", err)
	}

	raw := dialRaw(t, b.Addr)
	produce := func(topic string) int16 {
		return raw.roundTrip(produceReq(topic, 0, batch("x"), -1), 9).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
	}
	fetch := func(topic string) int16 {
		return raw.roundTrip(fetchReq(topic, 0, 0, 0), 12).(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode
	}
	for _, c := range []struct {
		what string
		got  int16
		want *kerr.Error
	}{
		{"produce orders", produce("orders"), nil},
		{"fetch orders (prefix, User:*)", fetch("orders"), nil},
		{"produce secret (no ACL)", produce("secret"), kerr.TopicAuthorizationFailed},
		{"fetch secret (no ACL)", fetch("secret"), kerr.TopicAuthorizationFailed},
		{"fetch orders-private (deny beats the prefix allow)", fetch("orders-private"), kerr.TopicAuthorizationFailed},
		{"produce orders-private (literal allow)", produce("orders-private"), nil},
		{"produce hosted (ACL for 127.0.0.1)", produce("hosted"), nil},
		{"fetch hosted (ALL from 127.0.0.1)", fetch("hosted"), nil},
		{"produce elsewhere (ACL for another host)", produce("elsewhere"), kerr.TopicAuthorizationFailed},
		{"produce secret again after refusals", produce("secret"), kerr.TopicAuthorizationFailed},
		// WRITE on a missing topic without CREATE: Kafka never creates on
		// produce, and Tern only does so for a principal that may create.
		{"produce auto-x (no CREATE)", produce("auto-x"), kerr.UnknownTopicOrPartition},
	} {
		if want := codeOf(c.want); c.got != want {
			t.Errorf("%s: %v, want %v", c.what, kerr.ErrorForCode(c.got), kerr.ErrorForCode(want))
		}
	}
	if _, err := core.Topic(ctx, "auto-x", false); err == nil {
		t.Error("a produce without CREATE created auto-x")
	}
	grant(t, b, rule(topicT, "auto-", prefixed, anon, broker.ACLOpCreate, allowP))
	if got := produce("auto-x"); got != 0 {
		t.Errorf("produce auto-x with CREATE: %v", kerr.ErrorForCode(got))
	}
	if _, hw, _, _ := core.PartitionOffsets("secret", 0); hw != 0 {
		t.Errorf("refused produces reached the log: high watermark %d", hw)
	}
}

func codeOf(e *kerr.Error) int16 {
	if e == nil {
		return 0
	}
	return e.Code
}

// TestACLMetadata: listings leave out what the principal may not
// describe, named topics it may not describe are refused whether they
// exist or not, auto-creation needs CREATE, and authorized operations
// are reported.
func TestACLMetadata(t *testing.T) {
	b := startACLBroker(t, nil,
		allowAnon(topicT, "a", broker.ACLOpDescribe),
		allowAnon(topicT, "b", broker.ACLOpRead),
		rule(topicT, "new-", prefixed, anon, broker.ACLOpDescribe, allowP),
	)
	ctx := ctxT(t, 30*time.Second)
	core := b.Node().Broker
	ids := map[string][16]byte{}
	for _, name := range []string{"a", "b", "c"} {
		info, err := core.CreateTopic(ctx, broker.CreateTopicRequest{Name: name, Partitions: 1, ReplicationFactor: 1})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = info.ID
	}
	raw := dialRaw(t, b.Addr)
	metadata := func(version int16, names ...string) *kmsg.MetadataResponse {
		req := kmsg.NewPtrMetadataRequest()
		req.AllowAutoTopicCreation = true
		req.IncludeTopicAuthorizedOperations = true
		req.IncludeClusterAuthorizedOperations = version <= 10
		if names == nil {
			req.Topics = nil
		}
		for _, n := range names {
			mt := kmsg.NewMetadataRequestTopic()
			if id, ok := strings.CutPrefix(n, "id:"); ok {
				mt.TopicID = ids[id]
			} else {
				mt.Topic = str(n)
			}
			req.Topics = append(req.Topics, mt)
		}
		return raw.roundTrip(req, version).(*kmsg.MetadataResponse)
	}

	all := metadata(10)
	var listed []string
	for _, tp := range all.Topics {
		listed = append(listed, *tp.Topic)
	}
	if !slices.Equal(listed, []string{"a", "b"}) {
		t.Fatalf("all topics: %v", listed)
	}
	if all.AuthorizedOperations != 0 {
		t.Errorf("cluster operations without DESCRIBE on the cluster: %v", kadm.DecodeACLOperations(all.AuthorizedOperations))
	}
	opsOf := func(tp kmsg.MetadataResponseTopic) []string {
		var out []string
		for _, op := range kadm.DecodeACLOperations(tp.AuthorizedOperations) {
			out = append(out, op.String())
		}
		sort.Strings(out)
		return out
	}
	if got := opsOf(all.Topics[0]); !slices.Equal(got, []string{"DESCRIBE"}) {
		t.Errorf("operations on a: %v", got)
	}
	if got := opsOf(all.Topics[1]); !slices.Equal(got, []string{"DESCRIBE", "READ"}) {
		t.Errorf("operations on b: %v", got)
	}

	named := metadata(12, "a", "c", "missing", "new-x", "id:c")
	want := []struct {
		name string
		code *kerr.Error
	}{
		{"a", nil},
		{"c", kerr.TopicAuthorizationFailed},       // exists, not describable
		{"missing", kerr.TopicAuthorizationFailed}, // does not exist: the same answer
		{"new-x", kerr.TopicAuthorizationFailed},   // describable, but no CREATE
		{"", kerr.TopicAuthorizationFailed},        // by id: no name given back
	}
	for i, w := range want {
		tp := named.Topics[i]
		if tp.ErrorCode != codeOf(w.code) || (w.code != nil && len(tp.Partitions) != 0) {
			t.Errorf("topic %d: %v with %d partitions, want %v", i, kerr.ErrorForCode(tp.ErrorCode), len(tp.Partitions), w.code)
		}
		if w.name == "" && tp.Topic != nil || w.name != "" && (tp.Topic == nil || *tp.Topic != w.name) {
			t.Errorf("topic %d named %v, want %q", i, tp.Topic, w.name)
		}
		if w.code != nil && w.name != "" && tp.TopicID != ([16]byte{}) {
			t.Errorf("refused topic %s carries its id", w.name)
		}
	}
	if _, err := core.Topic(ctx, "new-x", false); err == nil {
		t.Fatal("metadata without CREATE created new-x")
	}
	grant(t, b, allowAnon(clusterT, broker.ClusterResourceName, broker.ACLOpCreate))
	if tp := metadata(12, "new-x").Topics[0]; tp.ErrorCode != 0 || len(tp.Partitions) != 1 {
		t.Fatalf("auto-create with CREATE on the cluster: %v", kerr.ErrorForCode(tp.ErrorCode))
	}
}

// TestACLConsumerGroup: a franz-go consumer group works with READ on its
// group and topic; another group is refused at every step, and listings
// and descriptions hide it.
func TestACLConsumerGroup(t *testing.T) {
	b := startACLBroker(t, nil,
		allowAnon(groupT, "ok", broker.ACLOpRead),
		allowAnon(topicT, "gt", broker.ACLOpRead),
		allowAnon(topicT, "gt", broker.ACLOpWrite),
	)
	ctx := ctxT(t, 30*time.Second)
	core := b.Node().Broker
	if _, err := core.CreateTopic(ctx, broker.CreateTopicRequest{Name: "gt", Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := core.CreateTopic(ctx, broker.CreateTopicRequest{Name: "secret", Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	for g, topic := range map[string]string{"hidden": "gt", "ok": "secret"} {
		if gerr, _ := core.Groups.CommitOffsets(ctx, g, "", "", -1, []group.OffsetCommit{{Topic: topic, Partition: 0, Offset: 5, LeaderEpoch: -1}}); gerr != nil {
			t.Fatal(gerr)
		}
	}
	producer := newClient(t, b.Addr)
	if err := producer.ProduceSync(ctx, &kgo.Record{Topic: "gt", Value: []byte("1")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	consumer := newClient(t, b.Addr, kgo.ConsumerGroup("ok"), kgo.ConsumeTopics("gt"), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	fs := consumer.PollFetches(ctx)
	if err := fs.Err(); err != nil || fs.NumRecords() != 1 {
		t.Fatalf("group consumer: %v, %d records", err, fs.NumRecords())
	}
	if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	adm := kadm.NewClient(producer)
	offs, err := adm.FetchOffsets(ctx, "ok")
	if err != nil || offs["gt"][0].At != 1 || len(offs) != 1 {
		t.Fatalf("committed offsets of ok (secret's hidden): %v %+v", err, offs)
	}
	// Named, a topic the principal may not describe is refused, and it may
	// not commit to it either.
	of := kmsg.NewPtrOffsetFetchRequest()
	ofg := kmsg.NewOffsetFetchRequestGroup()
	ofg.Group = "ok"
	for _, topic := range []string{"gt", "secret"} {
		ft := kmsg.NewOffsetFetchRequestGroupTopic()
		ft.Topic, ft.Partitions = topic, []int32{0}
		ofg.Topics = append(ofg.Topics, ft)
	}
	of.Groups = append(of.Groups, ofg)
	ofr := dialRaw(t, b.Addr).roundTrip(of, 8).(*kmsg.OffsetFetchResponse).Groups[0]
	if len(ofr.Topics) != 2 || ofr.Topics[0].Partitions[0].Offset != 1 || ofr.Topics[1].Topic != "secret" ||
		ofr.Topics[1].Partitions[0].ErrorCode != kerr.TopicAuthorizationFailed.Code || ofr.Topics[1].Partitions[0].Offset != -1 {
		t.Fatalf("offsets of gt and secret: %+v", ofr.Topics)
	}
	oc := kmsg.NewPtrOffsetCommitRequest()
	oc.Group, oc.Generation = "ok", -1
	for _, topic := range []string{"secret", "missing"} {
		ct := kmsg.NewOffsetCommitRequestTopic()
		ct.Topic = topic
		ct.Partitions = append(ct.Partitions, kmsg.NewOffsetCommitRequestTopicPartition())
		oc.Topics = append(oc.Topics, ct)
	}
	ocr := dialRaw(t, b.Addr).roundTrip(oc, 8).(*kmsg.OffsetCommitResponse)
	for i, tp := range ocr.Topics {
		if code := tp.Partitions[0].ErrorCode; code != kerr.TopicAuthorizationFailed.Code {
			t.Errorf("commit to %s: %v", oc.Topics[i].Topic, kerr.ErrorForCode(code))
		}
	}

	// The "hidden" group: no ACL.
	if _, err := adm.FetchOffsets(ctx, "hidden"); !errors.Is(err, kerr.GroupAuthorizationFailed) {
		t.Fatalf("offsets of hidden: %v", err)
	}
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if names := listed.Groups(); !slices.Equal(names, []string{"ok"}) {
		t.Fatalf("groups listed without DESCRIBE on the cluster: %v", names)
	}
	described, err := adm.DescribeGroups(ctx, "ok")
	if err != nil || described["ok"].Err != nil {
		t.Fatalf("describe ok: %v %v", err, described["ok"].Err)
	}
	var ops []string
	for _, op := range described["ok"].AuthorizedOperations {
		ops = append(ops, op.String())
	}
	if sort.Strings(ops); !slices.Equal(ops, []string{"DESCRIBE", "READ"}) {
		t.Fatalf("operations on group ok: %v", ops)
	}
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Groups = []string{"hidden", "ok"}
	dresp := dialRaw(t, b.Addr).roundTrip(dg, 5).(*kmsg.DescribeGroupsResponse)
	if dresp.Groups[0].ErrorCode != kerr.GroupAuthorizationFailed.Code || dresp.Groups[0].State != "" || dresp.Groups[1].ErrorCode != 0 || dresp.Groups[1].State == "" {
		t.Fatalf("describe hidden and ok: %+v", dresp.Groups)
	}
	// Every group API refuses the hidden group.
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.ProtocolType, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = "hidden", "consumer", 10000, 10000
	if r := dialRaw(t, b.Addr).roundTrip(join, 9).(*kmsg.JoinGroupResponse); r.ErrorCode != kerr.GroupAuthorizationFailed.Code || r.Generation != -1 || r.MemberID != "" {
		t.Fatalf("join hidden: %v gen %d member %q", kerr.ErrorForCode(r.ErrorCode), r.Generation, r.MemberID)
	}
	// READ does not imply DELETE.
	if del, err := adm.DeleteGroups(ctx, "ok"); err != nil || !errors.Is(del["ok"].Err, kerr.GroupAuthorizationFailed) {
		t.Fatalf("delete ok with READ only: %v %+v", err, del)
	}
	// With DESCRIBE on the cluster, every group is listed.
	grant(t, b, allowAnon(clusterT, broker.ClusterResourceName, broker.ACLOpDescribe))
	listed, err = adm.ListGroups(ctx)
	if err != nil || !slices.Equal(listed.Groups(), []string{"hidden", "ok"}) {
		t.Fatalf("groups with DESCRIBE on the cluster: %v %v", err, listed.Groups())
	}
}

// TestACLAllowEveryoneIfNoACLFound: resources no ACL names are open
// (here the cluster, so anyone may create topics); naming one closes it
// to everyone else.
func TestACLAllowEveryoneIfNoACLFound(t *testing.T) {
	b := startACLBroker(t, func(c *config.Config) { c.AllowEveryoneIfNoACL = true },
		rule(topicT, "closed", literal, "User:alice", broker.ACLOpAll, allowP))
	raw := dialRaw(t, b.Addr)
	ct := kmsg.NewPtrCreateTopicsRequest()
	for _, name := range []string{"open", "closed"} {
		topic := kmsg.NewCreateTopicsRequestTopic()
		topic.Topic, topic.NumPartitions, topic.ReplicationFactor = name, 1, 1
		ct.Topics = append(ct.Topics, topic)
	}
	resp := raw.roundTrip(ct, 7).(*kmsg.CreateTopicsResponse)
	if resp.Topics[0].ErrorCode != 0 || resp.Topics[1].ErrorCode != 0 {
		t.Fatalf("create with CREATE on the cluster open: %v, %v", kerr.ErrorForCode(resp.Topics[0].ErrorCode), kerr.ErrorForCode(resp.Topics[1].ErrorCode))
	}
	// The configs of "closed" are not the creator's to see.
	if resp.Topics[0].ConfigErrorCode != 0 || len(resp.Topics[0].Configs) == 0 ||
		resp.Topics[1].ConfigErrorCode != kerr.TopicAuthorizationFailed.Code || len(resp.Topics[1].Configs) != 0 || resp.Topics[1].NumPartitions != -1 {
		t.Fatalf("created topics' configs: open %d (%d configs), closed %d (%d configs, %d partitions)",
			resp.Topics[0].ConfigErrorCode, len(resp.Topics[0].Configs), resp.Topics[1].ConfigErrorCode, len(resp.Topics[1].Configs), resp.Topics[1].NumPartitions)
	}
	produce := func(topic string) int16 {
		return raw.roundTrip(produceReq(topic, 0, batch("x"), -1), 9).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
	}
	if got := produce("open"); got != 0 {
		t.Fatalf("produce to a topic no ACL names: %v", kerr.ErrorForCode(got))
	}
	if got := produce("closed"); got != kerr.TopicAuthorizationFailed.Code {
		t.Fatalf("produce to a topic only alice may use: %v", kerr.ErrorForCode(got))
	}
}

// TestACLDeleteTopics: what a refused delete may say about a topic, as
// Kafka's controller: nothing the principal may not describe.
func TestACLDeleteTopics(t *testing.T) {
	b := startACLBroker(t, nil,
		allowAnon(topicT, "seen", broker.ACLOpDescribe),
		allowAnon(topicT, "gone", broker.ACLOpDelete),
		rule(topicT, "m", prefixed, anon, broker.ACLOpDescribe, allowP),
	)
	ctx := ctxT(t, 30*time.Second)
	core := b.Node().Broker
	ids := map[string][16]byte{}
	for _, name := range []string{"seen", "unseen", "gone"} {
		info, err := core.CreateTopic(ctx, broker.CreateTopicRequest{Name: name, Partitions: 1, ReplicationFactor: 1})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = info.ID
	}
	req := kmsg.NewPtrDeleteTopicsRequest()
	for _, n := range []string{"seen", "unseen", "missing", "id:seen", "id:unseen", "gone"} {
		dt := kmsg.NewDeleteTopicsRequestTopic()
		if name, ok := strings.CutPrefix(n, "id:"); ok {
			dt.TopicID = ids[name]
		} else {
			dt.Topic = str(n)
		}
		req.Topics = append(req.Topics, dt)
	}
	resp := dialRaw(t, b.Addr).roundTrip(req, 6).(*kmsg.DeleteTopicsResponse)
	want := []struct {
		name string // "" for a null name
		code *kerr.Error
	}{
		{"seen", kerr.TopicAuthorizationFailed},   // describable, not deletable
		{"unseen", kerr.TopicAuthorizationFailed}, // exists, not describable
		{"missing", kerr.UnknownTopicOrPartition}, // describable through the prefix, absent
		{"seen", kerr.TopicAuthorizationFailed},   // by id, describable: named
		{"", kerr.TopicAuthorizationFailed},       // by id, not describable: no name
		{"gone", nil},                             // DELETE implies DESCRIBE
	}
	for i, w := range want {
		r := resp.Topics[i]
		name := ""
		if r.Topic != nil {
			name = *r.Topic
		}
		if name != w.name || r.ErrorCode != codeOf(w.code) {
			t.Errorf("topic %d: %q %v, want %q %v", i, name, kerr.ErrorForCode(r.ErrorCode), w.name, w.code)
		}
	}
	for name, wantExists := range map[string]bool{"seen": true, "unseen": true, "gone": false} {
		if _, err := core.Topic(ctx, name, false); (err == nil) != wantExists {
			t.Errorf("%s exists: %v, want %v", name, err == nil, wantExists)
		}
	}
}
