package broker

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// ACLs are Kafka's authorization model (KIP-11, prefixed patterns from
// KIP-290): an entry allows or denies a principal, from a host, one
// operation on the resources a pattern names. They are stored in the
// catalog (metaACLCreate/metaACLDelete records) and evaluated as Kafka's
// StandardAuthorizer does (acl_authorize.go). The enums use Kafka's wire
// codes, so the Kafka adapter converts by casting; the core still speaks
// no wire type.
//
// Lock order: aclStore.mu before metaLog.mu (a change is logged before it
// is published). Readers never lock: they load the current snapshot.

// ACLResourceType is what kind of resource an ACL names.
type ACLResourceType int8

// Resource types, with Kafka's codes. Unknown and Any appear only in
// filters; DelegationToken and User are stored but Tern never asks about
// them (no delegation tokens yet).
const (
	ACLResourceUnknown         ACLResourceType = 0
	ACLResourceAny             ACLResourceType = 1
	ACLResourceTopic           ACLResourceType = 2
	ACLResourceGroup           ACLResourceType = 3
	ACLResourceCluster         ACLResourceType = 4
	ACLResourceTransactionalID ACLResourceType = 5
	ACLResourceDelegationToken ACLResourceType = 6
	ACLResourceUser            ACLResourceType = 7
)

// ACLPatternType is how an ACL's resource name is read.
type ACLPatternType int8

// Pattern types, with Kafka's codes. An ACL is Literal (the name, or "*"
// for every name) or Prefixed (every name starting with it); filters may
// also say Any (either, the name compared exactly) or Match (the ACLs that
// would apply to a resource of that name).
const (
	ACLPatternUnknown  ACLPatternType = 0
	ACLPatternAny      ACLPatternType = 1
	ACLPatternMatch    ACLPatternType = 2
	ACLPatternLiteral  ACLPatternType = 3
	ACLPatternPrefixed ACLPatternType = 4
)

// ACLOperation is what an ACL allows or denies.
type ACLOperation int8

// Operations, with Kafka's codes. All matches every operation; Any appears
// only in filters.
const (
	ACLOpUnknown         ACLOperation = 0
	ACLOpAny             ACLOperation = 1
	ACLOpAll             ACLOperation = 2
	ACLOpRead            ACLOperation = 3
	ACLOpWrite           ACLOperation = 4
	ACLOpCreate          ACLOperation = 5
	ACLOpDelete          ACLOperation = 6
	ACLOpAlter           ACLOperation = 7
	ACLOpDescribe        ACLOperation = 8
	ACLOpClusterAction   ACLOperation = 9
	ACLOpDescribeConfigs ACLOperation = 10
	ACLOpAlterConfigs    ACLOperation = 11
	ACLOpIdempotentWrite ACLOperation = 12
	ACLOpCreateTokens    ACLOperation = 13
	ACLOpDescribeTokens  ACLOperation = 14
)

// ACLPermission is whether an ACL allows or denies.
type ACLPermission int8

// Permissions, with Kafka's codes; Any appears only in filters.
const (
	ACLPermUnknown ACLPermission = 0
	ACLPermAny     ACLPermission = 1
	ACLPermDeny    ACLPermission = 2
	ACLPermAllow   ACLPermission = 3
)

// Names with a meaning of their own.
const (
	// ClusterResourceName is the only name of the CLUSTER resource.
	ClusterResourceName = "kafka-cluster"
	// WildcardResource as a literal name matches every resource name.
	WildcardResource = "*"
	// WildcardPrincipal matches every principal ("User:*", whatever the
	// principal's type, as in Kafka).
	WildcardPrincipal = "User:*"
	// WildcardHost matches every client address.
	WildcardHost = "*"
	// AnonymousPrincipal is who an unauthenticated client is.
	AnonymousPrincipal = "User:ANONYMOUS"
)

