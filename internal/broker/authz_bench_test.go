package broker

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
)

// BenchmarkKafkaAuthorize is the ACL decision a Kafka request pays per
// resource, with 1,000 ACLs over 500 principals: a literal and a prefixed
// ACL per principal. It runs on every produce and fetch when
// kafka.authorizer=acl.
func BenchmarkKafkaAuthorize(b *testing.B) {
	br := openACLBroker(b, b.TempDir(), ACLConfig{Enabled: true})
	defer br.Close()
	var acls []ACL
	for i := range 500 {
		p := fmt.Sprintf("User:svc-%d", i)
		acls = append(acls,
			ACL{ResourceType: ACLResourceTopic, ResourceName: fmt.Sprintf("orders-%d", i), PatternType: ACLPatternLiteral, Principal: p, Host: "*", Operation: ACLOpWrite, Permission: ACLPermAllow},
			ACL{ResourceType: ACLResourceTopic, ResourceName: fmt.Sprintf("svc-%d.", i), PatternType: ACLPatternPrefixed, Principal: p, Host: "*", Operation: ACLOpRead, Permission: ACLPermAllow})
	}
	for i, err := range br.CreateACLs(context.Background(), acls) {
		if err != nil {
			b.Fatalf("ACL %d: %v", i, err)
		}
	}
	host := netip.MustParseAddr("10.0.0.7")
	b.Run("literal", func(b *testing.B) {
		for b.Loop() {
			if !br.Authorizer("User:svc-250", host).Allowed(ACLOpWrite, ACLResourceTopic, "orders-250") {
				b.Fatal("denied")
			}
		}
	})
	b.Run("prefixed", func(b *testing.B) {
		for b.Loop() {
			if !br.Authorizer("User:svc-250", host).Allowed(ACLOpRead, ACLResourceTopic, "svc-250.events") {
				b.Fatal("denied")
			}
		}
	})
	b.Run("denied", func(b *testing.B) {
		for b.Loop() {
			if br.Authorizer("User:svc-250", host).Allowed(ACLOpWrite, ACLResourceTopic, "orders-251") {
				b.Fatal("allowed")
			}
		}
	})
}

// BenchmarkAMQPCheckAccess is the permission check an AMQP publish pays:
// the user's compiled write pattern against the exchange name.
func BenchmarkAMQPCheckAccess(b *testing.B) {
	br := openUsersBroker(b, b.TempDir())
	defer br.Close()
	ctx := context.Background()
	if _, err := br.PutUser(ctx, "app", "pw", nil); err != nil {
		b.Fatal(err)
	}
	if _, err := br.SetPermission(ctx, Permission{User: "app", VHost: "/", Configure: "^app\\.", Write: "^(app|orders)\\.", Read: "^app\\."}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := br.CheckAccess("app", "/", KindExchange, "orders.events", AccessWrite); err != nil {
			b.Fatal(err)
		}
	}
}
