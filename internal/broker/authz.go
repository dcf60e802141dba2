package broker

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ternmq/tern/internal/broker/exchange"
)

// Authorization, as RabbitMQ defines it: a user holds, per virtual host,
// three regular expressions (configure, write, read) over the names of
// the vhost's queues and exchanges, and every operation on a resource
// needs one of the three on it. This file holds the policy — how a
// pattern matches and which permission each operation needs — so that
// every front end applies the same rules; the AMQP adapter only turns a
// refusal into 403 ACCESS_REFUSED.
//
// Matching is RabbitMQ's: the pattern is searched for anywhere in the
// name (re:run, unanchored), so "app" allows "myapp" and anchors are the
// pattern's own ("^app\\."); an empty pattern means "^$", which matches
// no resource (every queue and exchange has a name; the default exchange
// is checked as "amq.default"). Patterns are Go (RE2) regular
// expressions: RabbitMQ's PCRE lookarounds and backreferences are refused
// when a permission is set.

// Access is one of the three permissions a user holds on a resource.
type Access uint8

// The permissions, in RabbitMQ's order.
const (
	// AccessConfigure: declare and delete a queue or exchange.
	AccessConfigure Access = iota
	// AccessWrite: publish to an exchange, bind to a queue or exchange.
	AccessWrite
	// AccessRead: consume from or purge a queue, bind from an exchange.
	AccessRead
)

func (a Access) String() string {
	switch a {
	case AccessConfigure:
		return "configure"
	case AccessWrite:
		return "write"
	case AccessRead:
		return "read"
	}
	return fmt.Sprintf("access(%d)", uint8(a))
}

// Resource kinds named in permission checks and their refusals.
const (
	KindQueue    = "queue"
	KindExchange = "exchange"
)

// defaultExchangeResource is the name the default exchange "" is checked
// under, as in RabbitMQ.
const defaultExchangeResource = "amq.default"

// grant is a Permission with its patterns compiled once, when it is set
// or loaded; checks read it without locks (users.grants).
type grant struct {
	Permission
	// re is the compiled pattern per Access; nil means ".*", which
	// allows every name without running a regexp.
	re [3]*regexp.Regexp
}

// compileGrant compiles p's three patterns the way RabbitMQ reads them.
func compileGrant(p Permission) (*grant, error) {
	g := &grant{Permission: p}
	for i, pat := range [3]string{p.Configure, p.Write, p.Read} {
		switch pat {
		case ".*":
			continue
		case "":
			pat = "^$" // RabbitMQ's reading of an empty pattern
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, fmt.Errorf("%w: permission pattern %q: %w", ErrInvalidRequest, pat, err)
		}
		g.re[i] = re
	}
	return g, nil
}

func (g *grant) allows(a Access, name string) bool {
	re := g.re[a]
	return re == nil || re.MatchString(name)
}

// accessError is a refused operation. Its text is RabbitMQ's, so that
// an adapter can send it as it is; it matches ErrAccessRefused.
type accessError struct{ text string }

func (e *accessError) Error() string        { return e.text }
func (e *accessError) Is(target error) bool { return target == ErrAccessRefused }

// CheckAccess reports whether user holds access on the resource of kind
// (KindQueue or KindExchange) called name in vhost. It reads the
// permissions in force now, so a change applies to the next operation of
// a connected user. A refusal is an error matching ErrAccessRefused whose
// text is RabbitMQ's: "configure access to queue 'q' in vhost '/'
// refused for user 'bob'".
func (b *Broker) CheckAccess(user, vhost, kind, name string, access Access) error {
	if kind == KindExchange && name == "" {
		name = defaultExchangeResource
	}
	if g := b.users.grant(vhost, user); g != nil && g.allows(access, name) {
		return nil
	}
	return &accessError{fmt.Sprintf("%s access to %s '%s' in vhost '%s' refused for user '%s'", access, kind, name, vhost, user)}
}

// Principal is a user acting in one virtual host, as an AMQP connection
// does. Each method applies RabbitMQ's access-control table to one
// operation, before the operation itself runs; nil means go ahead. A
// Principal holds names only: permissions are read at each check.
type Principal struct {
	v    *VHost
	user string
}

