package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/testbroker"
)

func TestProduceThenConsume(t *testing.T) {
	n := startNode(t)
	n.ok("topic", "create", "events", "--partitions", "1")

	out := n.okIn("user1:login\nuser2:logout\n\nno-key-here\n", "produce", "events", "-K", ":", "-H", "source=cli", "-H", "env=test")
	if want := "PARTITION  OFFSET\n0          0\n0          1\n0          2\n"; out != want {
		t.Fatalf("produce printed %q, want %q", out, want)
	}
	out = n.ok("produce", "events", "--key", "k9", "--value", "single value", "--partition", "0", "--format", "json")
	if want := "{\"partition\":0,\"offset\":3}\n"; out != want {
		t.Fatalf("produce --value --format json printed %q, want %q", out, want)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"values from the beginning", nil, "login\nlogout\nno-key-here\nsingle value\n"},
		{"keys", []string{"--print-key"}, "user1\tlogin\nuser2\tlogout\n\tno-key-here\nk9\tsingle value\n"},
		{"headers and keys", []string{"--print-headers", "--print-key", "-n", "2"},
			"source=cli,env=test\tuser1\tlogin\nsource=cli,env=test\tuser2\tlogout\n"},
		{"from an offset", []string{"--from", "2"}, "no-key-here\nsingle value\n"},
		{"one partition with a limit", []string{"--partition", "0", "--limit", "1"}, "login\n"},
		{"from the end", []string{"--from", "end"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := n.at(t)
			out := n.ok(append([]string{"consume", "events"}, tc.args...)...)
			if out != tc.want {
				t.Errorf("consume %v:\n got %q\nwant %q", tc.args, out, tc.want)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		n := n.at(t)
		out := n.ok("consume", "events", "--format", "json", "-n", "2")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("want 2 lines, got %q", out)
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
			t.Fatal(err)
		}
		ts, _ := r["timestamp"].(float64)
		if time.Since(time.UnixMilli(int64(ts))) > time.Minute {
			t.Errorf("timestamp %v", r["timestamp"])
		}
		delete(r, "timestamp")
		got, _ := json.Marshal(r)
		want := `{"headers":[{"key":"source","value":"cli","value_encoding":"utf8"},{"key":"env","value":"test","value_encoding":"utf8"}],` +
			`"key":"user1","key_encoding":"utf8","offset":0,"partition":0,"value":"login","value_encoding":"utf8"}`
		if string(got) != want {
			t.Errorf("record 0:\n got %s\nwant %s", got, want)
		}
		if !strings.Contains(lines[1], `"offset":1`) || !strings.Contains(lines[1], `"value":"logout"`) {
			t.Errorf("record 1: %s", lines[1])
		}
	})

	t.Run("from a timestamp", func(t *testing.T) {
		n := n.at(t)
		time.Sleep(5 * time.Millisecond)
		mid := time.Now()
		time.Sleep(5 * time.Millisecond)
		n.okIn("later one\nlater two\n", "produce", "events")
		for _, ts := range []string{strconv.FormatInt(mid.UnixMilli(), 10), mid.UTC().Format(time.RFC3339Nano)} {
			if out := n.ok("consume", "events", "--timestamp", ts); out != "later one\nlater two\n" {
				t.Errorf("--timestamp %s: %q", ts, out)
			}
		}
		wantContains(t, "--from with --timestamp", n.fail(2, "consume", "events", "--from", "1", "--timestamp", "1"), "exclude each other")
		wantContains(t, "bad timestamp", n.fail(2, "consume", "events", "--timestamp", "yesterday"), "want RFC 3339")
	})

	t.Run("bytes that are not text", func(t *testing.T) {
		n := n.at(t)
		n.ok("topic", "create", "raw", "--partitions", "1")
		bin := "\xff\xfe\x00binary"
		n.okIn(bin+"\n", "produce", "raw")
		if out := n.ok("consume", "raw"); out != bin+"\n" {
			t.Errorf("consume raw: %q", out)
		}
		if out := n.ok("consume", "raw", "--format", "json"); !strings.Contains(out, `"value":"//4AYmluYXJ5","value_encoding":"base64"`) {
			t.Errorf("consume raw json: %s", out)
		}
	})

	t.Run("keys pick partitions", func(t *testing.T) {
		n := n.at(t)
		n.ok("topic", "create", "keyed", "--partitions", "4")
		out := n.okIn("a=1\nb=2\na=3\n", "produce", "keyed", "-K", "=", "--format", "json")
		var offs []struct{ Partition, Offset int }
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var o struct{ Partition, Offset int }
			if err := json.Unmarshal([]byte(l), &o); err != nil {
				t.Fatal(err)
			}
			offs = append(offs, o)
		}
		if len(offs) != 3 || offs[0].Partition != offs[2].Partition || offs[2].Offset <= offs[0].Offset {
			t.Errorf("same key, different partitions or offsets: %+v", offs)
		}
		all := n.ok("consume", "keyed", "--print-key")
		for _, want := range []string{"a\t1\n", "b\t2\n", "a\t3\n"} {
			wantContains(t, "consume keyed", all, want)
		}
		if one := n.ok("consume", "keyed", "--partition", strconv.Itoa(offs[0].Partition)); !strings.HasPrefix(one, "1\n") || !strings.Contains(one, "3\n") {
			t.Errorf("partition %d: %q", offs[0].Partition, one)
		}
	})

	t.Run("more records than one request carries", func(t *testing.T) {
		n := n.at(t)
		n.ok("topic", "create", "big", "--partitions", "2")
		var in, want strings.Builder
		const count = 2*produceBatchRecords + 3*consumePerRequest + 7
		for i := range count {
			fmt.Fprintf(&in, "v%d\n", i)
		}
		out := n.okIn(in.String(), "produce", "big", "--format", "json")
		if got := strings.Count(out, "\n"); got != count {
			t.Fatalf("produce printed %d offsets, want %d", got, count)
		}
		// Consume one partition: its values come in produce order.
		var p0 []string
		for l := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
			var o struct{ Partition, Offset int }
			if err := json.Unmarshal([]byte(l), &o); err != nil {
				t.Fatal(err)
			}
			if o.Partition == 0 {
				p0 = append(p0, strconv.Itoa(o.Offset))
			}
		}
		got := n.ok("consume", "big")
		if c := strings.Count(got, "\n"); c != count {
			t.Errorf("consume printed %d records, want %d", c, count)
		}
		for i := range count {
			fmt.Fprintf(&want, "v%d\n", i)
		}
		lines := strings.Split(strings.TrimSpace(got), "\n")
		sorted := append([]string(nil), lines...)
		slices.SortFunc(sorted, func(a, b string) int { return cmpNum(a[1:], b[1:]) })
		if strings.Join(sorted, "\n")+"\n" != want.String() {
			t.Error("consume did not print every record exactly once")
		}
		if got := n.ok("consume", "big", "--partition", "0", "--format", "json"); strings.Count(got, "\n") != len(p0) {
			t.Errorf("partition 0: %d records, want %d", strings.Count(got, "\n"), len(p0))
		}
		if got := n.ok("consume", "big", "-n", strconv.Itoa(consumePerRequest+1)); strings.Count(got, "\n") != consumePerRequest+1 {
			t.Errorf("-n %d printed %d", consumePerRequest+1, strings.Count(got, "\n"))
		}
	})

	t.Run("errors", func(t *testing.T) {
		n := n.at(t)
		wantContains(t, "unknown topic", n.fail(1, "produce", "nosuch", "--value", "x"), `topic "nosuch" not found (list topics with "tern topic list")`)
		wantContains(t, "unknown partition", n.fail(2, "consume", "events", "--partition", "5"), `topic "events" has 1 partition (0 to 0); --partition 5 is not one`)
		wantContains(t, "unknown topic and partition", n.fail(1, "consume", "nosuch", "--partition", "0"), `topic "nosuch" not found`)
		wantContains(t, "empty stdin", n.fail(2, "produce", "events"), "stdin was empty")
		wantContains(t, "key and delimiter", n.fail(2, "produce", "events", "--key", "k", "-K", ":"), "exclude each other")
		wantContains(t, "bad header", n.fail(2, "produce", "events", "-H", "novalue", "--value", "v"), `--header "novalue": want key=value`)
	})
}

