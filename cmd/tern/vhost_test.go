package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// TestVHosts drives tern vhost create/list/delete and the AMQP commands'
// --vhost against a node: a new vhost, a permission on it, a queue and a
// message there, and a delete that asks first and takes it all along.
func TestVHosts(t *testing.T) {
	n := startNode(t)
	if out := n.ok("vhost", "create", "orders", "--description", "order service", "--tags", "prod,eu"); out != "Created vhost \"orders\". Give users access with \"tern permission set USER --vhost orders\".\n" {
		t.Errorf("create: %q", out)
	}
	wantContains(t, "create twice", n.fail(1, "vhost", "create", "orders"), `vhost "orders" already exists`)
	n.ok("permission", "set", "guest", "--vhost", "orders")
	n.ok("queue", "declare", "jobs", "--vhost", "orders")
	n.ok("publish", "--vhost", "orders", "--routing-key", "jobs", "--body", "hello")
	out := n.ok("vhost", "list")
	if got := strings.Join(rows(out)[0], " "); got != "NAME MESSAGES READY UNACKED TAGS DESCRIPTION" {
		t.Errorf("header %q", got)
	}
	if r := strings.Join(row(out, "orders"), " "); r != "orders 1 1 0 eu,prod order service" {
		t.Errorf("orders row %q in\n%s", r, out)
	}
	if r := strings.Join(row(out, "/"), " "); r != "/ 0 0 0 Default virtual host" {
		t.Errorf("/ row %q", r)
	}
	var vs []vhostInfo
	if err := json.Unmarshal([]byte(n.ok("vhost", "list", "--format", "json")), &vs); err != nil || len(vs) != 2 {
		t.Fatalf("json list: %+v %v", vs, err)
	}
	if out := n.ok("queue", "list", "--vhost", "orders"); row(out, "jobs") == nil {
		t.Errorf("queue list --vhost orders:\n%s", out)
	}
	if out := n.ok("queue", "list"); row(out, "jobs") != nil {
		t.Errorf("the queue of orders is listed in /:\n%s", out)
	}
	wantContains(t, "unknown vhost", n.fail(1, "queue", "list", "--vhost", "nope"), `vhost "nope" not found (list vhosts with "tern vhost list"`)

	conn, err := amqp.Dial("amqp://guest:guest@" + n.AMQPAddr + "/orders")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))

	// Not a terminal and no --yes: refuse, say how. On a terminal, ask.
	wantContains(t, "delete without --yes", n.fail(2, "vhost", "delete", "orders"),
		`refusing to delete vhost "orders" without confirmation: stdin is not a terminal, so pass --yes`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	server := []string{"--server", n.server(), "vhost", "delete", "orders"}
	r := runCLI(ctx, invocation{stdin: "n\n", stdinTTY: true}, server...)
	if r.code != 1 || !strings.Contains(r.stderr, `Delete vhost "orders" with its 1 queue and 1 message, and close its connections? [y/N] Not deleted.`) {
		t.Fatalf("answered no: %d %q", r.code, r.stderr)
	}
	if conn.IsClosed() {
		t.Fatal("a refused delete closed the connection")
	}
	r = runCLI(ctx, invocation{stdin: "y\n", stdinTTY: true}, server...)
	if r.code != 0 || r.stdout != "Deleted vhost \"orders\".\n" {
		t.Fatalf("answered yes: %d %q %q", r.code, r.stdout, r.stderr)
	}
	select {
	case e := <-closed:
		if e == nil || e.Code != 320 {
			t.Errorf("connection closed with %v, want 320", e)
		}
	case <-time.After(5 * time.Second):
		t.Error("the deleted vhost's connection stayed open")
	}
	if out := n.ok("vhost", "list"); row(out, "orders") != nil {
		t.Errorf("deleted vhost listed:\n%s", out)
	}
	wantContains(t, "delete twice", n.fail(1, "vhost", "delete", "orders", "--yes"), `vhost "orders" not found (list vhosts with "tern vhost list")`)
	if out := n.ok("permission", "list", "--vhost", "orders"); len(rows(out)) != 1 {
		t.Errorf("permissions on the deleted vhost:\n%s", out)
	}
	n.ok("vhost", "create", "scratch")
	if out := n.ok("vhost", "delete", "scratch", "--yes"); out != "Deleted vhost \"scratch\".\n" {
		t.Errorf("delete --yes: %q", out)
	}
}