// Principal returns user acting in the virtual host.
func (v *VHost) Principal(user string) Principal { return Principal{v: v, user: user} }

// User is the principal's user name.
func (p Principal) User() string { return p.user }

func (p Principal) check(kind, name string, access Access) error {
	return p.v.b.CheckAccess(p.user, p.v.name, kind, name, access)
}

// ExchangeDeclare is exchange.declare: configure on the exchange; a new
// one with an alternate-exchange also needs read on itself and write on
// the alternate. A passive declare needs nothing, and the default
// exchange is left to the declare to refuse with RabbitMQ's own words.
func (p Principal) ExchangeDeclare(name string, passive bool, args map[string]any) error {
	if passive || name == "" {
		return nil
	}
	if err := p.check(KindExchange, name, AccessConfigure); err != nil {
		return err
	}
	if ae, ok := exchange.AlternateExchange(args); ok && !p.v.hasExchange(name) {
		if err := p.check(KindExchange, name, AccessRead); err != nil {
			return err
		}
		return p.check(KindExchange, ae, AccessWrite)
	}
	return nil
}

// ExchangeDelete is exchange.delete: configure on the exchange. The
// default and amq.* exchanges are refused by the delete itself, before
// any permission check, as RabbitMQ orders it.
func (p Principal) ExchangeDelete(name string) error {
	if name == "" || strings.HasPrefix(name, "amq.") {
		return nil
	}
	return p.check(KindExchange, name, AccessConfigure)
}

// QueueDeclare is queue.declare: configure on the queue. It returns the
// name to declare: an empty name becomes a server name (amq.gen-…) here,
// because permissions apply to the name the queue will have. A new queue
// with a dead-letter exchange also needs read on itself and write on the
// exchange. A passive declare needs nothing; a new name with the reserved
// amq. prefix is refused (403) before permissions are looked at.
func (p Principal) QueueDeclare(name string, passive bool, args map[string]any) (string, error) {
	if passive {
		return name, nil
	}
	if name == "" {
		name = serverQueueName()
	}
	exists := p.v.hasQueue(name)
	if !exists {
		if err := reservedQueueName(name); err != nil {
			return "", err
		}
	}
	if err := p.check(KindQueue, name, AccessConfigure); err != nil {
		return "", err
	}
	if dlx, ok := args["x-dead-letter-exchange"].(string); ok && !exists {
		if err := p.check(KindQueue, name, AccessRead); err != nil {
			return "", err
		}
		if err := p.check(KindExchange, dlx, AccessWrite); err != nil {
			return "", err
		}
	}
	return name, nil
}

// QueueDelete is queue.delete: configure on the queue.
func (p Principal) QueueDelete(name string) error {
	return p.check(KindQueue, name, AccessConfigure)
}

// QueuePurge is queue.purge: read on the queue.
func (p Principal) QueuePurge(name string) error { return p.check(KindQueue, name, AccessRead) }

// Consume is basic.consume and basic.get: read on the queue.
func (p Principal) Consume(queue string) error { return p.check(KindQueue, queue, AccessRead) }

// Publish is basic.publish: write on the exchange ("" is checked as
// amq.default). Messages the broker moves by itself (dead-lettering,
// alternate exchanges) are not checked, as in RabbitMQ.
func (p Principal) Publish(exchange string) error {
	return p.check(KindExchange, exchange, AccessWrite)
}

// Bind is queue.bind/unbind (toQueue) and exchange.bind/unbind: write on
// the destination, then read on the source. A binding from or to the
// default exchange is left to the bind to refuse.
func (p Principal) Bind(dest string, toQueue bool, source string) error {
	kind := KindExchange
	if toQueue {
		kind = KindQueue
	}
	if err := p.check(kind, dest, AccessWrite); err != nil {
		return err
	}
	if source == "" || (!toQueue && dest == "") {
		return nil
	}
	return p.check(KindExchange, source, AccessRead)
}
