package broker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/ternmq/tern/internal/storage"
)

func vhostNames(b *Broker) []string {
	var out []string
	for _, v := range b.VHosts() {
		out = append(out, v.Name())
	}
	return out
}

func mustVHost(t *testing.T, b *Broker, name string) *VHost {
	t.Helper()
	v, err := b.VHost(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// publishTo publishes body to queue q of v through the default exchange
// and waits until it is durable.
func publishTo(t *testing.T, v *VHost, q, body string) {
	t.Helper()
	res, wait, err := v.Publish(QueueMessage{RoutingKey: q, Body: []byte(body), Persistent: true}, nil)
	if err != nil || !res.Routed {
		t.Fatalf("publish to %s in %s: %+v, %v", q, v.Name(), res, err)
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
}

// TestVHostLifecycle creates a vhost beside "/", fills both with a queue
// of the same name, an exchange, a binding and permissions, then deletes
// the new one: its queue's log, its topology and its permissions go, the
// connections' subscribers are told, operations on the old handle fail,
// "/" is untouched, and all of it holds after a restart.
func TestVHostLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := openUsersBroker(t, dir)
	var mu sync.Mutex
	var deleted []string
	b.OnVHostDeleted(func(name string) {
		mu.Lock()
		deleted = append(deleted, name)
		mu.Unlock()
	})
	if got := vhostNames(b); !slices.Equal(got, []string{"/"}) {
		t.Fatalf("vhosts of a new node: %v", got)
	}
	if _, err := b.PutVHost(ctx, "", "", nil); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("empty name: %v", err)
	}
	created, err := b.PutVHost(ctx, "app", "the app", []string{"prod"})
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if created, err := b.PutVHost(ctx, "app", "the app, again", nil); err != nil || created {
		t.Fatalf("update: %v %v", created, err)
	}
	app := mustVHost(t, b, "app")
	if info := app.Info(); info.Description != "the app, again" || len(info.Tags) != 0 {
		t.Fatalf("info %+v", info)
	}
	root := mustVHost(t, b, "/")
	var appQueueDir string
	for _, v := range []*VHost{root, app} {
		res, err := v.DeclareQueue(ctx, "jobs", false, true, false, false, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if v == app {
			appQueueDir = res.Queue.dir
		}
		if err := v.DeclareExchange(ctx, "events", "fanout", false, true, false, false, nil); err != nil {
			t.Fatal(err)
		}
		if err := v.Bind(ctx, "jobs", true, "events", "", nil); err != nil {
			t.Fatal(err)
		}
		publishTo(t, v, "jobs", "in "+v.Name())
	}
	setPerm(t, b, "app", "alice", ".*", ".*", ".*")
	setPerm(t, b, "/", "alice", ".*", ".*", ".*")

	if err := b.DeleteVHost(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteVHost(ctx, "app"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	mu.Lock()
	if !slices.Equal(deleted, []string{"app"}) {
		t.Errorf("subscribers told %v", deleted)
	}
	mu.Unlock()
	if _, err := os.Stat(appQueueDir); !os.IsNotExist(err) {
		t.Errorf("queue log of the deleted vhost: %v", err)
	}
	if _, err := b.VHost("app"); !errors.Is(err, ErrNotFound) {
		t.Errorf("lookup after delete: %v", err)
	}
	if _, ok := b.PermissionOf("app", "alice"); ok {
		t.Error("permission in the deleted vhost kept")
	}
	if err := b.CheckAccess("alice", "app", KindQueue, "jobs", AccessRead); !errors.Is(err, ErrAccessRefused) {
		t.Errorf("access in the deleted vhost: %v", err)
	}
	// A handle kept from before (a connection's) refuses everything.
	if _, _, err := app.Publish(QueueMessage{RoutingKey: "jobs"}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("publish: %v", err)
	}
	if _, err := app.DeclareQueue(ctx, "x", false, false, false, false, nil, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("declare: %v", err)
	}
	if _, err := app.Queue("jobs", 0); !errors.Is(err, ErrClosed) {
		t.Errorf("queue: %v", err)
	}
	if err := app.Bind(ctx, "jobs", true, "events", "", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("bind: %v", err)
	}
	if _, err := b.SetPermission(ctx, Permission{User: "alice", VHost: "app", Configure: ".*"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("permission in a deleted vhost: %v", err)
	}
	checkRoot := func(b *Broker) {
		t.Helper()
		root := mustVHost(t, b, "/")
		if qi, ok := root.QueueInfo("jobs"); !ok || qi.Ready != 1 {
			t.Errorf("/ jobs: %+v %v", qi, ok)
		}
		if _, ok := root.Exchange("events"); !ok {
			t.Error("/ lost its exchange")
		}
		if _, ok := b.PermissionOf("/", "alice"); !ok {
			t.Error("/ lost alice's permission")
		}
	}
	checkRoot(b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b = openUsersBroker(t, dir)
	if got := vhostNames(b); !slices.Equal(got, []string{"/"}) {
		t.Fatalf("vhosts after restart: %v", got)
	}
	checkRoot(b)
	if _, ok := b.PermissionOf("app", "alice"); ok {
		t.Error("permission in the deleted vhost came back")
	}
	// The same name again is a new, empty vhost.
	if _, err := b.PutVHost(ctx, "app", "", nil); err != nil {
		t.Fatal(err)
	}
	checkEmpty := func(b *Broker) {
		t.Helper()
		app := mustVHost(t, b, "app")
		if names := app.QueueNames(); len(names) != 0 {
			t.Errorf("recreated vhost has queues %v", names)
		}
		if _, ok := app.Exchange("events"); ok {
			t.Error("recreated vhost has the old exchange")
		}
	}
	checkEmpty(b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openUsersBroker(t, dir)
	defer b.Close()
	if got := vhostNames(b); !slices.Equal(got, []string{"/", "app"}) {
		t.Fatalf("vhosts after the second restart: %v", got)
	}
	checkEmpty(b)
}

// TestDefaultVHostOnOldDataDir opens a catalog written before vhost
// records existed (a user, a permission and a durable queue in "/", no
// vhost record): "/" exists with its queue and is recorded then, so that
// neither another vhost's record nor a restart loses it, and a later
// delete of "/" sticks across restarts.
func TestDefaultVHostOnOldDataDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ml, err := storage.Open(filepath.Join(dir, metaDirName), storage.DefaultConfig(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	scram, err := newScram("pw")
	if err != nil {
		t.Fatal(err)
	}
	old := &metaLog{log: ml}
	err = old.append(ctx,
		metaRecord{Type: metaUser, User: &userRecord{Name: "ops", Tags: []string{"administrator"}, Scram: scram}},
		metaRecord{Type: metaPermission, Permission: &Permission{User: "ops", VHost: "/", Configure: ".*", Write: ".*", Read: ".*"}},
		metaRecord{Type: metaAMQPQueue, VHost: "/", AMQPQueue: &amqpQueueRecord{Name: "legacy", ID: "0123456789abcdef01234567"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := ml.Close(); err != nil {
		t.Fatal(err)
	}

	b := openUsersBroker(t, dir)
	if got := vhostNames(b); !slices.Equal(got, []string{"/"}) {
		t.Fatalf("vhosts: %v", got)
	}
	if _, err := b.User("guest"); !errors.Is(err, ErrNotFound) {
		t.Errorf("default user created on a data directory that had users: %v", err)
	}
	// Another vhost's record must not hide the implicit "/".
	if _, err := b.PutVHost(ctx, "other", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openUsersBroker(t, dir)
	if got := vhostNames(b); !slices.Equal(got, []string{"/", "other"}) {
		t.Fatalf("vhosts after a restart: %v", got)
	}
	if names := mustVHost(t, b, "/").QueueNames(); !slices.Equal(names, []string{"legacy"}) {
		t.Fatalf("queues of /: %v", names)
	}
	if err := b.DeleteVHost(ctx, "/"); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openUsersBroker(t, dir)
	defer b.Close()
	if got := vhostNames(b); !slices.Equal(got, []string{"other"}) {
		t.Fatalf("vhosts after deleting /: %v", got)
	}
	if _, ok := b.PermissionOf("/", "ops"); ok {
		t.Error("permission on the deleted / came back")
	}
}
