package broker

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/storage"
)

func openUsersBroker(t testing.TB, dir string) *Broker {
	t.Helper()
	b, err := Open(Config{
		DataDir: dir, NodeID: 1, LogDefaults: storage.DefaultConfig(), DefaultPartitions: 1,
		MaxMessageBytes: 1 << 20, Group: group.DefaultConfig(), DefaultUser: "guest", DefaultPass: "guest",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUsersPersistAndAuthenticate covers the user store's life: the
// default administrator on a fresh data directory, new users and their
// passwords, permissions, and all of it surviving a restart, while a
// deleted default user is not created again.
func TestUsersPersistAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := openUsersBroker(t, dir)
	if u, err := b.Authenticate("guest", "guest", netip.Addr{}); err != nil || !u.IsAdmin() {
		t.Fatalf("default user: %+v, %v", u, err)
	}
	if _, ok := b.PermissionOf("/", "guest"); !ok {
		t.Fatal("default user has no permissions on /")
	}
	if _, err := b.Authenticate("guest", "wrong", netip.Addr{}); !errors.Is(err, ErrAuthentication) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := b.PutUser(ctx, "alice", "", nil); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("new user without a password: %v", err)
	}
	created, err := b.PutUser(ctx, "alice", "s3cret", []string{"monitoring", " ", "monitoring"})
	if err != nil || !created {
		t.Fatalf("create alice: %v, %v", created, err)
	}
	// A tags-only update keeps the password.
	if created, err := b.PutUser(ctx, "alice", "", []string{"management"}); err != nil || created {
		t.Fatalf("update alice: %v, %v", created, err)
	}
	if _, err := b.SetPermission(ctx, Permission{User: "alice", VHost: "/", Configure: "^$", Write: ".*", Read: "("}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("bad regexp: %v", err)
	}
	if _, err := b.SetPermission(ctx, Permission{User: "alice", VHost: "nope", Configure: ".*", Write: ".*", Read: ".*"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown vhost: %v", err)
	}
	if _, err := b.SetPermission(ctx, Permission{User: "alice", VHost: "/", Configure: "^$", Write: ".*", Read: "^q"}); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteUser(ctx, "guest"); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b = openUsersBroker(t, dir)
	defer b.Close()
	u, err := b.Authenticate("alice", "s3cret", netip.Addr{})
	if err != nil || len(u.Tags) != 1 || u.Tags[0] != "management" || u.IsAdmin() {
		t.Fatalf("alice after restart: %+v, %v", u, err)
	}
	if p, ok := b.PermissionOf("/", "alice"); !ok || p.Read != "^q" || p.Configure != "^$" {
		t.Fatalf("alice's permissions after restart: %+v %v", p, ok)
	}
	if _, err := b.User("guest"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted default user came back: %v", err)
	}
	if got := b.Permissions(); len(got) != 1 {
		t.Fatalf("permissions: %+v", got)
	}
	if err := b.ClearPermission(ctx, "/", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := b.ClearPermission(ctx, "/", "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second clear: %v", err)
	}
}

// BenchmarkAuthenticate is the cost of one PLAIN login (an AMQP
// connection, an admin API request): a PBKDF2-SHA-256 derivation of
// scramIterations rounds.
func BenchmarkAuthenticate(b *testing.B) {
	br := openUsersBroker(b, b.TempDir())
	defer br.Close()
	for b.Loop() {
		if _, err := br.Authenticate("guest", "guest", netip.Addr{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLoopbackUsers: a loopback-only user logs in from loopback (IPv4,
// IPv6, IPv4-mapped) and is refused from elsewhere, after its password
// is checked, so a wrong password never learns the rule.
func TestLoopbackUsers(t *testing.T) {
	b, err := Open(Config{
		DataDir: t.TempDir(), NodeID: 1, LogDefaults: storage.DefaultConfig(), DefaultPartitions: 1,
		MaxMessageBytes: 1 << 20, Group: group.DefaultConfig(), DefaultUser: "guest", DefaultPass: "guest",
		LoopbackUsers: []string{"guest"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.PutUser(context.Background(), "app", "pw", nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user, pass, from string
		want             error
	}{
		{"guest", "guest", "127.0.0.1", nil},
		{"guest", "guest", "::1", nil},
		{"guest", "guest", "::ffff:127.0.0.1", nil},
		{"guest", "guest", "10.0.0.7", ErrAccessRefused},
		{"guest", "nope", "10.0.0.7", ErrAuthentication},
		{"app", "pw", "10.0.0.7", nil},
	} {
		_, err := b.Authenticate(tc.user, tc.pass, netip.MustParseAddr(tc.from))
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s/%s from %s: %v, want %v", tc.user, tc.pass, tc.from, err, tc.want)
		}
	}
}
