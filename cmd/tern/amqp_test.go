package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestQueuesExchangesBindings(t *testing.T) {
	n := startNode(t)

	t.Run("queue declare", func(t *testing.T) {
		n := n.at(t)
		if out := n.ok("queue", "declare", "jobs", "--arg", "x-max-length=10", "--arg", "x-overflow=reject-publish"); out != "Declared queue \"jobs\".\n" {
			t.Errorf("declare: %q", out)
		}
		if out := n.ok("queue", "declare", "jobs", "--arg", "x-max-length=10", "--arg", "x-overflow=reject-publish"); out != "Queue \"jobs\" already exists with these properties.\n" {
			t.Errorf("declare again: %q", out)
		}
		n.ok("queue", "declare", "audit", "--durable=false", "--arg-json", `{"x-message-ttl": 60000, "x-dead-letter-exchange": "dlx"}`)
		wantContains(t, "bad --arg-json", n.fail(2, "queue", "declare", "x", "--arg-json", "[1]"), "--arg-json: want a JSON object")

		var qs []queueInfo
		if err := json.Unmarshal([]byte(n.ok("queue", "list", "--format", "json")), &qs); err != nil {
			t.Fatal(err)
		}
		byName := map[string]queueInfo{}
		for _, q := range qs {
			byName[q.Name] = q
		}
		jobs, audit := byName["jobs"], byName["audit"]
		// Typed arguments: numbers arrive as numbers, not strings.
		if jobs.Arguments["x-max-length"] != float64(10) || jobs.Arguments["x-overflow"] != "reject-publish" || !jobs.Durable {
			t.Errorf("jobs: %+v", jobs)
		}
		if audit.Arguments["x-message-ttl"] != float64(60000) || audit.Durable {
			t.Errorf("audit: %+v", audit)
		}
		out := n.ok("queue", "list")
		if got := strings.Join(rows(out)[0], " "); got != "NAME TYPE DURABLE MESSAGES READY UNACKED READY-BYTES CONSUMERS ARGUMENTS" {
			t.Errorf("header %q", got)
		}
		wantContains(t, "queue list", out, `{"x-max-length":10,"x-overflow":"reject-publish"}`)
		if strings.Index(out, "audit") > strings.Index(out, "jobs") {
			t.Errorf("not sorted:\n%s", out)
		}
	})

	t.Run("exchange declare", func(t *testing.T) {
		n := n.at(t)
		if out := n.ok("exchange", "declare", "events", "--type", "topic"); out != "Declared topic exchange \"events\".\n" {
			t.Errorf("declare: %q", out)
		}
		wantContains(t, "no type", n.fail(2, "exchange", "declare", "x"), `required flag(s) "type" not set`)
		wantContains(t, "bad type", n.fail(2, "exchange", "declare", "x", "--type", "round-robin"), "want direct, topic, fanout or headers")
		wantContains(t, "redeclare differently", n.fail(1, "exchange", "declare", "events", "--type", "fanout"), "events")
		out := n.ok("exchange", "list")
		if r := row(out, "events"); strings.Join(r, " ") != "events topic yes no no" {
			t.Errorf("events row %v in\n%s", r, out)
		}
		wantContains(t, "exchange list", out, "(AMQP default)", "amq.topic")
	})

	t.Run("bindings route publishes", func(t *testing.T) {
		n := n.at(t)
		out := n.ok("binding", "declare", "--source", "events", "--destination", "jobs", "--routing-key", "order.*")
		if out != "Bound queue \"jobs\" to exchange \"events\" with routing key \"order.*\".\n" {
			t.Errorf("declare: %q", out)
		}
		n.ok("binding", "declare", "--source", "events", "--destination", "audit", "--routing-key", "#")
		out = n.ok("binding", "list", "--source", "events")
		want := "SOURCE  DESTINATION  TYPE   ROUTING-KEY  ARGUMENTS  PROPERTIES-KEY\n" +
			"events  audit        queue  #                       #\n" +
			"events  jobs         queue  order.*                 order.*\n"
		if out != want {
			t.Errorf("binding list:\n%s\nwant:\n%s", out, want)
		}
		// The default exchange's implicit bindings show when unfiltered.
		wantContains(t, "all bindings", n.ok("binding", "list"), "(AMQP default)")

		n.ok("publish", "--exchange", "events", "--routing-key", "order.created", "--body", "o1")
		n.ok("publish", "--exchange", "events", "--routing-key", "user.created", "--body", "u1")
		counts := func() map[string]int64 {
			var qs []queueInfo
			if err := json.Unmarshal([]byte(n.ok("queue", "list", "--format", "json")), &qs); err != nil {
				t.Fatal(err)
			}
			m := map[string]int64{}
			for _, q := range qs {
				m[q.Name] = q.Messages
			}
			return m
		}
		if c := counts(); c["jobs"] != 1 || c["audit"] != 2 {
			t.Errorf("after publishing: %v", c)
		}
		if r := row(n.ok("queue", "list"), "audit"); len(r) < 5 || r[3] != "2" || r[4] != "2" {
			t.Errorf("audit row %v", r)
		}

		if out := n.ok("queue", "purge", "audit"); out != "Purged queue \"audit\".\n" {
			t.Errorf("purge: %q", out)
		}
		if c := counts(); c["audit"] != 0 || c["jobs"] != 1 {
			t.Errorf("after purge: %v", c)
		}

		out = n.ok("binding", "delete", "--source", "events", "--destination", "jobs", "--routing-key", "order.*")
		if out != "Deleted binding from exchange \"events\" to queue \"jobs\" (routing key \"order.*\").\n" {
			t.Errorf("binding delete: %q", out)
		}
		wantContains(t, "delete again", n.fail(1, "binding", "delete", "--source", "events", "--destination", "jobs", "--routing-key", "order.*"),
			`no binding from exchange "events" to queue "jobs" with routing key "order.*"`)
		// audit's "#" still takes order.* keys; jobs no longer does.
		n.ok("publish", "--exchange", "events", "--routing-key", "order.paid", "--body", "o2")
		if c := counts(); c["audit"] != 1 || c["jobs"] != 1 {
			t.Errorf("after unbinding jobs: %v", c)
		}
	})

	t.Run("unroutable publish fails", func(t *testing.T) {
		n := n.at(t)
		n.ok("exchange", "declare", "lonely", "--type", "direct")
		stderr := n.fail(1, "publish", "--exchange", "lonely", "--routing-key", "k", "--body", "x")
		wantContains(t, "unroutable", stderr, `no queue is bound to it with a matching routing key "k", so it was dropped`)
	})

	t.Run("delete", func(t *testing.T) {
		n := n.at(t)
		n.ok("publish", "--routing-key", "jobs", "--body", "left")
		wantContains(t, "if-empty", n.fail(1, "queue", "delete", "jobs", "--if-empty"), `queue "jobs" not deleted`)
		if out := n.ok("queue", "delete", "jobs"); out != "Deleted queue \"jobs\".\n" {
			t.Errorf("delete: %q", out)
		}
		if out := n.ok("exchange", "delete", "events"); out != "Deleted exchange \"events\".\n" {
			t.Errorf("exchange delete: %q", out)
		}
		if row(n.ok("queue", "list"), "jobs") != nil || row(n.ok("exchange", "list"), "events") != nil {
			t.Error("deleted queue or exchange still listed")
		}
		wantContains(t, "delete twice", n.fail(1, "queue", "delete", "jobs"), `queue "jobs" not found (list queues with "tern queue list")`)
		wantContains(t, "exchange twice", n.fail(1, "exchange", "delete", "events"), `exchange "events" not found (list exchanges with "tern exchange list")`)
	})
}

