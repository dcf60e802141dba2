package broker

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sort"
)

// SCRAM credentials as Kafka manages them (KIP-554): protocol adapters
// that run the SASL/SCRAM exchange themselves read a user's stored
// credential here, and Kafka's AlterUserScramCredentials writes
// credentials a client salted. The records are the user store's
// (users.go), so a user created this way exists for AMQP and the admin
// API too.

var (
	// ErrUnacceptableCredential is a SCRAM credential outside the accepted
	// bounds: an empty user name, too few or too many iterations.
	ErrUnacceptableCredential = errors.New("unacceptable credential")
	// ErrUnsupportedMechanism names a SASL mechanism the broker does not
	// know.
	ErrUnsupportedMechanism = errors.New("unsupported SASL mechanism")
	// ErrDuplicate is one resource named twice in a request that may
	// change each only once.
	ErrDuplicate = errors.New("duplicate resource")
)

// ScramMinIterations and ScramMaxIterations bound the iteration count of
// a SCRAM credential, as Kafka does (RFC 7677's minimum; Kafka's maximum).
const (
	ScramMinIterations = 4096
	ScramMaxIterations = 16384
)

// ScramMechanisms are the SCRAM mechanisms the user store keeps
// credentials for, in the order a PLAIN login tries them.
func ScramMechanisms() []string {
	out := make([]string, len(scramMechanisms))
	for i, m := range scramMechanisms {
		out[i] = m.name
	}
	return out
}

func scramHash(mechanism string) (func() hash.Hash, bool) {
	for _, m := range scramMechanisms {
		if m.name == mechanism {
			return m.h, true
		}
	}
	return nil, false
}

