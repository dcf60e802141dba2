package broker

import (
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// loginGuard slows down password guessing: an address that failed more
// than the limit in the current minute has its further attempts refused
// unchecked until the minute ends, so a guesser gets a handful of tries a
// minute and the broker spends no PBKDF2 rounds on the rest. Every
// protocol's logins pass here, so the limit is shared across them.
type loginGuard struct {
	limit  int // failures per minute per address; 0 unlimited
	now    func() time.Time
	logger interface {
		Warn(msg string, args ...any)
	}

	mu     sync.Mutex
	byAddr map[netip.Addr]*loginWindow
}

type loginWindow struct {
	start    time.Time
	failures int
	logged   bool // the refusal was logged in this window
}

// loginGuardMax bounds the addresses remembered: a scan from many
// addresses cannot grow the map without limit. Past it, room is made
// without forgetting a blocked address, so a flood of new addresses
// cannot wipe out the count of one that is guessing.
const loginGuardMax = 10_000

// loginKey is the address a limit applies to: an IPv6 client controls a
// whole /64, so that is what it is counted as.
func loginKey(addr netip.Addr) netip.Addr {
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.Addr()
	}
	return addr
}

// current is addr's window if it is under a minute old, else nil.
func (g *loginGuard) current(addr netip.Addr, now time.Time) *loginWindow {
	if w := g.byAddr[addr]; w != nil && now.Sub(w.start) < time.Minute {
		return w
	}
	return nil
}

// open starts (or restarts) addr's window; only failures do, so
// successful logins never take room.
func (g *loginGuard) open(addr netip.Addr, now time.Time) *loginWindow {
	if w := g.current(addr, now); w != nil {
		return w
	}
	if len(g.byAddr) >= loginGuardMax {
		// Make room: stale windows go first, then one still under the
		// limit, and only if every address is blocked, the oldest.
		var victim, oldest netip.Addr
		var oldestStart time.Time
		for a, w := range g.byAddr {
			switch {
			case now.Sub(w.start) >= time.Minute:
				delete(g.byAddr, a)
			case w.failures < g.limit:
				victim = a
			case oldestStart.IsZero() || w.start.Before(oldestStart):
				oldest, oldestStart = a, w.start
			}
		}
		if len(g.byAddr) >= loginGuardMax {
			if !victim.IsValid() {
				victim = oldest
			}
			delete(g.byAddr, victim)
		}
	}
	w := &loginWindow{start: now}
	g.byAddr[addr] = w
	return w
}

// allow reports whether addr may try to log in now.
func (g *loginGuard) allow(addr netip.Addr, user, mechanism string) error {
	if g.limit <= 0 {
		return nil
	}
	key := loginKey(addr)
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.current(key, now)
	if w == nil || w.failures < g.limit {
		return nil
	}
	if !w.logged {
		w.logged = true
		g.logger.Warn("too many failed logins; refusing this address's logins for the rest of the minute",
			"remote", addr.Unmap().String(), "failures", w.failures, "user", user, "mechanism", mechanism)
	}
	return fmt.Errorf("%w: %w from %s; try again in %s", ErrAuthentication, ErrLoginThrottled, addr.Unmap(), (time.Minute - now.Sub(w.start)).Round(time.Second))
}

// failed counts and logs a failed login. The log names who and from
// where, never what was sent.
func (g *loginGuard) failed(addr netip.Addr, user, mechanism string, reason error) {
	addr = addr.Unmap()
	g.logger.Warn("login failed", "remote", addr.String(), "user", user, "mechanism", mechanism, "reason", reason)
	if g.limit <= 0 {
		return
	}
	g.mu.Lock()
	g.open(loginKey(addr), g.now()).failures++
	g.mu.Unlock()
}

// LoginAllowed reports whether a client at remote may attempt a login:
// ErrAuthentication once its address failed too often this minute.
// Callers that verify credentials themselves (SASL/SCRAM) ask first and
// report the outcome with LoginFailed.
func (b *Broker) LoginAllowed(remote netip.Addr, user, mechanism string) error {
	return b.logins.allow(remote, user, mechanism)
}

// LoginFailed records and logs a failed login.
func (b *Broker) LoginFailed(remote netip.Addr, user, mechanism string, reason error) {
	b.logins.failed(remote, user, mechanism, reason)
}

// connCounts caps each user's open connections.
type connCounts struct {
	limit  int // per user; 0 unlimited
	mu     sync.Mutex
	byUser map[string]int
}

// Connected registers an open connection of user, refused with
// ErrLimitReached past the per-user limit; call release when the
// connection closes.
func (b *Broker) Connected(user string) (release func(), err error) {
	c := &b.conns
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.limit > 0 && c.byUser[user] >= c.limit {
		return nil, fmt.Errorf("%w: user %q already has %d connections (max.connections.per.user)", ErrLimitReached, user, c.limit)
	}
	if c.byUser == nil {
		c.byUser = map[string]int{}
	}
	c.byUser[user]++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.byUser[user]--; c.byUser[user] <= 0 {
				delete(c.byUser, user)
			}
		})
	}, nil
}
