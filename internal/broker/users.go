package broker

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Users are stored as SCRAM credentials (RFC 5802), never as passwords:
// the same record later serves Kafka's SASL/SCRAM, and a PLAIN login
// (AMQP, HTTP basic auth) is checked by deriving the stored key again.
// Passwords set here get Kafka's minimum iteration count for SCRAM.
const scramIterations = ScramMinIterations

// Mechanisms whose credentials every user carries.
var scramMechanisms = []struct {
	name string
	h    func() hash.Hash
}{
	{"SCRAM-SHA-256", sha256.New},
	{"SCRAM-SHA-512", sha512.New},
}

// ScramCredential is one mechanism's salted credential.
type ScramCredential struct {
	Salt       []byte `json:"salt"`
	Iterations int    `json:"iterations"`
	StoredKey  []byte `json:"stored_key"`
	ServerKey  []byte `json:"server_key"`
}

// userRecord is a user as the catalog stores it.
type userRecord struct {
	Name  string                     `json:"name"`
	Tags  []string                   `json:"tags,omitempty"`
	Scram map[string]ScramCredential `json:"scram"`
}

// UserInfo describes a user to the admin API.
type UserInfo struct {
	Name string
	Tags []string
}

// IsAdmin reports whether the user has the administrator tag, which the
// admin API requires (as RabbitMQ's management API does).
func (u UserInfo) IsAdmin() bool { return slices.Contains(u.Tags, "administrator") }

// Permission is what a user may do in a virtual host: three regular
// expressions over resource names, as RabbitMQ's configure/write/read.
type Permission struct {
	User, VHost            string
	Configure, Write, Read string
}

// users is the broker's user and permission store.
type users struct {
	mu     sync.RWMutex
	byName map[string]userRecord
	perms  map[permKey]*grant
	// grants is an immutable copy of perms, replaced after every change
	// (publishGrants): permission checks, one per AMQP operation, read
	// it without taking mu.
	grants atomic.Pointer[map[permKey]*grant]
	// admins names the users tagged administrator, published with
	// grants: Kafka's authorizer asks on every request whether the
	// principal is a super user, and must not wait on mu while a user
	// change is being written to the catalog.
	admins atomic.Pointer[map[string]bool]
	// seen is true once the catalog held any user record: the default
	// user is created only on a data directory that never had one, so an
	// operator who deleted it does not get it back at the next start.
	seen bool
}

type permKey struct{ vhost, user string }

func newUsers() *users {
	u := &users{byName: map[string]userRecord{}, perms: map[permKey]*grant{}}
	u.publishGrants()
	return u
}

// publishGrants makes the current permissions and administrators visible
// to checks; call it with mu held for writing, after any change to perms
// or to the users.
func (u *users) publishGrants() {
	m := make(map[permKey]*grant, len(u.perms))
	for k, g := range u.perms {
		m[k] = g
	}
	u.grants.Store(&m)
	admins := map[string]bool{}
	for name, r := range u.byName {
		if slices.Contains(r.Tags, "administrator") {
			admins[name] = true
		}
	}
	u.admins.Store(&admins)
}

// grant returns user's compiled permissions in vhost, or nil.
func (u *users) grant(vhost, user string) *grant {
	return (*u.grants.Load())[permKey{vhost, user}]
}

// dropVHost forgets every permission in a deleted vhost.
func (u *users) dropVHost(vhost string) {
	for k := range u.perms {
		if k.vhost == vhost {
			delete(u.perms, k)
		}
	}
	u.publishGrants()
}

// replay applies one catalog record at start.
func (u *users) replay(r metaRecord) {
	u.seen = true
	switch r.Type {
	case metaUser:
		if r.User != nil {
			u.byName[r.User.Name] = *r.User
		}
	case metaUserDelete:
		delete(u.byName, r.Topic)
		for k := range u.perms {
			if k.user == r.Topic {
				delete(u.perms, k)
			}
		}
	case metaPermission:
		if r.Permission != nil {
			g, err := compileGrant(*r.Permission)
			if err != nil {
				// Set through SetPermission, so it compiled then; if a
				// newer Go refuses it, it grants nothing rather than all.
				g = &grant{Permission: *r.Permission}
				for i := range g.re {
					g.re[i] = denyAll
				}
			}
			u.perms[permKey{r.Permission.VHost, r.Permission.User}] = g
		}
	case metaPermissionDelete:
		delete(u.perms, permKey{r.VHost, r.Topic})
	}
}

// denyAll matches no name (no resource is called "" once the default
// exchange is checked as amq.default).
var denyAll = regexp.MustCompile(`^$`)

// seedDefaultUser creates the configured default user, an administrator
// with full permissions on "/", on a data directory that never had users.
func (b *Broker) seedDefaultUser(ctx context.Context) error {
	if b.users.seen || b.cfg.DefaultUser == "" {
		return nil
	}
	if _, err := b.PutUser(ctx, b.cfg.DefaultUser, b.cfg.DefaultPass, []string{"administrator"}); err != nil {
		return fmt.Errorf("create default user: %w", err)
	}
	_, err := b.SetPermission(ctx, Permission{User: b.cfg.DefaultUser, VHost: "/", Configure: ".*", Write: ".*", Read: ".*"})
	if err != nil {
		return fmt.Errorf("default user permissions: %w", err)
	}
	b.logger.Info("created the default user", "user", b.cfg.DefaultUser)
	return nil
}

