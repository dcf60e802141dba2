package broker

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/storage"
)

// Shorthands for the tables below.
const (
	topic   = ACLResourceTopic
	grp     = ACLResourceGroup
	cluster = ACLResourceCluster
	lit     = ACLPatternLiteral
	pre     = ACLPatternPrefixed
	allow   = ACLPermAllow
	deny    = ACLPermDeny
	alice   = "User:alice"
)

func acl(rt ACLResourceType, name string, pt ACLPatternType, principal, host string, op ACLOperation, perm ACLPermission) ACL {
	return ACL{ResourceType: rt, ResourceName: name, PatternType: pt, Principal: principal, Host: host, Operation: op, Permission: perm}
}

func testAuthorizer(acls []ACL, allowIfNoACL bool, principal, host string) Authorizer {
	set := map[ACL]struct{}{}
	for _, a := range acls {
		set[a] = struct{}{}
	}
	var addr netip.Addr
	if host != "" {
		addr = netip.MustParseAddr(host)
	}
	return Authorizer{on: true, allowIfNoACL: allowIfNoACL, principal: principal, host: addr.Unmap(), snap: newACLSnapshot(set)}
}

// TestAuthorizerAllowed is StandardAuthorizer's decision table: deny
// beats allow, ALL and the implied DESCRIBE/DESCRIBE_CONFIGS, literal,
// "*" and prefixed names, principal and host wildcards, and what happens
// when no ACL names the resource.
func TestAuthorizerAllowed(t *testing.T) {
	const host = "10.0.0.1"
	cases := []struct {
		name         string
		acls         []ACL
		allowIfNoACL bool
		principal    string // alice when empty
		host         string // host when empty
		op           ACLOperation
		rt           ACLResourceType
		res          string
		want         bool
	}{
		{name: "no acls, default deny", op: ACLOpRead, rt: topic, res: "t", want: false},
		{name: "no acls, allow.everyone.if.no.acl.found", allowIfNoACL: true, op: ACLOpRead, rt: topic, res: "t", want: true},
		{name: "acl on another resource only: no acl found", allowIfNoACL: true,
			acls: []ACL{acl(topic, "other", lit, alice, "*", ACLOpRead, deny)}, op: ACLOpRead, rt: topic, res: "t", want: true},
		{name: "acl for someone else on the resource: denied even with allow-if-no-acl", allowIfNoACL: true,
			acls: []ACL{acl(topic, "t", lit, "User:bob", "*", ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "t", want: false},
		{name: "literal allow", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "t", want: true},
		{name: "literal allow is exact, not a prefix", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "tt", want: false},
		{name: "other operation", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpRead, allow)}, op: ACLOpWrite, rt: topic, res: "t", want: false},
		{name: "other resource type", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpRead, allow)}, op: ACLOpRead, rt: grp, res: "t", want: false},
		{name: "deny beats allow", acls: []ACL{
			acl(topic, "t", lit, alice, "*", ACLOpRead, allow),
			acl(topic, "t", lit, alice, "*", ACLOpRead, deny)}, op: ACLOpRead, rt: topic, res: "t", want: false},
		{name: "wildcard deny beats literal allow", acls: []ACL{
			acl(topic, "t", lit, alice, "*", ACLOpRead, allow),
			acl(topic, "*", lit, "User:*", "*", ACLOpAll, deny)}, op: ACLOpRead, rt: topic, res: "t", want: false},
		{name: "prefixed deny beats literal allow", acls: []ACL{
			acl(topic, "orders", lit, alice, "*", ACLOpRead, allow),
			acl(topic, "ord", pre, alice, "*", ACLOpRead, deny)}, op: ACLOpRead, rt: topic, res: "orders", want: false},
		{name: "ALL allows anything", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpAll, allow)}, op: ACLOpAlterConfigs, rt: topic, res: "t", want: true},
		{name: "ALL denies anything", acls: []ACL{
			acl(topic, "t", lit, alice, "*", ACLOpWrite, allow),
			acl(topic, "t", lit, alice, "*", ACLOpAll, deny)}, op: ACLOpWrite, rt: topic, res: "t", want: false},
		{name: "READ implies DESCRIBE", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpRead, allow)}, op: ACLOpDescribe, rt: topic, res: "t", want: true},
		{name: "WRITE implies DESCRIBE", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpWrite, allow)}, op: ACLOpDescribe, rt: topic, res: "t", want: true},
		{name: "DELETE implies DESCRIBE", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpDelete, allow)}, op: ACLOpDescribe, rt: topic, res: "t", want: true},
		{name: "ALTER implies DESCRIBE", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpAlter, allow)}, op: ACLOpDescribe, rt: topic, res: "t", want: true},
		{name: "CREATE does not imply DESCRIBE", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpCreate, allow)}, op: ACLOpDescribe, rt: topic, res: "t", want: false},
		{name: "DESCRIBE does not imply READ", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpDescribe, allow)}, op: ACLOpRead, rt: topic, res: "t", want: false},
		{name: "ALTER_CONFIGS implies DESCRIBE_CONFIGS", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpAlterConfigs, allow)}, op: ACLOpDescribeConfigs, rt: topic, res: "t", want: true},
		{name: "ALTER does not imply DESCRIBE_CONFIGS", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpAlter, allow)}, op: ACLOpDescribeConfigs, rt: topic, res: "t", want: false},
		{name: "DENY READ does not deny DESCRIBE", acls: []ACL{
			acl(topic, "t", lit, alice, "*", ACLOpRead, deny),
			acl(topic, "t", lit, alice, "*", ACLOpDescribe, allow)}, op: ACLOpDescribe, rt: topic, res: "t", want: true},
		{name: "wildcard name", acls: []ACL{acl(topic, "*", lit, alice, "*", ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "anything", want: true},
		{name: "prefixed", acls: []ACL{acl(topic, "ord", pre, alice, "*", ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "orders", want: true},
		{name: "prefixed equal to name", acls: []ACL{acl(topic, "orders", pre, alice, "*", ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "orders", want: true},
		{name: "prefixed longer than name", acls: []ACL{acl(topic, "ordersX", pre, alice, "*", ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "orders", want: false},
		{name: "prefix * is not a wildcard", acls: []ACL{acl(topic, "*", pre, alice, "*", ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "orders", want: false},
		{name: "principal wildcard", acls: []ACL{acl(topic, "t", lit, "User:*", "*", ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "t", want: true},
		{name: "other principal", acls: []ACL{acl(topic, "t", lit, "User:bob", "*", ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "t", want: false},
		{name: "host match", acls: []ACL{acl(topic, "t", lit, alice, host, ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "t", want: true},
		{name: "host mismatch", acls: []ACL{acl(topic, "t", lit, alice, "10.0.0.2", ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "t", want: false},
		{name: "IPv4-mapped client matches the IPv4 acl", host: "::ffff:10.0.0.1",
			acls: []ACL{acl(topic, "t", lit, alice, host, ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "t", want: true},
		{name: "IPv6 written out in full matches", host: "::1",
			acls: []ACL{acl(topic, "t", lit, alice, "0:0:0:0:0:0:0:1", ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "t", want: true},
		{name: "host name never matches", acls: []ACL{acl(topic, "t", lit, alice, "localhost", ACLOpRead, allow)}, op: ACLOpRead, rt: topic, res: "t", want: false},
		{name: "deny from one host only", acls: []ACL{
			acl(topic, "t", lit, "User:*", "*", ACLOpRead, allow),
			acl(topic, "t", lit, "User:*", "10.0.0.2", ACLOpRead, deny)}, op: ACLOpRead, rt: topic, res: "t", want: true},
		{name: "cluster", acls: []ACL{acl(cluster, ClusterResourceName, lit, alice, "*", ACLOpCreate, allow)}, op: ACLOpCreate, rt: cluster, res: ClusterResourceName, want: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, h := cmpOr(c.principal, alice), cmpOr(c.host, host)
			if got := testAuthorizer(c.acls, c.allowIfNoACL, p, h).Allowed(c.op, c.rt, c.res); got != c.want {
				t.Fatalf("Allowed(%s, %s, %q) = %v, want %v", c.op, c.rt, c.res, got, c.want)
			}
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestAuthorizerAllowedAny is Kafka's authorizeByResourceType (KIP-679).
func TestAuthorizerAllowedAny(t *testing.T) {
	cases := []struct {
		name         string
		acls         []ACL
		allowIfNoACL bool
		want         bool
	}{
		{name: "nothing", want: false},
		{name: "nothing, allow if no acl", allowIfNoACL: true, want: true},
		{name: "one literal write", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpWrite, allow)}, want: true},
		{name: "ALL counts", acls: []ACL{acl(topic, "t", lit, "User:*", "*", ACLOpAll, allow)}, want: true},
		{name: "implied ops do not count", acls: []ACL{acl(topic, "t", lit, alice, "*", ACLOpRead, allow)}, want: false},
		{name: "literal deny of the same name", acls: []ACL{
			acl(topic, "t", lit, alice, "*", ACLOpWrite, allow),
			acl(topic, "t", lit, alice, "*", ACLOpWrite, deny)}, want: false},
		{name: "prefix deny dominates", acls: []ACL{
			acl(topic, "orders", lit, alice, "*", ACLOpWrite, allow),
			acl(topic, "ord", pre, alice, "*", ACLOpWrite, deny)}, want: false},
		{name: "literal deny does not dominate a prefixed allow", acls: []ACL{
			acl(topic, "ord", pre, alice, "*", ACLOpWrite, allow),
			acl(topic, "ord", lit, alice, "*", ACLOpWrite, deny)}, want: true},
		{name: "wildcard deny", acls: []ACL{
			acl(topic, "*", lit, alice, "*", ACLOpWrite, allow),
			acl(topic, "*", lit, alice, "*", ACLOpWrite, deny)}, want: false},
		{name: "someone else's allow", acls: []ACL{acl(topic, "t", lit, "User:bob", "*", ACLOpWrite, allow)}, want: false},
		{name: "other host", acls: []ACL{acl(topic, "t", lit, alice, "10.9.9.9", ACLOpWrite, allow)}, want: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := testAuthorizer(c.acls, c.allowIfNoACL, alice, "10.0.0.1").AllowedAny(ACLOpWrite, topic); got != c.want {
				t.Fatalf("AllowedAny = %v, want %v", got, c.want)
			}
		})
	}
}

// TestACLValidate refuses what Kafka's CreateAcls refuses, with its words.
func TestACLValidate(t *testing.T) {
	ok := acl(topic, "t", lit, alice, "*", ACLOpRead, allow)
	cases := []struct {
		name   string
		change func(*ACL)
		want   string // "" valid
	}{
		{"valid", func(*ACL) {}, ""},
		{"prefixed", func(a *ACL) { a.PatternType = pre }, ""},
		{"other principal type", func(a *ACL) { a.Principal = "Group:ops" }, ""},
		{"any host text", func(a *ACL) { a.Host = "not-an-ip" }, ""},
		{"cluster", func(a *ACL) { a.ResourceType, a.ResourceName = cluster, ClusterResourceName }, ""},
		{"user resource", func(a *ACL) { a.ResourceType = ACLResourceUser }, ""},
		{"cluster by another name", func(a *ACL) { a.ResourceType = cluster }, "The only valid name for the CLUSTER resource is kafka-cluster"},
		{"empty name", func(a *ACL) { a.ResourceName = "" }, "Invalid empty resource name"},
		{"any resource type", func(a *ACL) { a.ResourceType = ACLResourceAny }, "Invalid resourceType ANY"},
		{"undefined resource type", func(a *ACL) { a.ResourceType = 99 }, "Invalid resourceType UNKNOWN"},
		{"match pattern", func(a *ACL) { a.PatternType = ACLPatternMatch }, "Invalid patternType MATCH"},
		{"any operation", func(a *ACL) { a.Operation = ACLOpAny }, "Invalid operation ANY"},
		{"undefined operation", func(a *ACL) { a.Operation = 42 }, "Invalid operation UNKNOWN"},
		{"any permission", func(a *ACL) { a.Permission = ACLPermAny }, "Invalid permissionType ANY"},
		{"no colon", func(a *ACL) { a.Principal = "alice" }, "Could not parse principal from `alice`"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := ok
			c.change(&a)
			err := a.validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (!errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want INVALID_REQUEST %q", err, c.want)
			}
		})
	}
}

// TestACLFilterMatches follows AclBindingFilter.matches.
func TestACLFilterMatches(t *testing.T) {
	str := func(s string) *string { return &s }
	anyF := ACLFilter{ResourceType: ACLResourceAny, PatternType: ACLPatternAny, Operation: ACLOpAny, Permission: ACLPermAny}
	with := func(f func(*ACLFilter)) ACLFilter { g := anyF; f(&g); return g }
	literalT := acl(topic, "orders", lit, alice, "*", ACLOpRead, allow)
	prefixedT := acl(topic, "ord", pre, alice, "*", ACLOpRead, allow)
	wildT := acl(topic, "*", lit, alice, "*", ACLOpRead, allow)
	cases := []struct {
		name string
		f    ACLFilter
		acl  ACL
		want bool
	}{
		{"any matches all", anyF, prefixedT, true},
		{"resource type", with(func(f *ACLFilter) { f.ResourceType = grp }), literalT, false},
		{"literal name exact", with(func(f *ACLFilter) { f.PatternType, f.ResourceName = lit, str("orders") }), literalT, true},
		{"literal filter skips prefixed", with(func(f *ACLFilter) { f.PatternType, f.ResourceName = lit, str("ord") }), prefixedT, false},
		{"any pattern compares names exactly", with(func(f *ACLFilter) { f.ResourceName = str("orders") }), prefixedT, false},
		{"literal * filter finds the wildcard acl only", with(func(f *ACLFilter) { f.PatternType, f.ResourceName = lit, str("*") }), literalT, false},
		{"match: prefix applies", with(func(f *ACLFilter) { f.PatternType, f.ResourceName = ACLPatternMatch, str("orders") }), prefixedT, true},
		{"match: wildcard applies", with(func(f *ACLFilter) { f.PatternType, f.ResourceName = ACLPatternMatch, str("orders") }), wildT, true},
		{"match: literal exact", with(func(f *ACLFilter) { f.PatternType, f.ResourceName = ACLPatternMatch, str("orders") }), literalT, true},
		{"match: other literal", with(func(f *ACLFilter) { f.PatternType, f.ResourceName = ACLPatternMatch, str("order") }), literalT, false},
		{"principal exact, no wildcard expansion", with(func(f *ACLFilter) { f.Principal = str("User:*") }), literalT, false},
		{"principal", with(func(f *ACLFilter) { f.Principal = str(alice) }), literalT, true},
		{"host", with(func(f *ACLFilter) { f.Host = str("1.2.3.4") }), literalT, false},
		{"operation", with(func(f *ACLFilter) { f.Operation = ACLOpWrite }), literalT, false},
		{"permission", with(func(f *ACLFilter) { f.Permission = deny }), literalT, false},
		{"undefined code matches nothing", with(func(f *ACLFilter) { f.Operation = 99 }), literalT, false},
		{"empty principal is not any", with(func(f *ACLFilter) { f.Principal = str("") }), literalT, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.f.Matches(c.acl); got != c.want {
				t.Fatalf("Matches = %v, want %v", got, c.want)
			}
		})
	}
}

func openACLBroker(t testing.TB, dir string, cfg ACLConfig) *Broker {
	t.Helper()
	b, err := Open(Config{
		DataDir: dir, NodeID: 1, LogDefaults: storage.DefaultConfig(), DefaultPartitions: 1,
		MaxMessageBytes: 1 << 20, Group: group.DefaultConfig(), DefaultUser: "guest", DefaultPass: "guest", ACL: cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestACLsPersist creates and deletes ACLs through the broker and checks
// the catalog brings back exactly what was left, and that the store's
// answers are Kafka's: duplicates are no-ops, a bad ACL fails alone, a
// filter with an unknown field is refused.
func TestACLsPersist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := ACLConfig{Enabled: true}
	b := openACLBroker(t, dir, cfg)
	read := acl(topic, "orders", lit, alice, "*", ACLOpRead, allow)
	write := acl(topic, "ord", pre, "User:*", "10.0.0.1", ACLOpWrite, deny)
	grpRead := acl(grp, "g", lit, alice, "*", ACLOpRead, allow)
	errs := b.CreateACLs(ctx, []ACL{read, write, acl(cluster, "c", lit, alice, "*", ACLOpAlter, allow), grpRead, read})
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], ErrInvalidRequest) || errs[3] != nil || errs[4] != nil {
		t.Fatalf("create: %v", errs)
	}
	if errs := b.CreateACLs(ctx, []ACL{read}); errs[0] != nil {
		t.Fatalf("create again: %v", errs[0])
	}
	anyFilter := ACLFilter{ResourceType: ACLResourceAny, PatternType: ACLPatternAny, Operation: ACLOpAny, Permission: ACLPermAny}
	if got := b.DescribeACLs(anyFilter); !slices.Equal(got, []ACL{write, read, grpRead}) {
		t.Fatalf("describe: %v", got)
	}
	alicePrincipal := alice
	res := b.DeleteACLs(ctx, []ACLFilter{
		{ResourceType: grp, PatternType: ACLPatternAny, Operation: ACLOpAny, Permission: ACLPermAny},
		{ResourceType: ACLResourceAny, PatternType: ACLPatternAny, Principal: &alicePrincipal, Operation: ACLOpRead, Permission: ACLPermAny},
		{ResourceType: 99, PatternType: ACLPatternAny, Operation: ACLOpAny, Permission: ACLPermAny},
	})
	if !slices.Equal(res[0].Deleted, []ACL{grpRead}) || !slices.Equal(res[1].Deleted, []ACL{read, grpRead}) || !errors.Is(res[2].Err, ErrInvalidRequest) {
		t.Fatalf("delete: %+v", res)
	}
	allowed := func(b *Broker) bool {
		return b.Authorize("User:bob", netip.MustParseAddr("10.0.0.1"), ACLOpWrite, topic, "orders")
	}
	if allowed(b) {
		t.Fatal("deny acl not applied")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openACLBroker(t, dir, cfg)
	defer b.Close()
	if got := b.DescribeACLs(anyFilter); !slices.Equal(got, []ACL{write}) {
		t.Fatalf("after restart: %v", got)
	}
	if allowed(b) {
		t.Fatal("deny acl not applied after restart")
	}
}

// TestACLSuperUsers: configured super users, administrator-tagged users,
// and never the anonymous principal through a user of that name.
func TestACLSuperUsers(t *testing.T) {
	ctx := context.Background()
	b := openACLBroker(t, t.TempDir(), ACLConfig{Enabled: true, SuperUsers: []string{"User:root"}})
	defer b.Close()
	if _, err := b.PutUser(ctx, "ANONYMOUS", "x", []string{"administrator"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PutUser(ctx, "plain", "x", nil); err != nil {
		t.Fatal(err)
	}
	// A DENY ALL for everyone: only super users get through.
	if errs := b.CreateACLs(ctx, []ACL{acl(topic, "*", lit, "User:*", "*", ACLOpAll, deny)}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	for p, want := range map[string]bool{
		"User:root": true, "User:guest": true, "User:plain": false, "User:nobody": false,
		AnonymousPrincipal: false, "Group:guest": false,
	} {
		if got := b.Authorize(p, netip.Addr{}, ACLOpRead, topic, "t"); got != want {
			t.Errorf("%s: allowed = %v, want %v", p, got, want)
		}
	}
	off := openACLBroker(t, t.TempDir(), ACLConfig{})
	defer off.Close()
	if !off.Authorize("User:nobody", netip.Addr{}, ACLOpDelete, cluster, ClusterResourceName) || off.Authorizer("User:nobody", netip.Addr{}).Enabled() {
		t.Fatal("authorization off must allow everything")
	}
}
