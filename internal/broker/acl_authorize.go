package broker

import (
	"net/netip"
	"slices"
	"strings"
)

// aclSnapshot is the ACLs at one moment, indexed for authorization:
// immutable once published, so any number of requests read it at once.
type aclSnapshot struct {
	all    []ACL // sorted, for listings and deletes
	byType map[ACLResourceType]*aclIndex
}

// aclIndex holds one resource type's ACLs: literal names (including "*")
// looked up directly, prefixes by each distinct prefix length. A resource
// name of n bytes costs one map lookup per prefix length up to n.
type aclIndex struct {
	literal    map[string][]aclEntry
	prefixed   map[string][]aclEntry
	prefixLens []int // ascending
}

// aclEntry is the part of an ACL authorization compares, with the host
// parsed once.
type aclEntry struct {
	principal string
	anyHost   bool
	addr      netip.Addr // the host when it is an IP address; else invalid (never matches)
	op        ACLOperation
	allow     bool
}

func newACLSnapshot(set map[ACL]struct{}) *aclSnapshot {
	s := &aclSnapshot{all: sortedACLs(set), byType: map[ACLResourceType]*aclIndex{}}
	for _, a := range s.all {
		idx := s.byType[a.ResourceType]
		if idx == nil {
			idx = &aclIndex{literal: map[string][]aclEntry{}, prefixed: map[string][]aclEntry{}}
			s.byType[a.ResourceType] = idx
		}
		e := aclEntry{principal: a.Principal, anyHost: a.Host == WildcardHost, op: a.Operation, allow: a.Permission == ACLPermAllow}
		if addr, err := netip.ParseAddr(a.Host); err == nil {
			e.addr = addr.Unmap()
		}
		if a.PatternType == ACLPatternPrefixed {
			if _, ok := idx.prefixed[a.ResourceName]; !ok {
				idx.prefixLens = append(idx.prefixLens, len(a.ResourceName))
			}
			idx.prefixed[a.ResourceName] = append(idx.prefixed[a.ResourceName], e)
		} else {
			idx.literal[a.ResourceName] = append(idx.literal[a.ResourceName], e)
		}
	}
	for _, idx := range s.byType {
		slices.Sort(idx.prefixLens)
		idx.prefixLens = slices.Compact(idx.prefixLens)
	}
	return s
}

// Authorizer answers authorization questions for one principal connected
// from one address, against the ACLs as they were when it was made. A
// Kafka request takes one and asks it about each resource it touches.
// The topics of the stream queues of AMQP vhosts other than "/"
// (IsStreamTopic) are super users' alone, whether authorization is on or
// off; apart from them, the zero value allows everything (authorization
// off). It is a value: safe to copy and to use from several goroutines.
type Authorizer struct {
	on           bool
	super        bool
	allowIfNoACL bool
	principal    string
	host         netip.Addr
	snap         *aclSnapshot
	// b looks up super users when authorization is off, which only a
	// stream topic needs.
	b *Broker
}

// Authorizer returns the authorizer for principal ("User:alice") at host
// (the client's IP address; the zero Addr when unknown, which only "*"
// ACLs match). With authorization off it allows everything but stream
// topics at no cost.
func (b *Broker) Authorizer(principal string, host netip.Addr) Authorizer {
	if !b.cfg.ACL.Enabled {
		return Authorizer{principal: principal, b: b}
	}
	a := Authorizer{on: true, allowIfNoACL: b.cfg.ACL.AllowIfNoACL, principal: principal, host: host.Unmap()}
	if a.super = b.isSuperUser(principal); !a.super {
		a.snap = b.acls.load()
	}
	return a
}

// Authorize is a one-off Authorizer(principal, host).Allowed(op, rt, name).
func (b *Broker) Authorize(principal string, host netip.Addr, op ACLOperation, rt ACLResourceType, name string) bool {
	return b.Authorizer(principal, host).Allowed(op, rt, name)
}

// IsSuperUser reports whether principal may do anything: a configured
// super user, or an administrator-tagged user ("User:<name>"). It holds
// whether or not Kafka authorization is on.
func (b *Broker) IsSuperUser(principal string) bool { return b.isSuperUser(principal) }

// isSuperUser: a configured super user, or the administrator-tagged user
// the principal names. The anonymous principal is never a user's: a user
// called ANONYMOUS does not make unauthenticated clients super users.
func (b *Broker) isSuperUser(principal string) bool {
	if slices.Contains(b.cfg.ACL.SuperUsers, principal) {
		return true
	}
	name, ok := strings.CutPrefix(principal, "User:")
	if !ok || principal == AnonymousPrincipal {
		return false
	}
	return (*b.users.admins.Load())[name]
}

// Enabled reports whether authorization is on; off, Allowed is true but
// for stream topics.
func (a Authorizer) Enabled() bool { return a.on }

// superUser reports whether the principal is a super user.
func (a Authorizer) superUser() bool {
	if a.on {
		return a.super
	}
	return a.b != nil && a.b.isSuperUser(a.principal)
}