func newScram(password string) (map[string]ScramCredential, error) {
	out := make(map[string]ScramCredential, len(scramMechanisms))
	for _, m := range scramMechanisms {
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return nil, fmt.Errorf("salt: %w", err)
		}
		stored, server, err := scramKeys(m.h, password, salt, scramIterations)
		if err != nil {
			return nil, err
		}
		out[m.name] = ScramCredential{Salt: salt, Iterations: scramIterations, StoredKey: stored, ServerKey: server}
	}
	return out, nil
}

// scramKeys derives RFC 5802's StoredKey and ServerKey.
func scramKeys(h func() hash.Hash, password string, salt []byte, iter int) (stored, server []byte, err error) {
	salted, err := pbkdf2.Key(h, password, salt, iter, h().Size())
	if err != nil {
		return nil, nil, fmt.Errorf("pbkdf2: %w", err)
	}
	stored, server = keysFromSalted(h, salted)
	return stored, server, nil
}

func validateUserName(name string) error {
	if name == "" || len(name) > 255 || strings.ContainsAny(name, "\x00") {
		return fmt.Errorf("%w: user name must be 1-255 bytes without NUL", ErrInvalidRequest)
	}
	return nil
}

// PutUser creates a user or updates one. An empty password keeps an
// existing user's password (a tags-only update) and is refused for a new
// user. It reports whether the user was created.
func (b *Broker) PutUser(ctx context.Context, name, password string, tags []string) (bool, error) {
	if err := validateUserName(name); err != nil {
		return false, err
	}
	u := b.users
	u.mu.Lock()
	defer u.mu.Unlock()
	old, exists := u.byName[name]
	rec := userRecord{Name: name, Tags: normalizeTags(tags), Scram: old.Scram}
	if password != "" {
		s, err := newScram(password)
		if err != nil {
			return false, err
		}
		rec.Scram = s
	} else if !exists {
		return false, fmt.Errorf("%w: a new user needs a password", ErrInvalidRequest)
	}
	if err := b.meta.append(ctx, metaRecord{Type: metaUser, User: &rec}); err != nil {
		return false, err
	}
	u.byName[name] = rec
	u.seen = true
	u.publishGrants()
	return !exists, nil
}

func normalizeTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// DeleteUser removes a user and its permissions.
func (b *Broker) DeleteUser(ctx context.Context, name string) error {
	u := b.users
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.byName[name]; !ok {
		return fmt.Errorf("%w: user %q", ErrNotFound, name)
	}
	if err := b.meta.append(ctx, metaRecord{Type: metaUserDelete, Topic: name}); err != nil {
		return err
	}
	delete(u.byName, name)
	for k := range u.perms {
		if k.user == name {
			delete(u.perms, k)
		}
	}
	u.publishGrants()
	return nil
}

