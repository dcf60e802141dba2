package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestUsersAndPermissions(t *testing.T) {
	n := startNode(t)
	dial := func(user, pass string) error {
		c, err := amqp.Dial("amqp://" + user + ":" + pass + "@" + n.AMQPAddr + "/")
		if err == nil {
			c.Close()
		}
		return err
	}

	if out := n.ok("user", "create", "app", "--password", "s3cret"); out != "Created user \"app\".\n" {
		t.Errorf("create: %q", out)
	}
	n.ok("user", "create", "ops", "--password", "pw", "--tags", "administrator,monitoring")
	wantContains(t, "create twice", n.fail(1, "user", "create", "app", "--password", "x"),
		`user "app" already exists (change its password with "tern user passwd app --password P")`)
	wantContains(t, "no password", n.fail(2, "user", "create", "bob"), `required flag(s) "password" not set`)

	want := "NAME   TAGS\napp\nguest  administrator\nops    administrator,monitoring\n"
	if out := n.ok("user", "list"); out != want {
		t.Errorf("user list:\n%q\nwant\n%q", out, want)
	}

	// No permissions on "/" yet: the broker refuses the connection.
	if err := dial("app", "s3cret"); err == nil {
		t.Error("app opened a connection before it had permissions")
	}
	out := n.ok("permission", "set", "app", "--configure", "^app\\.", "--write", ".*", "--read", ".*")
	if out != "Set permissions of user \"app\" on vhost \"/\": configure \"^app\\\\.\", write \".*\", read \".*\".\n" {
		t.Errorf("permission set: %q", out)
	}
	if out := n.ok("permission", "list", "--for-user", "app"); out != "USER  VHOST  CONFIGURE  WRITE  READ\napp   /      ^app\\.     .*     .*\n" {
		t.Errorf("permission list:\n%s", out)
	}
	var ps []permissionInfo
	if err := json.Unmarshal([]byte(n.ok("permission", "list", "--format", "json")), &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Errorf("permissions: %+v", ps)
	}
	if err := dial("app", "s3cret"); err != nil {
		t.Fatalf("app cannot connect with its permissions: %v", err)
	}
	if err := dial("app", "wrong"); err == nil {
		t.Error("app connected with a wrong password")
	}

	// The new administrator can use the admin API; app cannot.
	ctx := context.Background()
	r := runCLI(ctx, invocation{environ: []string{"TERN_USER=ops", "TERN_PASSWORD=pw"}}, "--server", n.server(), "user", "list")
	if r.code != 0 {
		t.Errorf("ops as admin: %d %s", r.code, r.stderr)
	}
	r = runCLI(ctx, invocation{}, "--server", n.server(), "--user", "app", "--password", "s3cret", "topic", "list")
	if r.code != 1 || !strings.Contains(r.stderr, `user "app" may not use Tern's admin API`) || !strings.Contains(r.stderr, `"administrator" tag`) {
		t.Errorf("app as admin: %d %s", r.code, r.stderr)
	}

	if out := n.ok("user", "passwd", "app", "--password", "n3w"); out != "Changed the password of user \"app\".\n" {
		t.Errorf("passwd: %q", out)
	}
	if err := dial("app", "n3w"); err != nil {
		t.Errorf("new password refused: %v", err)
	}
	// passwd keeps tags.
	n.ok("user", "passwd", "ops", "--password", "pw2")
	if r := row(n.ok("user", "list"), "ops"); len(r) != 2 || r[1] != "administrator,monitoring" {
		t.Errorf("ops after passwd: %v", r)
	}

	if out := n.ok("permission", "clear", "app"); out != "Cleared permissions of user \"app\" on vhost \"/\".\n" {
		t.Errorf("clear: %q", out)
	}
	if err := dial("app", "n3w"); err == nil {
		t.Error("app connected after its permissions were cleared")
	}
	if out := n.ok("user", "delete", "app"); out != "Deleted user \"app\".\n" {
		t.Errorf("delete: %q", out)
	}
	if row(n.ok("user", "list"), "app") != nil {
		t.Error("app still listed")
	}
	wantContains(t, "delete twice", n.fail(1, "user", "delete", "app"), `user "app" not found (list users with "tern user list")`)
	wantContains(t, "passwd unknown", n.fail(1, "user", "passwd", "app", "--password", "x"), `user "app" not found`)
}
