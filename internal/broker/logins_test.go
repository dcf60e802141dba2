package broker

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/storage"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLoginFailuresAreLimited: past the per-minute limit an address is
// refused even with the right password, other addresses are not, the
// next minute lets it in again, and the log names user and address but
// never the password tried.
func TestLoginFailuresAreLimited(t *testing.T) {
	var logs lockedBuffer
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	b, err := Open(Config{
		DataDir: t.TempDir(), NodeID: 1, LogDefaults: storage.DefaultConfig(), DefaultPartitions: 1,
		MaxMessageBytes: 1 << 20, Group: group.DefaultConfig(), DefaultUser: "guest", DefaultPass: "guest",
		LoginFailuresPerMinute: 3, Now: clock, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	guesser := netip.MustParseAddr("127.0.0.2")
	other := netip.MustParseAddr("::1")
	for i := range 3 {
		if _, err := b.Authenticate("guest", "hunter2", guesser); !errors.Is(err, ErrAuthentication) || strings.Contains(err.Error(), "too many") {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := b.Authenticate("guest", "guest", guesser); err == nil || !strings.Contains(err.Error(), "too many failed logins") {
		t.Fatalf("right password past the limit: %v", err)
	}
	// IPv4-mapped is the same address.
	if _, err := b.Authenticate("guest", "guest", netip.AddrFrom16(guesser.As16())); err == nil {
		t.Fatal("the IPv4-mapped form of a blocked address got in")
	}
	if _, err := b.Authenticate("guest", "guest", other); err != nil {
		t.Fatalf("another address: %v", err)
	}
	if err := b.LoginAllowed(guesser, "guest", "SCRAM-SHA-256"); !errors.Is(err, ErrAuthentication) {
		t.Fatalf("LoginAllowed past the limit: %v", err)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if _, err := b.Authenticate("guest", "guest", guesser); err != nil {
		t.Fatalf("next minute: %v", err)
	}
	out := logs.String()
	if strings.Contains(out, "hunter2") {
		t.Fatalf("a password reached the log:\n%s", out)
	}
	if strings.Count(out, "login failed") != 3 || strings.Count(out, "too many failed logins") != 1 || !strings.Contains(out, "remote=127.0.0.2") {
		t.Fatalf("log:\n%s", out)
	}
}

func TestConnectedLimitsPerUser(t *testing.T) {
	b := openUsersBroker(t, t.TempDir())
	t.Cleanup(func() { b.Close() })
	b.conns.limit = 2
	r1, err := b.Connected("alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Connected("alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Connected("alice"); !errors.Is(err, ErrLimitReached) {
		t.Fatalf("third connection: %v", err)
	}
	if _, err := b.Connected("bob"); err != nil {
		t.Fatalf("another user: %v", err)
	}
	r1()
	r1() // releasing twice frees one slot only
	if _, err := b.Connected("alice"); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if _, err := b.Connected("alice"); !errors.Is(err, ErrLimitReached) {
		t.Fatalf("double release freed two slots: %v", err)
	}
}

// TestUnknownUserCostsALogin: a login for a user that does not exist
// takes as long as a wrong password for one that does, so timing does
// not tell a guesser which names exist.
func TestUnknownUserCostsALogin(t *testing.T) {
	b := openUsersBroker(t, t.TempDir())
	t.Cleanup(func() { b.Close() })
	median := func(user string) time.Duration {
		var ds []time.Duration
		for range 9 {
			start := time.Now()
			if _, err := b.Authenticate(user, "wrong", netip.Addr{}); err == nil {
				t.Fatal("logged in")
			}
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	known, unknown := median("guest"), median("nobody")
	// A PBKDF2 of 4096 rounds is hundreds of microseconds; answering at
	// once is under ten. Half the known cost leaves room for noise.
	if unknown < known/2 {
		t.Fatalf("unknown user answered in %v, a wrong password in %v", unknown, known)
	}
}

// TestLoginGuardKeys: an IPv6 client is counted per /64 (it owns the
// whole prefix), successful logins take no room, and a flood of failures
// from more addresses than the guard remembers does not free a blocked
// address.
func TestLoginGuardKeys(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	g := &loginGuard{limit: 2, now: func() time.Time { return now }, logger: slog.New(slog.DiscardHandler), byAddr: map[netip.Addr]*loginWindow{}}
	a1, a2 := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::ffff:2")
	g.failed(a1, "u", "PLAIN", ErrAuthentication)
	g.failed(a2, "u", "PLAIN", ErrAuthentication)
	if err := g.allow(netip.MustParseAddr("2001:db8::3"), "u", "PLAIN"); !errors.Is(err, ErrLoginThrottled) {
		t.Fatalf("same /64: %v", err)
	}
	if err := g.allow(netip.MustParseAddr("2001:db8:0:1::1"), "u", "PLAIN"); err != nil {
		t.Fatalf("another /64: %v", err)
	}
	if len(g.byAddr) != 1 {
		t.Fatalf("allow took room: %d windows", len(g.byAddr))
	}
	for i := range loginGuardMax + 100 {
		g.failed(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), "u", "PLAIN", ErrAuthentication)
	}
	if len(g.byAddr) > loginGuardMax {
		t.Fatalf("%d windows remembered", len(g.byAddr))
	}
	if err := g.allow(a1, "u", "PLAIN"); !errors.Is(err, ErrLoginThrottled) {
		t.Fatalf("the blocked /64 was forgotten in the flood: %v", err)
	}
}