var (
	resourceTypeNames = []string{"UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"}
	patternTypeNames  = []string{"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"}
	operationNames    = []string{"UNKNOWN", "ANY", "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
		"CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "CREATE_TOKENS", "DESCRIBE_TOKENS"}
	permissionNames = []string{"UNKNOWN", "ANY", "DENY", "ALLOW"}
)

// enumName is Kafka's name for a code; a code Kafka does not define reads
// as UNKNOWN, as its fromCode does.
func enumName(names []string, code int8) string {
	if code < 0 || int(code) >= len(names) {
		return names[0]
	}
	return names[code]
}

func (t ACLResourceType) String() string { return enumName(resourceTypeNames, int8(t)) }
func (t ACLPatternType) String() string  { return enumName(patternTypeNames, int8(t)) }
func (o ACLOperation) String() string    { return enumName(operationNames, int8(o)) }
func (p ACLPermission) String() string   { return enumName(permissionNames, int8(p)) }

// Normalizing maps codes Kafka does not define to Unknown, as Kafka's
// fromCode does when it reads a request: code 99 behaves as code 0.
func (t ACLResourceType) normal() ACLResourceType {
	return ACLResourceType(normalCode(int8(t), len(resourceTypeNames)))
}
func (t ACLPatternType) normal() ACLPatternType {
	return ACLPatternType(normalCode(int8(t), len(patternTypeNames)))
}
func (o ACLOperation) normal() ACLOperation {
	return ACLOperation(normalCode(int8(o), len(operationNames)))
}
func (p ACLPermission) normal() ACLPermission {
	return ACLPermission(normalCode(int8(p), len(permissionNames)))
}

func normalCode(c int8, n int) int8 {
	if c < 0 || int(c) >= n {
		return 0
	}
	return c
}

// ACL is one access-control entry, as the catalog stores it.
type ACL struct {
	ResourceType ACLResourceType `json:"resource_type"`
	ResourceName string          `json:"resource_name"`
	PatternType  ACLPatternType  `json:"pattern_type"`
	// Principal is "Type:name", e.g. "User:alice", or "User:*".
	Principal string `json:"principal"`
	// Host is a client IP address, or "*".
	Host       string        `json:"host"`
	Operation  ACLOperation  `json:"operation"`
	Permission ACLPermission `json:"permission"`
}

// validate refuses what Kafka refuses on CreateAcls, in its order and
// with its messages (AclApis, then AclControlManager.validateNewAcl).
// Hosts are not checked: Kafka stores any host text, and one that is not
// an IP address or "*" simply never matches.
func (a ACL) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRequest}, args...)...)
	}
	switch {
	case a.ResourceType == ACLResourceCluster && a.ResourceName != ClusterResourceName:
		return bad("The only valid name for the CLUSTER resource is %s", ClusterResourceName)
	case a.ResourceName == "":
		return bad("Invalid empty resource name")
	}
	switch a.ResourceType.normal() {
	case ACLResourceUnknown, ACLResourceAny:
		return bad("Invalid resourceType %s", a.ResourceType)
	}
	switch a.PatternType {
	case ACLPatternLiteral, ACLPatternPrefixed:
	default:
		return bad("Invalid patternType %s", a.PatternType)
	}
	switch a.Operation.normal() {
	case ACLOpUnknown, ACLOpAny:
		return bad("Invalid operation %s", a.Operation)
	}
	switch a.Permission {
	case ACLPermAllow, ACLPermDeny:
	default:
		return bad("Invalid permissionType %s", a.Permission)
	}
	if !strings.Contains(a.Principal, ":") {
		return bad("Could not parse principal from `%s` (no colon is present separating the principal type from the principal name)", a.Principal)
	}
	return nil
}

// ACLFilter selects ACLs, as Kafka's AclBindingFilter: Any (or a nil
// string) matches every value of a field; strings otherwise match
// exactly, wildcards included ("User:*" finds the ACLs for "User:*").
type ACLFilter struct {
	ResourceType ACLResourceType
	ResourceName *string
	PatternType  ACLPatternType
	Principal    *string
	Host         *string
	Operation    ACLOperation
	Permission   ACLPermission
}