func TestPublishThenGet(t *testing.T) {
	n := startNode(t)
	n.ok("queue", "declare", "inbox")

	out := n.ok("publish", "--routing-key", "inbox", "--body", "first", "--header", "trace=abc", "--content-type", "text/plain")
	if out != "Published 5 B to exchange \"(AMQP default)\" with routing key \"inbox\".\n" {
		t.Errorf("publish: %q", out)
	}
	n.okIn("second\nline", "publish", "--routing-key", "inbox", "--persistent=false")

	// Peek: the message stays.
	out = n.ok("get", "inbox")
	want := "#  EXCHANGE        ROUTING-KEY  REDELIVERED  SIZE  PAYLOAD\n" +
		"1  (AMQP default)  inbox        no           5 B   first\n" +
		"Requeued 1 message(s): they stay in queue \"inbox\" (--ack removes them).\n"
	if out != want {
		t.Errorf("get:\n%s\nwant:\n%s", out, want)
	}
	var msgs []gotMessage
	if err := json.Unmarshal([]byte(n.ok("get", "inbox", "-n", "5", "--format", "json")), &msgs); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Payload != "first" || msgs[1].Payload != "second\nline" {
		t.Fatalf("get -n 5: %+v", msgs)
	}
	p0, p1 := msgs[0].Properties, msgs[1].Properties
	if p0["content_type"] != "text/plain" || p0["delivery_mode"] != float64(2) || p1["delivery_mode"] != float64(1) {
		t.Errorf("properties: %v / %v", p0, p1)
	}
	if h, _ := p0["headers"].(map[string]any); h["trace"] != "abc" {
		t.Errorf("headers: %v", p0["headers"])
	}
	if !msgs[0].Redelivered {
		t.Error("a peeked message comes back redelivered")
	}

	// --ack takes it off the queue.
	out = n.ok("get", "inbox", "--ack")
	wantContains(t, "get --ack", out, "first", "Removed 1 message(s) from queue \"inbox\"; 1 left ready.\n")
	out = n.ok("get", "inbox", "--ack")
	wantContains(t, "get --ack", out, `second\nline`, "0 left ready")
	if out := n.ok("get", "inbox"); out != "Queue \"inbox\" has no ready messages.\n" {
		t.Errorf("get on empty: %q", out)
	}
	wantContains(t, "get unknown", n.fail(1, "get", "nosuch"), `queue "nosuch" not found`)
	wantContains(t, "requeue and ack", n.fail(2, "get", "inbox", "--ack", "--requeue"), "exclude each other")
}
