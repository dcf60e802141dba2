package main

import (
	"context"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/testbroker"
)

// result is what one run of the CLI printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// invocation configures one run of the real CLI.
type invocation struct {
	stdin    string
	stdinTTY bool
	environ  []string
	stdout   *testbroker.SyncBuffer // nil: a fresh buffer
}

// runCLI runs the CLI as main does, with its own streams and environment.
func runCLI(ctx context.Context, inv invocation, args ...string) result {
	out := inv.stdout
	if out == nil {
		out = &testbroker.SyncBuffer{}
	}
	var errOut testbroker.SyncBuffer
	a := &cli{
		environ:  envMap(inv.environ),
		rawEnv:   inv.environ,
		stdin:    strings.NewReader(inv.stdin),
		stdinTTY: inv.stdinTTY,
		stdout:   out,
		stderr:   &errOut,
	}
	code := a.run(ctx, args)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// node is a broker for CLI tests and a way to run tern against it.
type node struct {
	t *testing.T
	*testbroker.Broker
}

func startNode(t *testing.T) *node {
	t.Helper()
	return &node{t: t, Broker: testbroker.Start(t)}
}

// at returns the node for use in subtest t, so failures stop t.
func (n *node) at(t *testing.T) *node { return &node{t: t, Broker: n.Broker} }

func (n *node) server() string { return "http://" + n.HTTPAddr }

// tern runs the CLI against the node with stdin.
func (n *node) tern(stdin string, args ...string) result {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return runCLI(ctx, invocation{stdin: stdin}, append([]string{"--server", n.server()}, args...)...)
}

// ok runs the CLI and fails the test unless it exits 0; it returns stdout.
func (n *node) ok(args ...string) string {
	n.t.Helper()
	return n.okIn("", args...)
}

func (n *node) okIn(stdin string, args ...string) string {
	n.t.Helper()
	r := n.tern(stdin, args...)
	if r.code != 0 {
		n.t.Fatalf("tern %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fail runs the CLI, expects exit code want, and returns stderr.
func (n *node) fail(want int, args ...string) string {
	n.t.Helper()
	r := n.tern("", args...)
	if r.code != want {
		n.t.Fatalf("tern %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r.stderr
}

// rows splits table output into lines of whitespace-separated fields.
func rows(out string) [][]string {
	var rs [][]string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		rs = append(rs, strings.Fields(l))
	}
	return rs
}

// row returns the table row whose first field is key, or nil.
func row(out, key string) []string {
	for _, r := range rows(out) {
		if len(r) > 0 && r[0] == key {
			return r
		}
	}
	return nil
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}

func TestVersionHelpAndUsageErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring
		stderr     string // substring
		stdoutSame bool
	}{
		{name: "version command", args: []string{"version"}, stdout: "tern dev\n", stdoutSame: true},
		{name: "version flag", args: []string{"--version"}, stdout: "tern dev\n", stdoutSame: true},
		{name: "no command prints usage to stderr", args: nil, code: 2, stderr: "tern [command]"},
		{name: "help", args: []string{"--help"}, stdout: "Use \"tern [command] --help\""},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate" for "tern"`},
		{name: "unknown subcommand", args: []string{"topic", "frobnicate"}, code: 2, stderr: `unknown command "frobnicate" for "tern topic"`},
		{name: "group command alone prints its help", args: []string{"topic"}, stdout: "Available Commands"},
		{name: "unknown flag", args: []string{"topic", "list", "--bogus"}, code: 2, stderr: "unknown flag: --bogus"},
		{name: "missing argument", args: []string{"topic", "describe"}, code: 2, stderr: "Run 'tern topic describe --help' for usage."},
		{name: "bad format", args: []string{"topic", "list", "--format", "yaml"}, code: 2, stderr: "--format must be table or json"},
		{name: "missing required flag", args: []string{"group", "reset-offsets", "g", "--to", "earliest"}, code: 2, stderr: `required flag(s) "topic" not set`},
		{name: "bad value", args: []string{"consume", "t", "--from", "middle"}, code: 2, stderr: `--from "middle": want beginning, end or an offset`},
		// serve keeps config's own flag parsing and help.
		{name: "serve help is config's", args: []string{"serve", "--help"}, stderr: "-kafka.listen"},
		{name: "help serve is config's", args: []string{"help", "serve"}, stderr: "-kafka.listen"},
		{name: "serve bad flag", args: []string{"serve", "--no-such-flag"}, code: 2, stderr: "flag provided but not defined: -no-such-flag"},
		{name: "serve bad value", args: []string{"serve", "--kafka.listen", ""}, code: 2, stderr: "tern serve:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(ctx, invocation{}, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if tc.stdoutSame && r.stdout != tc.stdout {
				t.Errorf("stdout %q, want %q", r.stdout, tc.stdout)
			}
			wantContains(t, "stdout", r.stdout, tc.stdout)
			wantContains(t, "stderr", r.stderr, tc.stderr)
		})
	}
}

// TestServeRunsANodeUntilCancelled runs `tern serve` in-process on free
// ports and stops it through the context, as SIGINT would.
func TestServeRunsANodeUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &testbroker.SyncBuffer{}
	done := make(chan int, 1)
	go func() {
		a := &cli{environ: map[string]string{}, stdin: strings.NewReader(""), stdout: &testbroker.SyncBuffer{}, stderr: stderr}
		done <- a.run(ctx, []string{"serve", "--data.dir", t.TempDir(), "--kafka.listen", "127.0.0.1:0",
			"--amqp.listen", "127.0.0.1:0", "--http.listen", "127.0.0.1:0"})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "tern is ready") {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not get ready:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The operator commands reach the node it started.
	m := regexp.MustCompile(`http=(\S+)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no http address in the ready line:\n%s", stderr)
	}
	r := runCLI(ctx, invocation{}, "--server", m[1], "cluster", "status")
	if r.code != 0 {
		t.Fatalf("cluster status: %d %s", r.code, r.stderr)
	}
	wantContains(t, "cluster status", r.stdout, "Version:    Tern dev\n")
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit %d:\n%s", code, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after cancellation")
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()

	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()

	t.Run("unreachable server", func(t *testing.T) {
		r := runCLI(ctx, invocation{}, "--server", dead, "topic", "list")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
		}
		wantContains(t, "stderr", r.stderr, `tern: cannot reach Tern's admin API at `+dead+` (is "tern serve" running? set --server or TERN_SERVER)`)
	})
	t.Run("server from TERN_SERVER", func(t *testing.T) {
		n := n.at(t)
		r := runCLI(ctx, invocation{environ: []string{"TERN_SERVER=" + n.HTTPAddr}}, "topic", "list")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		wantContains(t, "stdout", r.stdout, "NAME")
	})
	t.Run("wrong password", func(t *testing.T) {
		n := n.at(t)
		r := n.tern("", "--password", "nope", "topic", "list")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
		}
		wantContains(t, "stderr", r.stderr, `refused user "guest"`, "(the password came from --password)",
			"pass an administrator's credentials with --user and --password, or TERN_USER and TERN_PASSWORD", "login failed")
	})
	t.Run("wrong password from the environment", func(t *testing.T) {
		n := n.at(t)
		r := runCLI(ctx, invocation{environ: []string{"TERN_USER=guest", "TERN_PASSWORD=bad"}}, "--server", n.server(), "group", "list")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
		}
		wantContains(t, "stderr", r.stderr, `refused user "guest"`, "(the password came from TERN_PASSWORD)")
	})
	t.Run("flag beats environment", func(t *testing.T) {
		n := n.at(t)
		r := runCLI(ctx, invocation{environ: []string{"TERN_PASSWORD=bad", "TERN_SERVER=" + dead}},
			"--server", n.server(), "--password", "guest", "topic", "list")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
	t.Run("not found names the list command", func(t *testing.T) {
		n := n.at(t)
		stderr := n.fail(1, "topic", "describe", "nosuch")
		if got, want := stderr, "tern: topic \"nosuch\" not found (list topics with \"tern topic list\")\n"; got != want {
			t.Errorf("stderr %q, want %q", got, want)
		}
		wantContains(t, "stderr", n.fail(1, "queue", "purge", "nosuch"), `queue "nosuch" not found (list queues with "tern queue list")`)
		wantContains(t, "stderr", n.fail(1, "group", "describe", "nosuch"), `group "nosuch" not found (list groups with "tern group list")`)
		wantContains(t, "stderr", n.fail(1, "queue", "list", "--vhost", "other"), `vhost "other" not found`)
	})
	t.Run("API reason is printed", func(t *testing.T) {
		n := n.at(t)
		wantContains(t, "stderr", n.fail(1, "topic", "create", "bad", "--config", "retention.ms=soon"), "retention.ms")
	})
	t.Run("timeout", func(t *testing.T) {
		// A server that accepts and never answers.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		r := runCLI(ctx, invocation{}, "--server", "http://"+ln.Addr().String(), "--timeout", "200ms", "topic", "list")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
		}
		wantContains(t, "stderr", r.stderr, "did not answer GET /api/topics within 200ms (raise --timeout")
	})
}