// normal maps undefined codes to Unknown, as Kafka reads them.
func (f ACLFilter) normal() ACLFilter {
	f.ResourceType, f.PatternType = f.ResourceType.normal(), f.PatternType.normal()
	f.Operation, f.Permission = f.Operation.normal(), f.Permission.normal()
	return f
}

// unknown reports a filter Kafka refuses to delete with (validateFilter).
func (f ACLFilter) unknown() bool {
	f = f.normal()
	return f.ResourceType == ACLResourceUnknown || f.PatternType == ACLPatternUnknown ||
		f.Operation == ACLOpUnknown || f.Permission == ACLPermUnknown
}

// Matches reports whether a is selected by f (Kafka's
// ResourcePatternFilter.matches and AccessControlEntryFilter.matches). A
// Match filter with a name selects the ACLs that apply to a resource of
// that name: the literal name, the literal "*", and prefixes of it.
func (f ACLFilter) Matches(a ACL) bool {
	f = f.normal()
	if f.ResourceType != ACLResourceAny && f.ResourceType != a.ResourceType {
		return false
	}
	if f.PatternType != ACLPatternAny && f.PatternType != ACLPatternMatch && f.PatternType != a.PatternType {
		return false
	}
	if f.ResourceName != nil {
		name := *f.ResourceName
		switch {
		case f.PatternType == ACLPatternAny || f.PatternType == a.PatternType:
			if name != a.ResourceName {
				return false
			}
		case a.PatternType == ACLPatternLiteral:
			if name != a.ResourceName && a.ResourceName != WildcardResource {
				return false
			}
		case a.PatternType == ACLPatternPrefixed:
			if !strings.HasPrefix(name, a.ResourceName) {
				return false
			}
		default:
			return false
		}
	}
	if f.Principal != nil && *f.Principal != a.Principal {
		return false
	}
	if f.Host != nil && *f.Host != a.Host {
		return false
	}
	if f.Operation != ACLOpAny && f.Operation != a.Operation {
		return false
	}
	return f.Permission == ACLPermAny || f.Permission == a.Permission
}

// ACLConfig turns authorization on and sets its policy.
type ACLConfig struct {
	// Enabled makes every Kafka request pass the ACLs (Kafka's
	// authorizer.class.name set to StandardAuthorizer). Off, everything
	// is allowed and the ACL APIs answer SECURITY_DISABLED.
	Enabled bool
	// SuperUsers are principals ("User:admin") allowed everything
	// (super.users). Users whose tags include "administrator" are super
	// users too, under "User:<name>".
	SuperUsers []string
	// AllowIfNoACL allows an action on a resource no ACL names at all
	// (allow.everyone.if.no.acl.found); otherwise it is denied.
	AllowIfNoACL bool
}

// aclStore holds the ACLs: a set changed under mu, and an immutable
// snapshot of it that authorization reads without locking. The zero value
// is an empty store.
type aclStore struct {
	mu   sync.Mutex
	set  map[ACL]struct{}
	snap atomic.Pointer[aclSnapshot] // set by publish once the catalog is loaded
}

// replay applies one catalog record at start.
func (s *aclStore) replay(r metaRecord) {
	if s.set == nil {
		s.set = map[ACL]struct{}{}
	}
	for _, a := range r.ACLs {
		switch r.Type {
		case metaACLCreate:
			s.set[a] = struct{}{}
		case metaACLDelete:
			delete(s.set, a)
		}
	}
}

// publish builds the first snapshot, once replay is over (Open); every
// later change replaces it under mu.
func (s *aclStore) publish() { s.snap.Store(newACLSnapshot(s.set)) }

// load returns the current snapshot.
func (s *aclStore) load() *aclSnapshot { return s.snap.Load() }

