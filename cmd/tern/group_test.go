package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// commitOffsets seeds a consumer group the way a Kafka client would, by
// committing offsets with franz-go.
func commitOffsets(t *testing.T, n *node, group, topic string, offsets map[int32]int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var os kadm.Offsets
	for p, at := range offsets {
		os.Add(kadm.Offset{Topic: topic, Partition: p, At: at, LeaderEpoch: -1})
	}
	resps, err := kadm.NewClient(cl).CommitOffsets(ctx, group, os)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		t.Fatalf("commit offsets: %v", err)
	}
}

func TestGroups(t *testing.T) {
	n := startNode(t)
	n.ok("topic", "create", "orders", "--partitions", "2")
	n.okIn("a\nb\nc\nd\ne\nf\n", "produce", "orders", "--partition", "0")
	mid := time.Now()
	time.Sleep(5 * time.Millisecond)
	n.okIn("g\nh\ni\nj\n", "produce", "orders", "--partition", "1")
	commitOffsets(t, n, "billing", "orders", map[int32]int64{0: 4, 1: 1})
	commitOffsets(t, n, "audit", "orders", map[int32]int64{0: 6, 1: 4})

	t.Run("list", func(t *testing.T) {
		n := n.at(t)
		out := n.ok("group", "list")
		rs := rows(out)
		if got := strings.Join(rs[0], " "); got != "GROUP STATE MEMBERS LAG LAG-TIME" {
			t.Errorf("header %q", got)
		}
		if len(rs) != 3 || rs[1][0] != "audit" || rs[2][0] != "billing" {
			t.Fatalf("want audit then billing:\n%s", out)
		}
		// billing: (6-4) + (4-1) = 5 behind; audit is caught up.
		if rs[2][2] != "0" || rs[2][3] != "5" || rs[1][3] != "0" {
			t.Errorf("members/lag wrong:\n%s", out)
		}
	})

	t.Run("describe", func(t *testing.T) {
		n := n.at(t)
		out := n.ok("group", "describe", "billing")
		wantContains(t, "describe", out, "Group:    billing\n", "Members:  0\n",
			"TOPIC   PARTITION  COMMITTED  HIGH-WATERMARK  LAG  LAG-TIME\n")
		want := [][]string{{"orders", "0", "4", "6", "2"}, {"orders", "1", "1", "4", "3"}}
		var got [][]string
		for _, r := range rows(out) {
			if len(r) >= 6 && r[0] == "orders" {
				got = append(got, r[:5])
			}
		}
		if len(got) != 2 || strings.Join(got[0], " ") != strings.Join(want[0], " ") || strings.Join(got[1], " ") != strings.Join(want[1], " ") {
			t.Errorf("offset rows %v, want %v\n%s", got, want, out)
		}
		var d groupDetail
		if err := json.Unmarshal([]byte(n.ok("group", "describe", "billing", "--format", "json")), &d); err != nil {
			t.Fatal(err)
		}
		if d.Group != "billing" || len(d.Offsets) != 2 {
			t.Errorf("json: %+v", d)
		}
	})

	// committed returns billing's committed offsets by partition.
	committed := func() map[int32]int64 {
		var d groupDetail
		if err := json.Unmarshal([]byte(n.ok("group", "describe", "billing", "--format", "json")), &d); err != nil {
			t.Fatal(err)
		}
		m := map[int32]int64{}
		for _, o := range d.Offsets {
			m[o.Partition] = o.Committed
		}
		return m
	}

	t.Run("reset-offsets", func(t *testing.T) {
		n := n.at(t)
		out := n.ok("group", "reset-offsets", "billing", "--topic", "orders", "--to", "earliest", "--dry-run")
		want := "TOPIC   PARTITION  PREVIOUS  NEW\n" +
			"orders  0          4         0\n" +
			"orders  1          1         0\n" +
			"Dry run: nothing changed (run without --dry-run to apply).\n"
		if out != want {
			t.Errorf("dry run:\n%s\nwant:\n%s", out, want)
		}
		if c := committed(); c[0] != 4 || c[1] != 1 {
			t.Fatalf("dry run changed offsets: %v", c)
		}
		for _, tc := range []struct {
			args []string
			want map[int32]int64
		}{
			{[]string{"--to", "offset", "--offset", "2", "--partition", "0"}, map[int32]int64{0: 2, 1: 1}},
			{[]string{"--to", "shift", "--shift", "2"}, map[int32]int64{0: 4, 1: 3}},
			{[]string{"--to", "shift", "--shift", "-10", "--partition", "1"}, map[int32]int64{0: 4, 1: 0}},
			{[]string{"--to", "latest"}, map[int32]int64{0: 6, 1: 4}},
			// Partition 0's records all predate mid: it lands at the end.
			{[]string{"--to", "timestamp", "--timestamp", strconv.FormatInt(mid.UnixMilli(), 10)}, map[int32]int64{0: 6, 1: 0}},
			{[]string{"--to", "earliest", "--partition", "0,1"}, map[int32]int64{0: 0, 1: 0}},
		} {
			n.ok(append([]string{"group", "reset-offsets", "billing", "--topic", "orders"}, tc.args...)...)
			if c := committed(); c[0] != tc.want[0] || c[1] != tc.want[1] {
				t.Errorf("after %v: %v, want %v", tc.args, c, tc.want)
			}
		}
		out = n.ok("group", "reset-offsets", "fresh", "--topic", "orders", "--to", "latest", "--partition", "1")
		if r := row(out, "orders"); len(r) != 4 || r[2] != "-" || r[3] != "4" {
			t.Errorf("a group with no commits shows previous as -:\n%s", out)
		}
		for args, want := range map[string]string{
			"--to offset":                    "--to offset needs --offset N",
			"--to sideways":                  `--to "sideways": want earliest`,
			"--to earliest --offset 3":       "--offset goes with --to offset",
			"--to timestamp --timestamp bad": "want RFC 3339",
		} {
			a := append([]string{"group", "reset-offsets", "billing", "--topic", "orders"}, strings.Fields(args)...)
			wantContains(t, args, n.fail(2, a...), want)
		}
		wantContains(t, "unknown topic", n.fail(1, "group", "reset-offsets", "billing", "--topic", "nosuch", "--to", "earliest"), "nosuch")
	})

	t.Run("delete", func(t *testing.T) {
		n := n.at(t)
		if out := n.ok("group", "delete", "billing"); out != "Deleted group \"billing\".\n" {
			t.Errorf("delete: %q", out)
		}
		if row(n.ok("group", "list"), "billing") != nil {
			t.Error("billing still listed")
		}
		wantContains(t, "delete twice", n.fail(1, "group", "delete", "billing"), `group "billing" not found (list groups with "tern group list")`)
	})

	t.Run("a group with members", func(t *testing.T) {
		n := n.at(t)
		cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.ConsumerGroup("live"), kgo.ConsumeTopics("orders"),
			kgo.ClientID("cli-test"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		for seen := 0; seen < 10; {
			fs := cl.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				t.Fatalf("polling: %v", err)
			}
			seen += fs.NumRecords()
		}
		out := n.ok("group", "describe", "live")
		wantContains(t, "describe live", out, "Members:  1\n", "cli-test", "orders[0,1]")
		wantContains(t, "reset with members", n.fail(1, "group", "reset-offsets", "live", "--topic", "orders", "--to", "earliest"),
			`group "live" has active members: stop its consumers`)
		wantContains(t, "delete with members", n.fail(1, "group", "delete", "live"), `group "live" has active members: stop its consumers first`)
	})
}