func TestCompletion(t *testing.T) {
	n := startNode(t)
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		out := n.ok("completion", shell)
		if len(out) < 500 || !strings.Contains(out, "tern") {
			t.Errorf("completion %s: %d bytes: %.200s", shell, len(out), out)
		}
	}
	n.ok("topic", "create", "orders")
	n.ok("topic", "create", "payments")
	n.ok("queue", "declare", "jobs")
	n.ok("vhost", "create", "staging")
	// Cobra's hidden __complete is what the shell scripts call.
	for _, tc := range []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"__complete", "topic", "describe", ""}, []string{"orders", "payments"}, nil},
		{[]string{"__complete", "consume", "or"}, []string{"orders"}, []string{"payments"}},
		{[]string{"__complete", "queue", "purge", ""}, []string{"jobs"}, nil},
		{[]string{"__complete", "queue", "list", "--vhost", "st"}, []string{"staging"}, nil},
		{[]string{"__complete", "permission", "set", "guest", "--vhost", ""}, []string{"/", "staging"}, nil},
		{[]string{"__complete", "vhost", "delete", ""}, []string{"staging"}, nil},
		{[]string{"__complete", "group", "reset-offsets", "g", "--to", ""}, []string{"earliest", "shift"}, nil},
	} {
		out := n.ok(tc.args...)
		wantContains(t, "completion "+strings.Join(tc.args, " "), out, tc.want...)
		for _, no := range tc.not {
			if strings.Contains(out, no) {
				t.Errorf("completion %v offers %q:\n%s", tc.args, no, out)
			}
		}
	}
	// Failures complete nothing and do not complain.
	r := runCLI(context.Background(), invocation{}, "--server", "http://127.0.0.1:1", "__complete", "topic", "describe", "")
	if r.code != 0 || strings.Contains(r.stdout, "orders") {
		t.Errorf("completion against a dead server: exit %d, %q", r.code, r.stdout)
	}
}

