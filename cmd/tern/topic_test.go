package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestTopicLifecycle(t *testing.T) {
	n := startNode(t)

	out := n.ok("topic", "create", "orders", "--partitions", "3", "--config", "retention.ms=3600000")
	if want := "Created topic \"orders\" with 3 partitions.\n"; out != want {
		t.Fatalf("create: %q, want %q", out, want)
	}
	wantContains(t, "create twice", n.fail(1, "topic", "create", "orders"),
		`topic "orders" already exists (see it with "tern topic describe orders")`)
	n.okIn("a\nb\nc\n", "produce", "orders", "--partition", "1")

	t.Run("list", func(t *testing.T) {
		n := n.at(t)
		n.ok("topic", "create", "audit")
		out := n.ok("topic", "list")
		rs := rows(out)
		if got := strings.Join(rs[0], " "); got != "NAME PARTITIONS MESSAGES SIZE INTERNAL" {
			t.Errorf("header %q", got)
		}
		// Sorted by name.
		if r := row(out, "audit"); r == nil || r[2] != "0" {
			t.Errorf("audit row %v in\n%s", r, out)
		}
		if r := row(out, "orders"); r == nil || r[1] != "3" || r[2] != "3" {
			t.Errorf("orders row %v in\n%s", r, out)
		}
		if strings.Index(out, "audit") > strings.Index(out, "orders") {
			t.Errorf("not sorted:\n%s", out)
		}
		var list []topicSummary
		if err := json.Unmarshal([]byte(n.ok("topic", "list", "--format", "json")), &list); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, tp := range list {
			if tp.Name == "orders" {
				found = tp.Partitions == 3 && tp.Messages == 3 && tp.SizeBytes > 0
			}
		}
		if !found {
			t.Errorf("json list: %+v", list)
		}
	})

	t.Run("describe", func(t *testing.T) {
		n := n.at(t)
		out := n.ok("topic", "describe", "orders")
		wantContains(t, "describe", out, "Topic:      orders\n", "Partitions: 3\n", "Messages:   3\n",
			"PARTITION  LEADER  START-OFFSET  HIGH-WATERMARK  MESSAGES  SIZE")
		if r := row(out, "1"); len(r) < 5 || r[2] != "0" || r[3] != "3" || r[4] != "3" {
			t.Errorf("partition 1 row %v in\n%s", r, out)
		}
		if r := row(out, "retention.ms"); len(r) != 3 || r[1] != "3600000" || r[2] != "topic" {
			t.Errorf("retention.ms row %v in\n%s", r, out)
		}
		// Defaults only with --all-configs.
		if row(out, "segment.bytes") != nil {
			t.Errorf("default config listed without --all-configs:\n%s", out)
		}
		if row(n.ok("topic", "describe", "orders", "--all-configs"), "segment.bytes") == nil {
			t.Errorf("--all-configs misses segment.bytes")
		}
	})

	t.Run("alter", func(t *testing.T) {
		n := n.at(t)
		out := n.ok("topic", "alter", "orders", "--config", "retention.ms=60000", "--config", "max.message.bytes=2048", "--partitions", "4")
		if want := "Altered topic \"orders\": set max.message.bytes=2048, set retention.ms=60000, partitions now 4.\n"; out != want {
			t.Errorf("alter: %q, want %q", out, want)
		}
		var d topicDetail
		if err := json.Unmarshal([]byte(n.ok("topic", "describe", "orders", "--format", "json")), &d); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, c := range d.Configs {
			if c.Source == "topic" {
				got[c.Name] = c.Value
			}
		}
		if len(d.Partitions) != 4 || got["retention.ms"] != "60000" || got["max.message.bytes"] != "2048" {
			t.Errorf("after alter: %d partitions, topic configs %v", len(d.Partitions), got)
		}
		n.ok("topic", "alter", "orders", "--delete-config", "retention.ms")
		if r := row(n.ok("topic", "describe", "orders", "--all-configs"), "retention.ms"); len(r) != 3 || r[2] == "topic" {
			t.Errorf("retention.ms still set on the topic: %v", r)
		}
		wantContains(t, "alter nothing", n.fail(2, "topic", "alter", "orders"), "nothing to change")
		wantContains(t, "alter unknown", n.fail(1, "topic", "alter", "nosuch", "--partitions", "2"), `topic "nosuch" not found`)
	})

	t.Run("delete asks first", func(t *testing.T) {
		n := n.at(t)
		// Not a terminal and no --yes: refuse, say how.
		stderr := n.fail(2, "topic", "delete", "audit")
		wantContains(t, "delete without --yes", stderr, `refusing to delete topic "audit" without confirmation: stdin is not a terminal, so pass --yes`)

		ctx := context.Background()
		server := []string{"--server", n.server(), "topic", "delete", "audit"}
		r := runCLI(ctx, invocation{stdin: "n\n", stdinTTY: true}, server...)
		if r.code != 1 || !strings.Contains(r.stderr, `Delete topic "audit" (1 partition, 0 messages)? [y/N] Not deleted.`) {
			t.Errorf("answer n: exit %d, stderr %q", r.code, r.stderr)
		}
		if row(n.ok("topic", "list"), "audit") == nil {
			t.Fatal("audit deleted after answering n")
		}
		r = runCLI(ctx, invocation{stdin: "y\n", stdinTTY: true}, server...)
		if r.code != 0 || r.stdout != "Deleted topic \"audit\".\n" {
			t.Errorf("answer y: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		out := n.ok("topic", "delete", "orders", "--yes")
		if out != "Deleted topic \"orders\".\n" {
			t.Errorf("delete --yes: %q", out)
		}
		list := n.ok("topic", "list")
		if row(list, "audit") != nil || row(list, "orders") != nil {
			t.Errorf("deleted topics still listed:\n%s", list)
		}
		wantContains(t, "delete twice", n.fail(1, "topic", "delete", "orders", "--yes"), `topic "orders" not found`)
	})
}