// Users lists every user, by name.
func (b *Broker) Users() []UserInfo {
	u := b.users
	u.mu.RLock()
	defer u.mu.RUnlock()
	out := make([]UserInfo, 0, len(u.byName))
	for _, r := range u.byName {
		out = append(out, UserInfo{Name: r.Name, Tags: slices.Clone(r.Tags)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// User describes one user.
func (b *Broker) User(name string) (UserInfo, error) {
	u := b.users
	u.mu.RLock()
	defer u.mu.RUnlock()
	r, ok := u.byName[name]
	if !ok {
		return UserInfo{}, fmt.Errorf("%w: user %q", ErrNotFound, name)
	}
	return UserInfo{Name: r.Name, Tags: slices.Clone(r.Tags)}, nil
}

// Authenticate checks a user name and plain password (AMQP PLAIN and
// AMQPLAIN, HTTP basic auth) from a client at remote (the zero Addr when
// unknown). A wrong name or password is ErrAuthentication, which does not
// say whether the user exists, as brokers do not; a loopback-only user
// from elsewhere is ErrAccessRefused. Every protocol logs in here, so the
// policy is the same on all of them.
func (b *Broker) Authenticate(name, password string, remote netip.Addr) (UserInfo, error) {
	return b.authenticate(name, password, remote, "PLAIN")
}

// AuthenticateMechanism is Authenticate naming the mechanism for the log.
func (b *Broker) AuthenticateMechanism(name, password string, remote netip.Addr, mechanism string) (UserInfo, error) {
	return b.authenticate(name, password, remote, mechanism)
}

func (b *Broker) authenticate(name, password string, remote netip.Addr, mechanism string) (UserInfo, error) {
	if err := b.logins.allow(remote, name, mechanism); err != nil {
		return UserInfo{}, err
	}
	u := b.users
	u.mu.RLock()
	r, ok := u.byName[name]
	u.mu.RUnlock()
	if err := checkPassword(r, ok, password); err != nil {
		err = fmt.Errorf("%w: user %q", ErrAuthentication, name)
		b.logins.failed(remote, name, mechanism, errors.New("wrong user name or password"))
		return UserInfo{}, err
	}
	if err := b.CheckLoopback(name, remote); err != nil {
		b.logins.failed(remote, name, mechanism, err)
		return UserInfo{}, err
	}
	return UserInfo{Name: r.Name, Tags: slices.Clone(r.Tags)}, nil
}

// AuthenticateExternal logs in a user who proved who they are outside
// the protocol (a verified TLS client certificate naming them): the user
// must exist, and the loopback and login-failure rules apply as to a
// password login.
func (b *Broker) AuthenticateExternal(name string, remote netip.Addr) (UserInfo, error) {
	if err := b.logins.allow(remote, name, "EXTERNAL"); err != nil {
		return UserInfo{}, err
	}
	u, err := b.User(name)
	if err != nil {
		b.logins.failed(remote, name, "EXTERNAL", errors.New("no such user"))
		return UserInfo{}, fmt.Errorf("%w: user %q", ErrAuthentication, name)
	}
	if err := b.CheckLoopback(name, remote); err != nil {
		b.logins.failed(remote, name, "EXTERNAL", err)
		return UserInfo{}, err
	}
	return u, nil
}

// checkPassword derives the stored key of any mechanism the user has a
// credential for (a user made through Kafka's AlterUserScramCredentials
// may have only one) and compares it in constant time. A user that does
// not exist (or has no credential) costs the same derivation, against a
// throwaway salt: answering at once would tell a guesser which user
// names exist.
func checkPassword(r userRecord, exists bool, password string) error {
	if exists {
		for _, m := range scramMechanisms {
			cred, ok := r.Scram[m.name]
			if !ok {
				continue
			}
			stored, _, err := scramKeys(m.h, password, cred.Salt, cred.Iterations)
			if err == nil && hmac.Equal(stored, cred.StoredKey) {
				return nil
			}
			return ErrAuthentication
		}
	}
	var salt [16]byte
	scramKeys(scramMechanisms[0].h, password, salt[:], scramIterations)
	return ErrAuthentication
}

// CheckLoopback refuses a loopback-only user (Config.LoopbackUsers) at a
// remote address that is not loopback, with ErrAccessRefused. Logins
// that check credentials themselves (SCRAM, client certificates) call it
// once the user is known.
func (b *Broker) CheckLoopback(name string, remote netip.Addr) error {
	if slices.Contains(b.cfg.LoopbackUsers, name) && !remote.Unmap().IsLoopback() {
		return fmt.Errorf("%w: user %q may only connect from localhost", ErrAccessRefused, name)
	}
	return nil
}

// SetPermission sets a user's permissions in a virtual host; it reports
// whether the entry is new.
func (b *Broker) SetPermission(ctx context.Context, p Permission) (bool, error) {
	g, err := compileGrant(p)
	if err != nil {
		return false, err
	}
	u := b.users
	u.mu.Lock()
	defer u.mu.Unlock()
	// Under users.mu, which DeleteVHost holds while it logs the delete:
	// a permission is logged before its vhost's delete or not at all.
	if _, err := b.VHost(p.VHost); err != nil {
		return false, err
	}
	if _, ok := u.byName[p.User]; !ok {
		return false, fmt.Errorf("%w: user %q", ErrNotFound, p.User)
	}
	k := permKey{p.VHost, p.User}
	_, existed := u.perms[k]
	if err := b.meta.append(ctx, metaRecord{Type: metaPermission, Permission: &p}); err != nil {
		return false, err
	}
	u.perms[k] = g
	u.publishGrants()
	return !existed, nil
}

// ClearPermission removes a user's permissions in a virtual host.
func (b *Broker) ClearPermission(ctx context.Context, vhost, user string) error {
	u := b.users
	u.mu.Lock()
	defer u.mu.Unlock()
	k := permKey{vhost, user}
	if _, ok := u.perms[k]; !ok {
		return fmt.Errorf("%w: no permissions for user %q in vhost %q", ErrNotFound, user, vhost)
	}
	if err := b.meta.append(ctx, metaRecord{Type: metaPermissionDelete, VHost: vhost, Topic: user}); err != nil {
		return err
	}
	delete(u.perms, k)
	u.publishGrants()
	return nil
}

// Permissions lists every permission entry, by vhost then user.
func (b *Broker) Permissions() []Permission {
	u := b.users
	u.mu.RLock()
	defer u.mu.RUnlock()
	out := make([]Permission, 0, len(u.perms))
	for _, g := range u.perms {
		out = append(out, g.Permission)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].VHost != out[j].VHost {
			return out[i].VHost < out[j].VHost
		}
		return out[i].User < out[j].User
	})
	return out
}

// PermissionOf returns a user's permissions in a virtual host.
func (b *Broker) PermissionOf(vhost, user string) (Permission, bool) {
	u := b.users
	u.mu.RLock()
	defer u.mu.RUnlock()
	g, ok := u.perms[permKey{vhost, user}]
	if !ok {
		return Permission{}, false
	}
	return g.Permission, true
}
