package kafka_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// TestAuthenticatedUsersAndACLs puts authentication and authorization
// together, as a production node runs: SASL users over SCRAM, ACLs
// managed by an administrator through kadm. alice may write and read
// topics prefixed "orders." and is denied "payments"; bob, with no ACLs,
// is denied both; the administrator (tagged, so a super user) manages
// ACLs; an unauthenticated client on the plaintext listener is nobody.
func TestAuthenticatedUsersAndACLs(t *testing.T) {
	b := startSASL(t, testbroker.WithConfig(func(c *config.Config) { c.Authorizer = "acl" }))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	core := b.Node().Broker
	if _, err := core.PutUser(ctx, "bob", "bob-secret", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := core.PutUser(ctx, "ops", "ops-secret", []string{"administrator"}); err != nil {
		t.Fatal(err)
	}
	admin := kadm.NewClient(saslClient(t, b, "SASL_SSL", mechanisms("ops", "ops-secret")["SCRAM-SHA-256"]))
	for _, topic := range []string{"orders.eu", "payments"} {
		if _, err := admin.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
			t.Fatalf("administrator creates %s: %v", topic, err)
		}
	}
	acl := kadm.NewACLs().Allow("User:alice").AllowHosts().
		Topics("orders.").ResourcePatternType(kadm.ACLPatternPrefixed).
		Operations(kadm.OpWrite, kadm.OpRead).
		Groups("alice-").ResourcePatternType(kadm.ACLPatternPrefixed)
	results, err := admin.CreateACLs(ctx, acl)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatalf("create ACL: %v", r.Err)
		}
	}

	produce := func(cl *kgo.Client, topic string) error {
		return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("v")}).FirstErr()
	}
	alice := saslClient(t, b, "SASL_PLAINTEXT", mechanisms("alice", "alice-secret")["SCRAM-SHA-512"])
	if err := produce(alice, "orders.eu"); err != nil {
		t.Fatalf("alice writes orders.eu: %v", err)
	}
	if err := produce(alice, "payments"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice writes payments: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	bob := saslClient(t, b, "SASL_PLAINTEXT", mechanisms("bob", "bob-secret")["PLAIN"])
	if err := produce(bob, "orders.eu"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("bob writes orders.eu: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	granted, err := kadm.NewClient(bob).CreateACLs(ctx, kadm.NewACLs().Allow("User:bob").AllowHosts().Topics("payments").Operations(kadm.OpAll))
	if err != nil || len(granted) != 1 || !errors.Is(granted[0].Err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("bob grants himself an ACL: %v %+v, want CLUSTER_AUTHORIZATION_FAILED", err, granted)
	}
	anonymous := newClient(t, b.KafkaAddr(config.Plaintext))
	if err := produce(anonymous, "orders.eu"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("anonymous writes orders.eu: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}

	// alice consumes in her own group; a group outside her prefix is refused.
	consume := func(group string) error {
		cl := saslClient(t, b, "SASL_PLAINTEXT", mechanisms("alice", "alice-secret")["SCRAM-SHA-256"],
			kgo.ConsumeTopics("orders.eu"), kgo.ConsumerGroup(group), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		fctx, fcancel := context.WithTimeout(ctx, 15*time.Second)
		defer fcancel()
		for {
			fs := cl.PollFetches(fctx)
			if err := fs.Err0(); err != nil {
				return err
			}
			if fs.NumRecords() > 0 {
				return nil
			}
		}
	}
	if err := consume("alice-readers"); err != nil {
		t.Fatalf("alice consumes in alice-readers: %v", err)
	}
	if err := consume("others"); !errors.Is(err, kerr.GroupAuthorizationFailed) {
		t.Fatalf("alice consumes in others: %v, want GROUP_AUTHORIZATION_FAILED", err)
	}

	// Revoking takes effect on the next request.
	if _, err := admin.DeleteACLs(ctx, kadm.NewACLs().Allow("User:alice").AllowHosts().
		Topics("orders.").ResourcePatternType(kadm.ACLPatternPrefixed).Operations(kadm.OpWrite)); err != nil {
		t.Fatal(err)
	}
	if err := produce(alice, "orders.eu"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice writes after the revoke: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
}
