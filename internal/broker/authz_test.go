package broker

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// setPerm gives user the three patterns on vhost, creating the user.
func setPerm(t *testing.T, b *Broker, vhost, user, configure, write, read string) {
	t.Helper()
	ctx := context.Background()
	if _, err := b.User(user); err != nil {
		if _, err := b.PutUser(ctx, user, "pw", nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.SetPermission(ctx, Permission{User: user, VHost: vhost, Configure: configure, Write: write, Read: read}); err != nil {
		t.Fatal(err)
	}
}

// TestPermissionPatterns checks RabbitMQ's reading of a pattern: searched
// anywhere in the name (unanchored re:run), "" as "^$" (nothing), the
// default exchange checked as amq.default, and RabbitMQ's refusal text.
func TestPermissionPatterns(t *testing.T) {
	b := openUsersBroker(t, t.TempDir())
	defer b.Close()
	for _, tc := range []struct {
		pattern, kind, name string
		allow               bool
	}{
		{".*", KindQueue, "anything", true},
		{".*", KindExchange, "", true},
		{"", KindQueue, "q", false},
		{"", KindExchange, "", false}, // "" is amq.default, which "^$" does not match
		{"^$", KindQueue, "q", false},
		{"app", KindQueue, "myapp.q", true}, // unanchored
		{"^app\\.", KindQueue, "app.q", true},
		{"^app\\.", KindQueue, "myapp.q", false},
		{"^app\\.", KindQueue, "appq", false},
		{"^orders$", KindExchange, "orders", true},
		{"^orders$", KindExchange, "orders2", false},
		{"^(amq\\.gen.*|amq\\.default)$", KindExchange, "", true},
		{"^(amq\\.gen.*|amq\\.default)$", KindQueue, "amq.gen-abc", true},
		{"^(amq\\.gen.*|amq\\.default)$", KindQueue, "work", false},
	} {
		setPerm(t, b, "/", "u", tc.pattern, tc.pattern, tc.pattern)
		for _, a := range []Access{AccessConfigure, AccessWrite, AccessRead} {
			err := b.CheckAccess("u", "/", tc.kind, tc.name, a)
			if (err == nil) != tc.allow {
				t.Errorf("pattern %q, %s %s %q: %v, want allowed=%v", tc.pattern, a, tc.kind, tc.name, err, tc.allow)
			}
			if err != nil && !errors.Is(err, ErrAccessRefused) {
				t.Errorf("refusal %v is not ErrAccessRefused", err)
			}
		}
	}

	setPerm(t, b, "/", "bob", "^$", "^$", "^$")
	err := b.CheckAccess("bob", "/", KindQueue, "q", AccessConfigure)
	if want := "configure access to queue 'q' in vhost '/' refused for user 'bob'"; err == nil || err.Error() != want {
		t.Errorf("text %q, want %q", err, want)
	}
	err = b.CheckAccess("bob", "/", KindExchange, "", AccessWrite)
	if want := "write access to exchange 'amq.default' in vhost '/' refused for user 'bob'"; err == nil || err.Error() != want {
		t.Errorf("text %q, want %q", err, want)
	}
	// No entry at all, an unknown vhost, an unknown user: refused.
	for _, c := range [][2]string{{"/", "nobody"}, {"nope", "bob"}} {
		if err := b.CheckAccess(c[1], c[0], KindQueue, "q", AccessRead); !errors.Is(err, ErrAccessRefused) {
			t.Errorf("%v: %v", c, err)
		}
	}
}

// TestPermissionChangesApplyAtOnce: a change, a clear and a user's
// deletion all apply to the next check; the compiled patterns are shared
// by checks, not compiled per check.
func TestPermissionChangesApplyAtOnce(t *testing.T) {
	ctx := context.Background()
	b := openUsersBroker(t, t.TempDir())
	defer b.Close()
	setPerm(t, b, "/", "u", ".*", "^w$", "")
	g1 := b.users.grant("/", "u")
	if g1 == nil || g1.re[AccessConfigure] != nil || g1.re[AccessWrite] == nil || g1.re[AccessRead] == nil {
		t.Fatalf("grant %+v: want .* uncompiled, the others compiled", g1)
	}
	if g2 := b.users.grant("/", "u"); g2 != g1 {
		t.Fatal("each lookup built a new grant")
	}
	if err := b.CheckAccess("u", "/", KindExchange, "w", AccessWrite); err != nil {
		t.Fatal(err)
	}
	setPerm(t, b, "/", "u", ".*", "^x$", "")
	if err := b.CheckAccess("u", "/", KindExchange, "w", AccessWrite); !errors.Is(err, ErrAccessRefused) {
		t.Fatalf("after the change: %v", err)
	}
	if err := b.ClearPermission(ctx, "/", "u"); err != nil {
		t.Fatal(err)
	}
	if err := b.CheckAccess("u", "/", KindExchange, "x", AccessConfigure); !errors.Is(err, ErrAccessRefused) {
		t.Fatalf("after clear: %v", err)
	}
	setPerm(t, b, "/", "u", ".*", ".*", ".*")
	if err := b.DeleteUser(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	if err := b.CheckAccess("u", "/", KindQueue, "q", AccessRead); !errors.Is(err, ErrAccessRefused) {
		t.Fatalf("after the user's deletion: %v", err)
	}
}

// TestPrincipalAccessTable walks RabbitMQ's access-control table: which
// permission, on which resource, each operation needs. The user may
// configure names starting with "c", write names starting with "w" and
// read names containing "r".
func TestPrincipalAccessTable(t *testing.T) {
	ctx := context.Background()
	b := openUsersBroker(t, t.TempDir())
	defer b.Close()
	setPerm(t, b, "/", "u", "^c", "^w", "r")
	v, err := b.VHost("/")
	if err != nil {
		t.Fatal(err)
	}
	if err := v.DeclareExchange(ctx, "c-existing", "direct", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := v.DeclareQueue(ctx, "c-queue", false, true, false, false, nil, 0); err != nil {
		t.Fatal(err)
	}
	p := v.Principal("u")
	refused := func(what string) string {
		return what + " in vhost '/' refused for user 'u'"
	}
	qd := func(name string, passive bool, args map[string]any) error {
		_, err := p.QueueDeclare(name, passive, args)
		return err
	}
	for _, tc := range []struct {
		op   string
		err  error
		want string // "" allowed, else the refusal's text
	}{
		{"exchange.declare c", p.ExchangeDeclare("cx", false, nil), ""},
		{"exchange.declare x", p.ExchangeDeclare("x", false, nil), refused("configure access to exchange 'x'")},
		{"exchange.declare passive", p.ExchangeDeclare("x", true, nil), ""},
		{"exchange.declare default", p.ExchangeDeclare("", false, nil), ""}, // the declare refuses it
		{"exchange.declare AE, new: read on itself", p.ExchangeDeclare("cx", false, map[string]any{"alternate-exchange": "w"}), refused("read access to exchange 'cx'")},
		{"exchange.declare AE, new: write on the AE", p.ExchangeDeclare("crx", false, map[string]any{"alternate-exchange": "ae"}), refused("write access to exchange 'ae'")},
		{"exchange.declare AE, new", p.ExchangeDeclare("crx", false, map[string]any{"alternate-exchange": "w"}), ""},
		{"exchange.declare AE, existing", p.ExchangeDeclare("c-existing", false, map[string]any{"alternate-exchange": "ae"}), ""},
		{"exchange.delete", p.ExchangeDelete("x"), refused("configure access to exchange 'x'")},
		{"exchange.delete c", p.ExchangeDelete("cx"), ""},
		{"exchange.delete amq.*", p.ExchangeDelete("amq.direct"), ""}, // the delete refuses it
		{"queue.declare", qd("q", false, nil), refused("configure access to queue 'q'")},
		{"queue.declare c", qd("cq", false, nil), ""},
		{"queue.declare passive", qd("q", true, nil), ""},
		{"queue.declare server-named", qd("", false, nil), "configure access to queue 'amq.gen-"},
		{"queue.declare amq.* before permissions", qd("amq.q", false, nil), "queue name 'amq.q' contains reserved prefix 'amq.*'"},
		{"queue.declare DLX, new: read on itself", qd("cq", false, map[string]any{"x-dead-letter-exchange": "w"}), refused("read access to queue 'cq'")},
		{"queue.declare DLX, new: write on the DLX", qd("crq", false, map[string]any{"x-dead-letter-exchange": "dlx"}), refused("write access to exchange 'dlx'")},
		{"queue.declare DLX default", qd("crq", false, map[string]any{"x-dead-letter-exchange": ""}), refused("write access to exchange 'amq.default'")},
		{"queue.declare DLX, new", qd("crq", false, map[string]any{"x-dead-letter-exchange": "w"}), ""},
		{"queue.declare DLX, existing", qd("c-queue", false, map[string]any{"x-dead-letter-exchange": "dlx"}), ""},
		{"queue.delete", p.QueueDelete("q"), refused("configure access to queue 'q'")},
		{"queue.delete c", p.QueueDelete("cq"), ""},
		{"queue.purge", p.QueuePurge("cq"), refused("read access to queue 'cq'")},
		{"queue.purge r", p.QueuePurge("rq"), ""},
		{"queue.bind: write on the queue", p.Bind("rq", true, "rx"), refused("write access to queue 'rq'")},
		{"queue.bind: read on the exchange", p.Bind("wq", true, "wx"), refused("read access to exchange 'wx'")},
		{"queue.bind", p.Bind("wq", true, "rx"), ""},
		{"queue.bind default exchange", p.Bind("wq", true, ""), ""}, // the bind refuses it
		{"exchange.bind: write on the destination", p.Bind("rx", false, "rx"), refused("write access to exchange 'rx'")},
		{"exchange.bind: read on the source", p.Bind("wx", false, "wx"), refused("read access to exchange 'wx'")},
		{"exchange.bind", p.Bind("wx", false, "rx"), ""},
		{"basic.publish", p.Publish("x"), refused("write access to exchange 'x'")},
		{"basic.publish default", p.Publish(""), refused("write access to exchange 'amq.default'")},
		{"basic.publish w", p.Publish("wx"), ""},
		{"basic.consume / basic.get", p.Consume("q"), refused("read access to queue 'q'")},
		{"basic.consume / basic.get r", p.Consume("rq"), ""},
	} {
		switch {
		case tc.want == "" && tc.err != nil:
			t.Errorf("%s: %v, want allowed", tc.op, tc.err)
		case tc.want != "" && (tc.err == nil || !strings.HasPrefix(tc.err.Error(), tc.want) && !strings.HasSuffix(tc.err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.op, tc.err, tc.want)
		case tc.err != nil && !errors.Is(tc.err, ErrAccessRefused):
			t.Errorf("%s: %v is not ErrAccessRefused", tc.op, tc.err)
		}
	}
	// A server-named queue is checked under the name it gets.
	setPerm(t, b, "/", "u", "^amq\\.gen-", "", "")
	name, err := p.QueueDeclare("", false, nil)
	if err != nil || !strings.HasPrefix(name, "amq.gen-") {
		t.Fatalf("server-named declare: %q, %v", name, err)
	}
}