// CreateACLs adds ACLs and returns one error per ACL: nil when it was
// created or already existed, ErrInvalidRequest (with Kafka's message)
// when Kafka would refuse it. The new ACLs are logged to the catalog as
// one record before any takes effect.
func (b *Broker) CreateACLs(ctx context.Context, acls []ACL) []error {
	errs := make([]error, len(acls))
	s := &b.acls
	s.mu.Lock()
	defer s.mu.Unlock()
	var added []ACL
	var addedAt []int
	seen := map[ACL]bool{}
	for i, a := range acls {
		if errs[i] = a.validate(); errs[i] != nil {
			continue
		}
		if _, exists := s.set[a]; exists || seen[a] {
			continue
		}
		seen[a] = true
		added = append(added, a)
		addedAt = append(addedAt, i)
	}
	if len(added) == 0 {
		return errs
	}
	if err := b.meta.append(ctx, metaRecord{Type: metaACLCreate, ACLs: added}); err != nil {
		for _, i := range addedAt {
			errs[i] = err
		}
		return errs
	}
	if s.set == nil {
		s.set = map[ACL]struct{}{}
	}
	for _, a := range added {
		s.set[a] = struct{}{}
	}
	s.snap.Store(newACLSnapshot(s.set))
	return errs
}

// DescribeACLs lists the ACLs f matches, sorted.
func (b *Broker) DescribeACLs(f ACLFilter) []ACL {
	var out []ACL
	for _, a := range b.acls.load().all {
		if f.Matches(a) {
			out = append(out, a)
		}
	}
	return out
}

// ACLDeleteResult is what one delete filter removed, or why it failed.
type ACLDeleteResult struct {
	Deleted []ACL
	Err     error
}

// DeleteACLs removes every ACL any filter matches, reporting per filter
// what it matched (an ACL two filters match is listed under both). A
// filter with an unknown field gets ErrInvalidRequest and removes
// nothing, as in Kafka. The removals are logged as one record.
func (b *Broker) DeleteACLs(ctx context.Context, filters []ACLFilter) []ACLDeleteResult {
	out := make([]ACLDeleteResult, len(filters))
	s := &b.acls
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.snap.Load()
	gone := map[ACL]bool{}
	var removed []ACL
	for i, f := range filters {
		if f.unknown() {
			out[i].Err = fmt.Errorf("%w: unknown resource type, pattern type, operation or permission in filter", ErrInvalidRequest)
			continue
		}
		for _, a := range cur.all {
			if f.Matches(a) {
				out[i].Deleted = append(out[i].Deleted, a)
				if !gone[a] {
					gone[a] = true
					removed = append(removed, a)
				}
			}
		}
	}
	if len(removed) == 0 {
		return out
	}
	if err := b.meta.append(ctx, metaRecord{Type: metaACLDelete, ACLs: removed}); err != nil {
		for i := range out {
			if out[i].Err == nil {
				out[i] = ACLDeleteResult{Err: err}
			}
		}
		return out
	}
	for _, a := range removed {
		delete(s.set, a)
	}
	s.snap.Store(newACLSnapshot(s.set))
	return out
}

// ACLsEnabled reports whether authorization is on.
func (b *Broker) ACLsEnabled() bool { return b.cfg.ACL.Enabled }

// compareACL orders ACLs for listings: by resource, then entry.
func compareACL(x, y ACL) int {
	return cmp.Or(
		cmp.Compare(x.ResourceType, y.ResourceType),
		cmp.Compare(x.ResourceName, y.ResourceName),
		cmp.Compare(x.PatternType, y.PatternType),
		cmp.Compare(x.Principal, y.Principal),
		cmp.Compare(x.Host, y.Host),
		cmp.Compare(x.Operation, y.Operation),
		cmp.Compare(x.Permission, y.Permission),
	)
}

func sortedACLs(set map[ACL]struct{}) []ACL {
	out := make([]ACL, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	slices.SortFunc(out, compareACL)
	return out
}
