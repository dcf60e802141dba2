package interop_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// needAMQPTools fails the test when amqp-tools (rabbitmq-c's command-line
// clients) are not installed, and returns the path of each tool.
func needAMQPTools(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tool := range []string{"amqp-declare-queue", "amqp-publish", "amqp-get", "amqp-consume"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s not found on PATH: %v; %s", tool, err, installHint)
		}
		out[tool] = p
	}
	return out
}

// TestAMQPToolsRoundTrip declares a durable queue with amqp-declare-queue,
// publishes with amqp-publish (-b bodies, persistent with a content type
// and a header; and -l, one message a stdin line), reads one back with
// amqp-get and the rest with `amqp-consume -c N cat`, and checks every
// body byte for byte, in order, and that the queue is empty afterwards;
// amqp091-go checks what amqp-publish's -p, -C and -H set.
func TestAMQPToolsRoundTrip(t *testing.T) {
	interop(t)
	tools := needAMQPTools(t)
	b := startBroker(t)
	url := "amqp://guest:guest@" + b.AMQPAddr
	const q = "tools-q"

	out := run(t, 20*time.Second, nil, tools["amqp-declare-queue"], "-u", url, "-q", q, "-d")
	if strings.TrimSpace(out) != q {
		t.Fatalf("amqp-declare-queue printed %q, want %q", out, q)
	}

	var want []string
	for i := range 5 {
		body := fmt.Sprintf("tools-%d:payload with spaces\n", i)
		run(t, 20*time.Second, nil, tools["amqp-publish"], "-u", url, "-r", q, "-b", body)
		want = append(want, body)
	}
	var lineInput strings.Builder
	for i := 5; i < 10; i++ {
		fmt.Fprintf(&lineInput, "line-%d\n", i)
		// rabbitmq-c's -l keeps each line's newline in the body.
		want = append(want, fmt.Sprintf("line-%d\n", i))
	}
	run(t, 20*time.Second, []byte(lineInput.String()), tools["amqp-publish"], "-u", url, "-r", q, "-l")

	// amqp-get takes the head of the queue.
	if got := run(t, 20*time.Second, nil, tools["amqp-get"], "-u", url, "-q", q); got != want[0] {
		t.Fatalf("amqp-get printed %q, want %q", got, want[0])
	}
	// amqp-consume runs cat once per message, body on stdin.
	got := run(t, 30*time.Second, nil, tools["amqp-consume"], "-u", url, "-q", q, "-c", fmt.Sprint(len(want)-1), "cat")
	if w := strings.Join(want[1:], ""); got != w {
		t.Fatalf("amqp-consume -c %d cat printed\n%q\nwant\n%q", len(want)-1, got, w)
	}

	conn, err := amqp.Dial(b.AMQPURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	qi, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
	if err != nil {
		t.Fatalf("passive declare %s: %v", q, err)
	}
	if qi.Messages != 0 {
		t.Fatalf("%s holds %d messages after amqp-get and amqp-consume took all, want 0", q, qi.Messages)
	}

	// Properties set by amqp-publish.
	run(t, 20*time.Second, nil, tools["amqp-publish"], "-u", url, "-r", q, "-p", "-C", "application/x-tern", "-H", "x-from: amqp-tools", "-b", "with-props")
	run(t, 20*time.Second, []byte("one line\n"), tools["amqp-publish"], "-u", url, "-r", q, "-l")
	d, ok, err := ch.Get(q, true)
	if err != nil || !ok {
		t.Fatalf("get after amqp-publish -p -C -H: ok=%v err=%v", ok, err)
	}
	if string(d.Body) != "with-props" || d.DeliveryMode != amqp.Persistent || d.ContentType != "application/x-tern" || d.Headers["x-from"] != "amqp-tools" {
		t.Fatalf("amqp-publish -p -C -H: body %q, delivery mode %d, content type %q, headers %v; want with-props, 2, application/x-tern, {x-from: amqp-tools}",
			d.Body, d.DeliveryMode, d.ContentType, d.Headers)
	}
	if d, ok, err := ch.Get(q, true); err != nil || !ok || string(d.Body) != "one line\n" {
		t.Fatalf("get after amqp-publish -l: ok=%v err=%v body %q, want %q", ok, err, d.Body, "one line\n")
	}
	// And amqp-get on the now empty queue must not print a message.
	p := start(t, 20*time.Second, nil, nil, tools["amqp-get"], "-u", url, "-q", q)
	<-p.done
	if p.err == nil || p.stdout.Len() != 0 {
		t.Fatalf("amqp-get on an empty queue: err %v, stdout %q; want a non-zero exit and no output (stderr %q)", p.err, p.stdout.String(), p.stderr.String())
	}
}