// TestHTTPSWithCACert: against the HTTPS listener the CLI trusts the CA
// given with --cacert or TERN_CACERT, and without it says what to pass.
func TestHTTPSWithCACert(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithTLS("none"))
	ctx := context.Background()
	server := "https://localhost:" + b.HTTPSAddr[strings.LastIndex(b.HTTPSAddr, ":")+1:]
	r := runCLI(ctx, invocation{}, "--server", server, "--cacert", b.CA.CAFile, "topic", "list")
	if r.code != 0 {
		t.Fatalf("--cacert: exit %d: %s", r.code, r.stderr)
	}
	r = runCLI(ctx, invocation{environ: []string{"TERN_CACERT=" + b.CA.CAFile}}, "--server", server, "cluster", "status")
	if r.code != 0 {
		t.Fatalf("TERN_CACERT: exit %d: %s", r.code, r.stderr)
	}
	r = runCLI(ctx, invocation{}, "--server", server, "topic", "list")
	if r.code != 1 {
		t.Fatalf("untrusted: exit %d, want 1: %s", r.code, r.stderr)
	}
	wantContains(t, "stderr", r.stderr, "does not trust", "--cacert or TERN_CACERT")
	r = runCLI(ctx, invocation{}, "--server", server, "--cacert", b.CA.CAFile+".missing", "topic", "list")
	if r.code != 2 {
		t.Fatalf("missing CA file: exit %d, want 2: %s", r.code, r.stderr)
	}
}