// keysFromSalted derives RFC 5802's StoredKey (H(HMAC(salted, "Client
// Key"))) and ServerKey (HMAC(salted, "Server Key")) from a salted
// password.
func keysFromSalted(h func() hash.Hash, salted []byte) (stored, server []byte) {
	mac := func(msg string) []byte {
		m := hmac.New(h, salted)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	ck := h()
	ck.Write(mac("Client Key"))
	return ck.Sum(nil), mac("Server Key")
}

// ScramCredential returns user's stored credential for mechanism
// ("SCRAM-SHA-256" or "SCRAM-SHA-512"); ok is false when the user does
// not exist or has no credential for it. The caller verifies the client's
// proof, and reports the outcome to LoginFailed and CheckLoopback as a
// PLAIN login does through Authenticate. The slices are the caller's.
func (b *Broker) ScramCredential(user, mechanism string) (cred ScramCredential, ok bool) {
	u := b.users
	u.mu.RLock()
	defer u.mu.RUnlock()
	c, ok := u.byName[user].Scram[mechanism]
	if !ok {
		return ScramCredential{}, false
	}
	return ScramCredential{
		Salt:       slices.Clone(c.Salt),
		Iterations: c.Iterations,
		StoredKey:  slices.Clone(c.StoredKey),
		ServerKey:  slices.Clone(c.ServerKey),
	}, true
}

// ScramCredentialInfo describes one credential without its secrets.
type ScramCredentialInfo struct {
	Mechanism  string
	Iterations int
}

// ScramCredentialInfos lists user's credentials, in ScramMechanisms
// order; nil when it has none (or does not exist).
func (b *Broker) ScramCredentialInfos(user string) []ScramCredentialInfo {
	u := b.users
	u.mu.RLock()
	defer u.mu.RUnlock()
	var out []ScramCredentialInfo
	for _, m := range scramMechanisms {
		if c, ok := u.byName[user].Scram[m.name]; ok {
			out = append(out, ScramCredentialInfo{Mechanism: m.name, Iterations: c.Iterations})
		}
	}
	return out
}

// ScramUsers lists the users that have at least one SCRAM credential, by
// name. A user whose credentials were all deleted still exists (for
// client-certificate logins and its permissions) but is not listed.
func (b *Broker) ScramUsers() []string {
	u := b.users
	u.mu.RLock()
	defer u.mu.RUnlock()
	var out []string
	for name, r := range u.byName {
		if len(r.Scram) > 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// ScramUpsertion sets one user's credential for one mechanism from a
// password the client salted: the broker keeps the salt and iteration
// count and derives StoredKey and ServerKey from SaltedPassword, which it
// does not keep.
type ScramUpsertion struct {
	User, Mechanism string
	Iterations      int
	Salt            []byte
	SaltedPassword  []byte
}

// ScramDeletion removes one user's credential for one mechanism.
type ScramDeletion struct {
	User, Mechanism string
}

// AlterScramCredentials applies deletions and upsertions, each naming a
// different user. Every change is validated first; the valid ones are
// written to the catalog in one batch, so they are applied together or
// not at all. The result maps each user to the error that refused its
// change, nil when applied: ErrUnacceptableCredential (empty or invalid
// name, iterations outside [ScramMinIterations, ScramMaxIterations]),
// ErrUnsupportedMechanism, ErrNotFound (deleting a credential that does
// not exist) or ErrDuplicate (a user named twice: both changes refused). The error return
// is a failure to write the catalog; then nothing changed.
//
// An upsertion for an unknown user creates it with no tags and no
// permissions; deleting a user's last credential leaves the user without
// a password.
func (b *Broker) AlterScramCredentials(ctx context.Context, dels []ScramDeletion, ups []ScramUpsertion) (map[string]error, error) {
	u := b.users
	u.mu.Lock()
	defer u.mu.Unlock()
	results := map[string]error{}
	changed := map[string]userRecord{}
	var order []string
	// claim reports whether user's change is the first for it; a second
	// refuses both (the first error stays if the first was refused).
	claim := func(user string) bool {
		prev, seen := results[user]
		if !seen {
			results[user] = nil
			return true
		}
		if prev == nil {
			results[user] = fmt.Errorf("%w: user %q's credentials are altered twice in one request", ErrDuplicate, user)
			delete(changed, user)
		}
		return false
	}
	record := func(user string) userRecord {
		r, ok := changed[user]
		if !ok {
			r = u.byName[user]
			r.Name = user
			r.Scram = cloneScram(r.Scram)
		}
		return r
	}
	for _, d := range dels {
		if !claim(d.User) {
			continue
		}
		if err := validateScramChange(d.User, d.Mechanism); err != nil {
			results[d.User] = err
			continue
		}
		r := record(d.User)
		if _, ok := r.Scram[d.Mechanism]; !ok {
			results[d.User] = fmt.Errorf("%w: user %q has no %s credential", ErrNotFound, d.User, d.Mechanism)
			continue
		}
		delete(r.Scram, d.Mechanism)
		changed[d.User] = r
		order = append(order, d.User)
	}
	for _, up := range ups {
		if !claim(up.User) {
			continue
		}
		if err := validateScramChange(up.User, up.Mechanism); err != nil {
			results[up.User] = err
			continue
		}
		switch {
		case up.Iterations < ScramMinIterations:
			results[up.User] = fmt.Errorf("%w: too few iterations (%d, at least %d)", ErrUnacceptableCredential, up.Iterations, ScramMinIterations)
			continue
		case up.Iterations > ScramMaxIterations:
			results[up.User] = fmt.Errorf("%w: too many iterations (%d, at most %d)", ErrUnacceptableCredential, up.Iterations, ScramMaxIterations)
			continue
		}
		h, _ := scramHash(up.Mechanism)
		stored, server := keysFromSalted(h, up.SaltedPassword)
		r := record(up.User)
		if r.Scram == nil {
			r.Scram = map[string]ScramCredential{}
		}
		r.Scram[up.Mechanism] = ScramCredential{Salt: slices.Clone(up.Salt), Iterations: up.Iterations, StoredKey: stored, ServerKey: server}
		changed[up.User] = r
		order = append(order, up.User)
	}
	var recs []metaRecord
	for _, name := range order {
		if r, ok := changed[name]; ok && results[name] == nil {
			recs = append(recs, metaRecord{Type: metaUser, User: &r})
		}
	}
	if len(recs) == 0 {
		return results, nil
	}
	if err := b.meta.append(ctx, recs...); err != nil {
		return nil, err
	}
	for _, rec := range recs {
		u.byName[rec.User.Name] = *rec.User
	}
	u.seen = true
	u.publishGrants()
	return results, nil
}

func validateScramChange(user, mechanism string) error {
	if err := validateUserName(user); err != nil {
		return fmt.Errorf("%w: user name must be 1-255 bytes without NUL", ErrUnacceptableCredential)
	}
	if _, ok := scramHash(mechanism); !ok {
		return fmt.Errorf("%w: %q is not a SCRAM mechanism (%v)", ErrUnsupportedMechanism, mechanism, ScramMechanisms())
	}
	return nil
}

func cloneScram(m map[string]ScramCredential) map[string]ScramCredential {
	out := make(map[string]ScramCredential, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