// TestConsumeFollow starts consume --follow, produces while it waits,
// sees the record arrive, and stops it through the context as Ctrl-C
// would.
func TestConsumeFollow(t *testing.T) {
	n := startNode(t)
	n.ok("topic", "create", "live", "--partitions", "2")
	n.okIn("old\n", "produce", "live")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &testbroker.SyncBuffer{}
	done := make(chan result, 1)
	go func() {
		done <- runCLI(ctx, invocation{stdout: out}, "--server", n.server(), "consume", "live", "--from", "end", "-f", "--print-key")
	}()
	// Produce until the follower shows a record: the first few may land
	// before its first poll fixed "end".
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; !strings.Contains(out.String(), "\tnew-"); i++ {
		if time.Now().After(deadline) {
			t.Fatalf("consume -f saw nothing; output %q", out.String())
		}
		n.ok("produce", "live", "--key", "k", "--value", "new-"+strconv.Itoa(i))
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	select {
	case r := <-done:
		if r.code != 0 {
			t.Fatalf("consume -f ended with %d: %s", r.code, r.stderr)
		}
		if strings.Contains(r.stdout, "old") {
			t.Errorf("--from end printed the old record: %q", r.stdout)
		}
		if !strings.HasPrefix(r.stdout, "k\tnew-") {
			t.Errorf("output %q", r.stdout)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("consume -f did not stop when its context was cancelled")
	}

	// --follow with --limit ends by itself.
	r := runCLI(context.Background(), invocation{}, "--server", n.server(), "consume", "live", "-f", "-n", "1")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("consume -f -n 1: exit %d, %q %s", r.code, r.stdout, r.stderr)
	}
}

func cmpNum(a, b string) int {
	x, _ := strconv.Atoi(a)
	y, _ := strconv.Atoi(b)
	return x - y
}
