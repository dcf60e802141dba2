package amqp_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/testbroker"
)

// Authorization as RabbitMQ applies it: per-user, per-vhost configure,
// write and read patterns checked on every operation, 403 ACCESS_REFUSED
// with RabbitMQ's text closing the channel; virtual hosts isolating
// their queues; a deleted vhost closing its connections with 320.

const userPass = "pw"

// core is the test node's broker core, for setting up users and vhosts.
func core(b *testbroker.Broker) *broker.Broker { return b.Node().Broker }

// grant creates user (if needed) with the given patterns on vhost.
func grant(t *testing.T, b *testbroker.Broker, user, vhost, configure, write, read string) {
	t.Helper()
	ctx := context.Background()
	if _, err := core(b).User(user); err != nil {
		if _, err := core(b).PutUser(ctx, user, userPass, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := core(b).SetPermission(ctx, broker.Permission{User: user, VHost: vhost, Configure: configure, Write: write, Read: read}); err != nil {
		t.Fatal(err)
	}
}

func putVHost(t *testing.T, b *testbroker.Broker, name string) {
	t.Helper()
	if _, err := core(b).PutVHost(context.Background(), name, "", nil); err != nil {
		t.Fatal(err)
	}
}

func amqpURL(b *testbroker.Broker, user, vhost string) string {
	pass := userPass
	if user == "guest" {
		pass = "guest"
	}
	return "amqp://" + user + ":" + pass + "@" + b.AMQPAddr + "/" + url.PathEscape(vhost)
}

// dialAs opens a connection as user in vhost, closed at the end of t.
func dialAs(t *testing.T, b *testbroker.Broker, user, vhost string) *amqp.Connection {
	t.Helper()
	c, err := amqp.Dial(amqpURL(b, user, vhost))
	if err != nil {
		t.Fatalf("%s in vhost %q: %v", user, vhost, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wantAMQPError checks err is the broker's reply code and text; an
// empty text means err must be nil. A text ending in "…" is a prefix.
func wantAMQPError(t *testing.T, what string, err error, code int, text string) {
	t.Helper()
	if text == "" {
		if err != nil {
			t.Errorf("%s: %v, want success", what, err)
		}
		return
	}
	var ae *amqp.Error
	if !errors.As(err, &ae) {
		t.Errorf("%s: %v, want %d %q", what, err, code, text)
		return
	}
	ok := ae.Reason == text
	if p, cut := strings.CutSuffix(text, "…"); cut {
		ok = strings.HasPrefix(ae.Reason, p)
	}
	if ae.Code != code || !ok {
		t.Errorf("%s: %d %q, want %d %q", what, ae.Code, ae.Reason, code, text)
	}
}

// publishConfirmed publishes one message in confirm mode and returns nil
// once it is confirmed, or the error that closed the channel.
func publishConfirmed(ch *amqp.Channel, exchange, key, body string) error {
	if err := ch.Confirm(false); err != nil {
		return err
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 1))
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	if err := ch.PublishWithContext(context.Background(), exchange, key, false, false, amqp.Publishing{Body: []byte(body)}); err != nil {
		return err
	}
	select {
	case c := <-confirms:
		if !c.Ack {
			return errors.New("nacked")
		}
		return nil
	case e := <-closed:
		if e == nil {
			return errors.New("channel closed without an error")
		}
		return e
	case <-time.After(5 * time.Second):
		return errors.New("no confirm and no channel.close within 5s")
	}
}

// TestAccessControlTable runs every AMQP operation that touches a queue
// or exchange as three users — full rights, read-only, and one confined
// to names starting "app." — and checks each is allowed, or refused with
// 403 and RabbitMQ's exact text.
func TestAccessControlTable(t *testing.T) {
	b := testbroker.Start(t)
	grant(t, b, "full", "/", ".*", ".*", ".*")
	grant(t, b, "reader", "/", "", "", ".*")
	grant(t, b, "app", "/", `^app\.`, `^app\.`, `^app\.`)
	// Fixtures, declared by guest: queues and exchanges both users see.
	_, admin := dial(t, b)
	for _, q := range []string{"q", "app.q"} {
		if _, err := admin.QueueDeclare(q, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		if err := publishConfirmed(admin, "", q, "m"); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range []string{"x", "app.x"} {
		if err := admin.ExchangeDeclare(x, "direct", true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	conns := map[string]*amqp.Connection{}
	for _, u := range []string{"full", "reader", "app"} {
		conns[u] = dialAs(t, b, u, "/")
	}
	refused := func(user, what string) string {
		return "ACCESS_REFUSED - " + what + " in vhost '/' refused for user '" + user + "'"
	}
	// One constructor per operation keeps each row of the table a line.
	type op func(ch *amqp.Channel) error
	xDeclare := func(name string, args amqp.Table) op {
		return func(ch *amqp.Channel) error {
			return ch.ExchangeDeclare(name, "fanout", false, false, false, false, args)
		}
	}
	xPassive := func(name string) op {
		return func(ch *amqp.Channel) error {
			return ch.ExchangeDeclarePassive(name, "direct", true, false, false, false, nil)
		}
	}
	xDelete := func(name string) op {
		return func(ch *amqp.Channel) error { return ch.ExchangeDelete(name, false, false) }
	}
	qDeclare := func(name string, args amqp.Table) op {
		return func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclare(name, false, false, false, false, args)
			return err
		}
	}
	qPassive := func(name string) op {
		return func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclarePassive(name, true, false, false, false, nil)
			return err
		}
	}
	qDelete := func(name string) op {
		return func(ch *amqp.Channel) error { _, err := ch.QueueDelete(name, false, false, false); return err }
	}
	qPurge := func(name string) op {
		return func(ch *amqp.Channel) error { _, err := ch.QueuePurge(name, false); return err }
	}
	qBind := func(q, x string) op {
		return func(ch *amqp.Channel) error { return ch.QueueBind(q, "k", x, false, nil) }
	}
	qUnbind := func(q, x string) op { return func(ch *amqp.Channel) error { return ch.QueueUnbind(q, "k", x, nil) } }
	xBind := func(dst, src string) op {
		return func(ch *amqp.Channel) error { return ch.ExchangeBind(dst, "k", src, false, nil) }
	}
	xUnbind := func(dst, src string) op {
		return func(ch *amqp.Channel) error { return ch.ExchangeUnbind(dst, "k", src, false, nil) }
	}
	publish := func(x, key string) op {
		return func(ch *amqp.Channel) error { return publishConfirmed(ch, x, key, "p") }
	}
	get := func(q, want string) op {
		return func(ch *amqp.Channel) error {
			d, ok, err := ch.Get(q, false)
			if err == nil && (!ok || string(d.Body) != want) {
				err = fmt.Errorf("got %q (%v), want %q", d.Body, ok, want)
			}
			return err
		}
	}
	consume := func(q string) op {
		return func(ch *amqp.Channel) error { _, err := ch.Consume(q, "", false, false, false, false, nil); return err }
	}
	for _, tc := range []struct {
		user, op string
		do       op
		want     string // "" allowed
	}{
		{"full", "exchange.declare", xDeclare("x2", nil), ""},
		{"reader", "exchange.declare", xDeclare("x2", nil), refused("reader", "configure access to exchange 'x2'")},
		{"app", "exchange.declare", xDeclare("x3", nil), refused("app", "configure access to exchange 'x3'")},
		{"app", "exchange.declare app.*", xDeclare("app.x2", nil), ""},
		{"reader", "exchange.declare passive", xPassive("x"), ""},
		{"app", "exchange.declare with an alternate-exchange", xDeclare("app.ae-user", amqp.Table{"alternate-exchange": "x"}),
			refused("app", "write access to exchange 'x'")},
		{"full", "queue.declare", qDeclare("q2", nil), ""},
		{"reader", "queue.declare", qDeclare("q2", nil), refused("reader", "configure access to queue 'q2'")},
		{"app", "queue.declare", qDeclare("q3", nil), refused("app", "configure access to queue 'q3'")},
		{"app", "queue.declare app.*", qDeclare("app.q2", nil), ""},
		{"full", "queue.declare server-named", qDeclare("", nil), ""},
		{"reader", "queue.declare server-named", qDeclare("", nil), "ACCESS_REFUSED - configure access to queue 'amq.gen-…"},
		{"reader", "queue.declare passive", qPassive("q"), ""},
		{"app", "queue.declare with a dead-letter exchange", qDeclare("app.dl", amqp.Table{"x-dead-letter-exchange": "x"}),
			refused("app", "write access to exchange 'x'")},
		{"full", "queue.bind", qBind("q2", "x"), ""},
		{"reader", "queue.bind", qBind("q", "x"), refused("reader", "write access to queue 'q'")},
		{"app", "queue.bind from a foreign exchange", qBind("app.q2", "x"), refused("app", "read access to exchange 'x'")},
		{"app", "queue.bind", qBind("app.q2", "app.x"), ""},
		{"reader", "queue.unbind", qUnbind("q2", "x"), refused("reader", "write access to queue 'q2'")},
		{"full", "queue.unbind", qUnbind("q2", "x"), ""},
		{"reader", "exchange.bind", xBind("x2", "x"), refused("reader", "write access to exchange 'x2'")},
		{"app", "exchange.bind from a foreign exchange", xBind("app.x2", "x"), refused("app", "read access to exchange 'x'")},
		{"full", "exchange.bind", xBind("x2", "x"), ""},
		{"app", "exchange.unbind from a foreign exchange", xUnbind("app.x2", "x"), refused("app", "read access to exchange 'x'")},
		{"full", "exchange.unbind", xUnbind("x2", "x"), ""},
		{"reader", "basic.publish to the default exchange", publish("", "q"), refused("reader", "write access to exchange 'amq.default'")},
		{"app", "basic.publish to the default exchange", publish("", "app.q"), refused("app", "write access to exchange 'amq.default'")},
		{"app", "basic.publish", publish("app.x", "k"), ""},
		{"full", "basic.publish", publish("", "q"), ""},
		{"app", "basic.get", get("q", "m"), refused("app", "read access to queue 'q'")},
		{"reader", "basic.get", get("q", "m"), ""},
		{"app", "basic.consume", consume("q"), refused("app", "read access to queue 'q'")},
		{"app", "basic.consume app.*", consume("app.q"), ""},
		{"app", "queue.purge", qPurge("q"), refused("app", "read access to queue 'q'")},
		{"reader", "queue.purge", qPurge("q2"), ""},
		{"reader", "queue.delete", qDelete("q"), refused("reader", "configure access to queue 'q'")},
		{"full", "queue.delete", qDelete("q2"), ""},
		{"reader", "exchange.delete", xDelete("x2"), refused("reader", "configure access to exchange 'x2'")},
		{"app", "exchange.delete", xDelete("app.x2"), ""},
	} {
		ch, err := conns[tc.user].Channel()
		if err != nil {
			t.Fatalf("%s: channel: %v", tc.user, err)
		}
		wantAMQPError(t, tc.user+" "+tc.op, tc.do(ch), 403, tc.want)
		if tc.want == "" {
			ch.Close()
		}
	}
	// A refusal closes the channel only.
	for u, c := range conns {
		if c.IsClosed() {
			t.Errorf("%s's connection closed", u)
		}
	}
}

// TestPermissionsChangeLive: a connected user's next operation sees a
// permission changed or cleared, without reconnecting.
func TestPermissionsChangeLive(t *testing.T) {
	b := testbroker.Start(t)
	ctx := context.Background()
	grant(t, b, "bob", "/", ".*", ".*", ".*")
	conn := dialAs(t, b, "bob", "/")
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("work", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := publishConfirmed(ch, "", "work", "1"); err != nil {
		t.Fatal(err)
	}
	grant(t, b, "bob", "/", ".*", "^nothing$", ".*")
	ch, _ = conn.Channel()
	wantAMQPError(t, "publish after write was narrowed", publishConfirmed(ch, "", "work", "2"), 403,
		"ACCESS_REFUSED - write access to exchange 'amq.default' in vhost '/' refused for user 'bob'")
	if err := core(b).ClearPermission(ctx, "/", "bob"); err != nil {
		t.Fatal(err)
	}
	ch, _ = conn.Channel()
	_, _, err = ch.Get("work", true)
	wantAMQPError(t, "get after the permissions were cleared", err, 403,
		"ACCESS_REFUSED - read access to queue 'work' in vhost '/' refused for user 'bob'")
	grant(t, b, "bob", "/", "", "", "^work$")
	ch, _ = conn.Channel()
	d, ok, err := ch.Get("work", true)
	if err != nil || !ok || string(d.Body) != "1" {
		t.Fatalf("get after read was granted again: %q %v %v", d.Body, ok, err)
	}
	if conn.IsClosed() {
		t.Fatal("permission changes closed the connection")
	}
}

// TestVirtualHostIsolation: connection.open answers RabbitMQ's 530 for a
// vhost that does not exist and for one the user has no rights in; a
// user with rights in B only can work there; the same queue name in two
// vhosts is two queues.
func TestVirtualHostIsolation(t *testing.T) {
	b := testbroker.Start(t)
	putVHost(t, b, "A")
	putVHost(t, b, "B")
	grant(t, b, "bob", "B", ".*", ".*", ".*")
	for _, v := range []string{"A", "B"} {
		grant(t, b, "guest", v, ".*", ".*", ".*")
	}

	_, err := amqp.Dial(amqpURL(b, "bob", "A"))
	wantAMQPError(t, "bob opens A", err, 530, "NOT_ALLOWED - access to vhost 'A' refused for user 'bob'")
	_, err = amqp.Dial(amqpURL(b, "bob", "/"))
	wantAMQPError(t, "bob opens /", err, 530, "NOT_ALLOWED - access to vhost '/' refused for user 'bob'")
	_, err = amqp.Dial(amqpURL(b, "bob", "nosuch"))
	wantAMQPError(t, "bob opens a missing vhost", err, 530, "NOT_ALLOWED - vhost nosuch not found")

	inB := dialAs(t, b, "bob", "B")
	chB, _ := inB.Channel()
	inA := dialAs(t, b, "guest", "A")
	chA, _ := inA.Channel()
	for _, c := range []struct {
		ch   *amqp.Channel
		body string
	}{{chA, "in A"}, {chB, "in B"}} {
		if _, err := c.ch.QueueDeclare("jobs", true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		if err := publishConfirmed(c.ch, "", "jobs", c.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := chA.ExchangeDeclare("only-in-a", "fanout", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ch   *amqp.Channel
		body string
	}{{chA, "in A"}, {chB, "in B"}} {
		q, err := c.ch.QueueDeclarePassive("jobs", true, false, false, false, nil)
		if err != nil || q.Messages != 1 {
			t.Fatalf("jobs: %+v %v", q, err)
		}
		d, ok, err := c.ch.Get("jobs", true)
		if err != nil || !ok || string(d.Body) != c.body {
			t.Errorf("jobs holds %q (%v %v), want %q", d.Body, ok, err, c.body)
		}
	}
	err = chB.ExchangeDeclarePassive("only-in-a", "fanout", true, false, false, false, nil)
	wantAMQPError(t, "A's exchange seen from B", err, 404, "NOT_FOUND - no exchange 'only-in-a' in vhost 'B'")
}

// TestVHostDeletionClosesConnections: deleting a vhost closes its
// connections with 320 CONNECTION_FORCED, as RabbitMQ does, removes its
// queues, and leaves other vhosts' connections and queues alone.
func TestVHostDeletionClosesConnections(t *testing.T) {
	b := testbroker.Start(t)
	putVHost(t, b, "doomed")
	grant(t, b, "guest", "doomed", ".*", ".*", ".*")
	doomed := dialAs(t, b, "guest", "doomed")
	closed := doomed.NotifyClose(make(chan *amqp.Error, 1))
	ch, _ := doomed.Channel()
	if _, err := ch.QueueDeclare("jobs", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := publishConfirmed(ch, "", "jobs", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Consume("jobs", "", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	other, chRoot := dial(t, b)
	if _, err := chRoot.QueueDeclare("jobs", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}

	if err := core(b).DeleteVHost(context.Background(), "doomed"); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-closed:
		wantAMQPError(t, "connection of the deleted vhost", e, 320, "CONNECTION_FORCED - vhost 'doomed' is deleted")
	case <-time.After(5 * time.Second):
		t.Fatal("the connection of a deleted vhost stayed open")
	}
	_, err := amqp.Dial(amqpURL(b, "guest", "doomed"))
	wantAMQPError(t, "reopening the deleted vhost", err, 530, "NOT_ALLOWED - vhost doomed not found")
	if other.IsClosed() {
		t.Fatal("a connection to / was closed")
	}
	if _, err := chRoot.QueueDeclarePassive("jobs", true, false, false, false, nil); err != nil {
		t.Fatalf("/'s queue of the same name: %v", err)
	}
	// Recreated, the vhost is empty.
	putVHost(t, b, "doomed")
	grant(t, b, "guest", "doomed", ".*", ".*", ".*")
	ch, _ = dialAs(t, b, "guest", "doomed").Channel()
	_, err = ch.QueueDeclarePassive("jobs", true, false, false, false, nil)
	wantAMQPError(t, "queue of the deleted vhost", err, 404, "NOT_FOUND - no queue 'jobs' in vhost 'doomed'")
}

// TestAuthorizationSurvivesRestart: vhosts, users, permissions, each
// vhost's queues, and a deletion are all as they were after a restart.
func TestAuthorizationSurvivesRestart(t *testing.T) {
	b := testbroker.Start(t)
	putVHost(t, b, "A")
	putVHost(t, b, "B")
	putVHost(t, b, "gone")
	grant(t, b, "bob", "B", `^app\.`, `^app\.`, `^app\.`)
	grant(t, b, "guest", "A", ".*", ".*", ".*")
	ch, _ := dialAs(t, b, "guest", "A").Channel()
	if _, err := ch.QueueDeclare("app.jobs", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := publishConfirmed(ch, "", "app.jobs", "in A"); err != nil {
		t.Fatal(err)
	}
	ch, _ = dialAs(t, b, "bob", "B").Channel()
	if _, err := ch.QueueDeclare("app.jobs", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := core(b).DeleteVHost(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}

	b.Restart()
	_, err := amqp.Dial(amqpURL(b, "bob", "A"))
	wantAMQPError(t, "bob opens A", err, 530, "NOT_ALLOWED - access to vhost 'A' refused for user 'bob'")
	_, err = amqp.Dial(amqpURL(b, "guest", "gone"))
	wantAMQPError(t, "guest opens the deleted vhost", err, 530, "NOT_ALLOWED - vhost gone not found")
	bob := dialAs(t, b, "bob", "B")
	ch, _ = bob.Channel()
	q, err := ch.QueueDeclarePassive("app.jobs", true, false, false, false, nil)
	if err != nil || q.Messages != 0 {
		t.Fatalf("B's app.jobs: %+v %v", q, err)
	}
	_, err = ch.QueueDeclare("other", true, false, false, false, nil)
	wantAMQPError(t, "bob declares outside ^app\\.", err, 403, "ACCESS_REFUSED - configure access to queue 'other' in vhost 'B' refused for user 'bob'")
	ch, _ = dialAs(t, b, "guest", "A").Channel()
	d, ok, err := ch.Get("app.jobs", true)
	if err != nil || !ok || string(d.Body) != "in A" {
		t.Fatalf("A's app.jobs after restart: %q %v %v", d.Body, ok, err)
	}
}
