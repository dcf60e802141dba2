package broker

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha512"
	"errors"
	"net/netip"
	"testing"
)

// TestAlterScramCredentials covers Kafka's credential changes on the user
// store: an upsertion from a client-salted password makes a user that
// logs in with that password (PLAIN derives the same keys), with no tags
// and no permissions, surviving a restart; bad changes are refused per
// user with the matching error while the good ones apply; a deletion
// leaves the user without that credential.
func TestAlterScramCredentials(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := openUsersBroker(t, dir)
	salt := []byte("0123456789abcdef")
	salted, err := pbkdf2.Key(sha512.New, "bob-secret", salt, 8192, sha512.Size)
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.AlterScramCredentials(ctx, []ScramDeletion{
		{User: "guest", Mechanism: "SCRAM-SHA-256"},
		{User: "nobody", Mechanism: "SCRAM-SHA-256"},
	}, []ScramUpsertion{
		{User: "twice", Mechanism: "SCRAM-SHA-256", Iterations: 4096, Salt: salt, SaltedPassword: salted},
		{User: "bob", Mechanism: "SCRAM-SHA-512", Iterations: 8192, Salt: salt, SaltedPassword: salted},
		{User: "twice", Mechanism: "SCRAM-SHA-512", Iterations: 4096, Salt: salt, SaltedPassword: salted},
		{User: "", Mechanism: "SCRAM-SHA-512", Iterations: 4096, Salt: salt, SaltedPassword: salted},
		{User: "few", Mechanism: "SCRAM-SHA-512", Iterations: ScramMinIterations - 1, Salt: salt, SaltedPassword: salted},
		{User: "many", Mechanism: "SCRAM-SHA-512", Iterations: ScramMaxIterations + 1, Salt: salt, SaltedPassword: salted},
		{User: "md5", Mechanism: "SCRAM-MD5", Iterations: 4096, Salt: salt, SaltedPassword: salted},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]error{
		"guest": nil, "bob": nil, "nobody": ErrNotFound, "twice": ErrDuplicate, "": ErrUnacceptableCredential,
		"few": ErrUnacceptableCredential, "many": ErrUnacceptableCredential, "md5": ErrUnsupportedMechanism,
	}
	if len(res) != len(want) {
		t.Fatalf("results %v", res)
	}
	for user, w := range want {
		if got := res[user]; (w == nil) != (got == nil) || !errors.Is(got, w) {
			t.Errorf("%q: %v, want %v", user, got, w)
		}
	}

	check := func(when string) {
		t.Helper()
		if _, err := b.Authenticate("bob", "bob-secret", netip.Addr{}); err != nil {
			t.Fatalf("%s: bob's PLAIN login: %v", when, err)
		}
		if u, err := b.User("bob"); err != nil || len(u.Tags) != 0 {
			t.Fatalf("%s: bob: %+v %v", when, u, err)
		}
		if _, ok := b.PermissionOf("/", "bob"); ok {
			t.Fatalf("%s: bob has permissions", when)
		}
		if c, ok := b.ScramCredential("bob", "SCRAM-SHA-512"); !ok || c.Iterations != 8192 || string(c.Salt) != string(salt) {
			t.Fatalf("%s: bob's credential %+v %v", when, c, ok)
		}
		if _, ok := b.ScramCredential("bob", "SCRAM-SHA-256"); ok {
			t.Fatalf("%s: bob has a SCRAM-SHA-256 credential", when)
		}
		if infos := b.ScramCredentialInfos("guest"); len(infos) != 1 || infos[0] != (ScramCredentialInfo{"SCRAM-SHA-512", 4096}) {
			t.Fatalf("%s: guest's credentials %v", when, infos)
		}
		for _, u := range []string{"twice", "few", "nobody"} {
			if _, err := b.User(u); !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s: refused user %s exists: %v", when, u, err)
			}
		}
	}
	check("before restart")
	b.Close()
	b = openUsersBroker(t, dir)
	t.Cleanup(func() { b.Close() })
	check("after restart")

	// Deleting bob's only credential keeps bob, without a password.
	if res, err := b.AlterScramCredentials(ctx, []ScramDeletion{{User: "bob", Mechanism: "SCRAM-SHA-512"}}, nil); err != nil || res["bob"] != nil {
		t.Fatalf("delete bob's credential: %v %v", res, err)
	}
	if _, err := b.User("bob"); err != nil {
		t.Fatalf("bob after losing his credential: %v", err)
	}
	if _, err := b.Authenticate("bob", "bob-secret", netip.Addr{}); !errors.Is(err, ErrAuthentication) {
		t.Fatalf("bob logs in without a credential: %v", err)
	}
	for _, u := range b.ScramUsers() {
		if u == "bob" {
			t.Fatal("bob listed among users with SCRAM credentials")
		}
	}
}