// Allowed reports whether the principal may perform op on the resource of
// type rt named name, as Kafka's StandardAuthorizer decides: super users
// may do anything; otherwise a matching DENY wins over any ALLOW; an
// ALLOW for ALL, for op itself or (for DESCRIBE) READ, WRITE, DELETE or
// ALTER, or (for DESCRIBE_CONFIGS) ALTER_CONFIGS grants it; and when no
// ACL at all names the resource, the answer is allow.everyone.if.no.acl.found.
// ACLs apply by literal name, the literal "*", or a prefix of name; by
// principal or "User:*"; by host or "*". A stream topic (IsStreamTopic)
// is allowed to super users only, whatever the ACLs say: it belongs to
// an AMQP vhost, whose permissions are not Kafka's.
func (a Authorizer) Allowed(op ACLOperation, rt ACLResourceType, name string) bool {
	if rt == ACLResourceTopic && IsStreamTopic(name) {
		return a.superUser()
	}
	if !a.on || a.super {
		return true
	}
	idx := a.snap.byType[rt]
	if idx == nil {
		return a.allowIfNoACL
	}
	var m aclMatch
	if m.check(idx.literal[name], a, op) {
		return false
	}
	for _, n := range idx.prefixLens {
		if n > len(name) {
			break
		}
		if m.check(idx.prefixed[name[:n]], a, op) {
			return false
		}
	}
	if name != WildcardResource && m.check(idx.literal[WildcardResource], a, op) {
		return false
	}
	switch {
	case m.allowed:
		return true
	case m.found:
		return false
	default:
		return a.allowIfNoACL
	}
}

// aclMatch accumulates what the ACLs naming one resource say.
type aclMatch struct {
	found   bool // some ACL names the resource, whoever it is for
	allowed bool
}

// check folds entries in and reports a matching DENY.
func (m *aclMatch) check(es []aclEntry, a Authorizer, op ACLOperation) (denied bool) {
	for i := range es {
		e := &es[i]
		m.found = true
		if !e.applies(a, op) {
			continue
		}
		if !e.allow {
			return true
		}
		m.allowed = true
	}
	return false
}

// applies reports whether the entry is about this principal, host and
// operation. Implied operations come from ALLOW entries only: DENY READ
// does not deny DESCRIBE.
func (e *aclEntry) applies(a Authorizer, op ACLOperation) bool {
	if e.principal != a.principal && e.principal != WildcardPrincipal {
		return false
	}
	if !e.anyHost && (!e.addr.IsValid() || e.addr != a.host) {
		return false
	}
	if e.op == ACLOpAll || e.op == op {
		return true
	}
	if !e.allow {
		return false
	}
	switch op {
	case ACLOpDescribe:
		return e.op == ACLOpRead || e.op == ACLOpWrite || e.op == ACLOpDelete || e.op == ACLOpAlter
	case ACLOpDescribeConfigs:
		return e.op == ACLOpAlterConfigs
	}
	return false
}

// AllowedAny reports whether the principal may perform op on at least one
// resource of type rt, as Kafka's Authorizer.authorizeByResourceType
// (KIP-679: an idempotent producer needs IDEMPOTENT_WRITE on the cluster
// or WRITE on some topic). As there, the operation must be named exactly
// (or ALL), and an ALLOW counts unless a DENY covers all it allows: the
// literal "*", the same literal name, or a prefix of its name.
func (a Authorizer) AllowedAny(op ACLOperation, rt ACLResourceType) bool {
	// Kafka asks about a made-up name first, so super users and
	// allow.everyone.if.no.acl.found pass whatever DENY ACLs exist.
	if a.Allowed(op, rt, "hardcode") {
		return true
	}
	var denyLiteral, denyPrefix, allowLiteral, allowPrefix []string
	wildcardAllow := false
	for _, acl := range a.snap.all {
		if acl.ResourceType != rt || (acl.Operation != op && acl.Operation != ACLOpAll) {
			continue
		}
		if acl.Principal != a.principal && acl.Principal != WildcardPrincipal {
			continue
		}
		if acl.Host != WildcardHost {
			addr, err := netip.ParseAddr(acl.Host)
			if err != nil || addr.Unmap() != a.host {
				continue
			}
		}
		literal := acl.PatternType == ACLPatternLiteral
		switch {
		case acl.Permission == ACLPermDeny && literal && acl.ResourceName == WildcardResource:
			return false
		case acl.Permission == ACLPermDeny && literal:
			denyLiteral = append(denyLiteral, acl.ResourceName)
		case acl.Permission == ACLPermDeny:
			denyPrefix = append(denyPrefix, acl.ResourceName)
		case literal && acl.ResourceName == WildcardResource:
			wildcardAllow = true
		case literal:
			allowLiteral = append(allowLiteral, acl.ResourceName)
		default:
			allowPrefix = append(allowPrefix, acl.ResourceName)
		}
	}
	if wildcardAllow {
		return true
	}
	dominated := func(name string) bool {
		return slices.ContainsFunc(denyPrefix, func(p string) bool { return strings.HasPrefix(name, p) })
	}
	for _, n := range allowLiteral {
		if !slices.Contains(denyLiteral, n) && !dominated(n) {
			return true
		}
	}
	return slices.ContainsFunc(allowPrefix, func(n string) bool { return !dominated(n) })
}
