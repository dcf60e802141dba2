package interop_test

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// kcatFormat prints partition, offset, key and value of each message.
const kcatFormat = "%p:%o:%k:%s\n"

// parseKcat parses lines printed with kcatFormat.
func parseKcat(t *testing.T, out string) []rec {
	t.Helper()
	var recs []rec
	for _, l := range lines(out) {
		f := strings.SplitN(l, ":", 4)
		if len(f) != 4 {
			t.Fatalf("kcat printed %q, not partition:offset:key:value", l)
		}
		p, err1 := strconv.ParseInt(f[0], 10, 32)
		o, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("kcat printed %q: bad partition or offset", l)
		}
		recs = append(recs, rec{Partition: int32(p), Offset: o, Key: f[2], Value: f[3]})
	}
	return recs
}

// keyedInput is N lines key:value for `kcat -P -K:`.
func keyedInput(want map[string]string, from, n int) []byte {
	var b strings.Builder
	for i := from; i < from+n; i++ {
		k := fmt.Sprintf("k%d", i)
		fmt.Fprintf(&b, "%s:%s\n", k, want[k])
	}
	return []byte(b.String())
}

// keyIndex is i of key "k<i>".
func keyIndex(t *testing.T, k string) int {
	t.Helper()
	i, err := strconv.Atoi(strings.TrimPrefix(k, "k"))
	if err != nil {
		t.Fatalf("bad key %q", k)
	}
	return i
}

// checkProduceOrder checks that within each partition keys appear in the
// order they were produced (ascending index).
func checkProduceOrder(t *testing.T, who string, byPart map[int32][]rec) {
	t.Helper()
	for p, rs := range byPart {
		for i := 1; i < len(rs); i++ {
			if keyIndex(t, rs[i].Key) <= keyIndex(t, rs[i-1].Key) {
				t.Fatalf("%s: partition %d: %s at offset %d after %s at offset %d: not in produce order",
					who, p, rs[i].Key, rs[i].Offset, rs[i-1].Key, rs[i-1].Offset)
			}
		}
	}
}

// TestKcatProduceConsumeKeyed produces N keyed messages with `kcat -P -K:`
// to a 3-partition topic, reads them back with `kcat -C -o beginning -e`,
// and checks every key and value once, each key in the partition
// librdkafka's default partitioner (consistent_random: CRC32 of the key)
// chose, per-partition produce order with contiguous offsets from 0, and
// that the end offsets franz-go sees match.
func TestKcatProduceConsumeKeyed(t *testing.T) {
	interop(t)
	kcat := needKcat(t)
	b := startBroker(t)
	adm := admin(t, b.Addr)
	const topic, parts, n = "kcat-keyed", 3, 500
	createTopic(t, adm, topic, parts)

	want := wantKV("kcat", 0, n)
	run(t, 30*time.Second, keyedInput(want, 0, n), kcat, "-P", "-b", b.Addr, "-t", topic, "-K:")

	out := run(t, 30*time.Second, nil, kcat, "-C", "-b", b.Addr, "-t", topic, "-o", "beginning", "-e", "-f", kcatFormat)
	recs := parseKcat(t, out)
	byPart := checkExactlyOnce(t, "kcat -C", recs, want)
	checkContiguous(t, "kcat -C", byPart, map[int32]int64{})
	checkProduceOrder(t, "kcat -C", byPart)
	for _, r := range recs {
		if wantP := int32(crc32.ChecksumIEEE([]byte(r.Key)) % parts); r.Partition != wantP {
			t.Fatalf("key %s in partition %d, librdkafka's consistent_random partitioner picks %d", r.Key, r.Partition, wantP)
		}
	}
	if got := perPartitionCounts(byPart); !equalCounts(got, endOffsets(t, adm, topic)) || len(got) != parts {
		t.Fatalf("kcat read per-partition counts %v, franz-go end offsets %v", got, endOffsets(t, adm, topic))
	}
}

// kcatMetadata is the part of `kcat -L -J` output the tests read.
type kcatMetadata struct {
	OriginatingBroker struct {
		ID   int32  `json:"id"`
		Name string `json:"name"`
	} `json:"originating_broker"`
	ControllerID int32 `json:"controllerid"`
	Brokers      []struct {
		ID   int32  `json:"id"`
		Name string `json:"name"`
	} `json:"brokers"`
	Topics []struct {
		Topic      string `json:"topic"`
		Error      string `json:"error"`
		Partitions []struct {
			Partition int32  `json:"partition"`
			Leader    int32  `json:"leader"`
			Error     string `json:"error"`
			Replicas  []struct {
				ID int32 `json:"id"`
			} `json:"replicas"`
			ISRs []struct {
				ID int32 `json:"id"`
			} `json:"isrs"`
		} `json:"partitions"`
	} `json:"topics"`
}

// TestKcatMetadata lists metadata with `kcat -L -J`, for one topic and for
// all, and checks the single broker at the listener address, the
// controller, and every partition of the topics led by the broker with it
// as sole replica and ISR.
func TestKcatMetadata(t *testing.T) {
	interop(t)
	kcat := needKcat(t)
	b := startBroker(t)
	adm := admin(t, b.Addr)
	createTopic(t, adm, "kcat-meta-a", 5)
	createTopic(t, adm, "kcat-meta-b", 2)

	check := func(md kcatMetadata, want map[string]int) {
		t.Helper()
		if len(md.Brokers) != 1 || md.Brokers[0].Name != b.Addr || md.Brokers[0].ID != 1 {
			t.Errorf("brokers = %+v, want one: id 1 at %s", md.Brokers, b.Addr)
		}
		if md.ControllerID != 1 || md.OriginatingBroker.ID != 1 {
			t.Errorf("controller %d, originating broker %d; want 1, 1", md.ControllerID, md.OriginatingBroker.ID)
		}
		got := map[string]int{}
		for _, tp := range md.Topics {
			if tp.Error != "" {
				t.Errorf("topic %s: error %s", tp.Topic, tp.Error)
			}
			seen := map[int32]bool{}
			for _, p := range tp.Partitions {
				seen[p.Partition] = true
				if p.Error != "" || p.Leader != 1 || len(p.Replicas) != 1 || p.Replicas[0].ID != 1 || len(p.ISRs) != 1 || p.ISRs[0].ID != 1 {
					t.Errorf("topic %s partition %d: %+v, want leader 1, replicas [1], isrs [1], no error", tp.Topic, p.Partition, p)
				}
			}
			for i := 0; i < len(tp.Partitions); i++ {
				if !seen[int32(i)] {
					t.Errorf("topic %s: partitions %v do not run 0..%d", tp.Topic, seen, len(tp.Partitions)-1)
				}
			}
			got[tp.Topic] = len(tp.Partitions)
		}
		for name, n := range want {
			if got[name] != n {
				t.Errorf("topic %s: %d partitions listed, want %d (all listed: %v)", name, got[name], n, got)
			}
		}
	}

	var one kcatMetadata
	out := run(t, 20*time.Second, nil, kcat, "-L", "-J", "-b", b.Addr, "-t", "kcat-meta-a")
	if err := json.Unmarshal([]byte(out), &one); err != nil {
		t.Fatalf("kcat -L -J: %v\n%s", err, out)
	}
	if len(one.Topics) != 1 {
		t.Errorf("kcat -L -t kcat-meta-a listed %d topics, want 1", len(one.Topics))
	}
	check(one, map[string]int{"kcat-meta-a": 5})

	var all kcatMetadata
	out = run(t, 20*time.Second, nil, kcat, "-L", "-J", "-b", b.Addr)
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatalf("kcat -L -J: %v\n%s", err, out)
	}
	check(all, map[string]int{"kcat-meta-a": 5, "kcat-meta-b": 2})
}

// TestKcatCompression produces with each codec librdkafka has (`-z gzip,
// snappy, lz4, zstd`), one kcat run each so each codec makes its own
// batches, with compressible values, and reads the topic back with kcat
// and checks every message in produce order.
func TestKcatCompression(t *testing.T) {
	interop(t)
	kcat := needKcat(t)
	b := startBroker(t)
	adm := admin(t, b.Addr)
	const topic, per = "kcat-codecs", 50
	createTopic(t, adm, topic, 1)

	codecs := []string{"gzip", "snappy", "lz4", "zstd"}
	want := map[string]string{}
	pad := strings.Repeat("x", 300)
	for ci, codec := range codecs {
		w := map[string]string{}
		for i := ci * per; i < (ci+1)*per; i++ {
			w[fmt.Sprintf("k%d", i)] = fmt.Sprintf("v%d-%s-%s", i, codec, pad)
		}
		run(t, 30*time.Second, keyedInput(w, ci*per, per), kcat, "-P", "-b", b.Addr, "-t", topic, "-K:", "-z", codec)
		for k, v := range w {
			want[k] = v
		}
	}
	out := run(t, 30*time.Second, nil, kcat, "-C", "-b", b.Addr, "-t", topic, "-o", "beginning", "-e", "-f", kcatFormat)
	byPart := checkExactlyOnce(t, "kcat -C", parseKcat(t, out), want)
	checkContiguous(t, "kcat -C", byPart, map[int32]int64{})
	checkProduceOrder(t, "kcat -C", byPart)
}

// TestKcatGroup runs two `kcat -G` members of one group on a 4-partition
// topic. Once the group is stable with each member assigned two partitions
// (seen by franz-go's DescribeGroups), 100 messages go to each partition;
// each member must read exactly the 200 messages of its own partitions
// (kcat -c 200 ends it), in order, and after both leave the group's
// committed offsets (franz-go's OffsetFetch) must be 100 on every partition.
func TestKcatGroup(t *testing.T) {
	interop(t)
	kcat := needKcat(t)
	b := startBroker(t)
	adm := admin(t, b.Addr)
	const topic, group, parts, perPart = "kcat-group", "kcat-group-g", 4, 100
	createTopic(t, adm, topic, parts)

	member := func() *proc {
		return start(t, 60*time.Second, nil, nil, kcat, "-b", b.Addr, "-G", group,
			"-X", "auto.offset.reset=earliest",
			"-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500",
			"-c", strconv.Itoa(2*perPart), "-f", kcatFormat, topic)
	}
	m1, m2 := member(), member()

	// Wait for a stable group with two members of two partitions each.
	ctx := ctxT(t, 40*time.Second)
	var last string
	var assigned map[string][]int32
	for {
		dg, err := adm.DescribeGroups(ctx, group)
		if err == nil {
			g := dg[group]
			assigned = map[string][]int32{}
			for _, m := range g.Members {
				if c, ok := m.Assigned.AsConsumer(); ok {
					for _, tp := range c.Topics {
						assigned[m.MemberID] = append(assigned[m.MemberID], tp.Partitions...)
					}
				}
			}
			last = fmt.Sprintf("state %s, err %v, assignments %v", g.State, g.Err, assigned)
			if g.State == "Stable" && len(g.Members) == 2 && len(assigned) == 2 {
				ok := true
				for _, ps := range assigned {
					ok = ok && len(ps) == 2
				}
				if ok {
					break
				}
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("group %s did not settle to two members of two partitions each: %s\nmember 1 stderr:\n%s\nmember 2 stderr:\n%s",
				group, last, tail(m1.stderr.String(), 3000), tail(m2.stderr.String(), 3000))
		case <-m1.done:
			m1.wait(t)
			t.Fatalf("kcat member 1 exited before the group settled (%s)", last)
		case <-m2.done:
			m2.wait(t)
			t.Fatalf("kcat member 2 exited before the group settled (%s)", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Logf("group settled: %s", last)

	want := map[string]string{}
	for p := 0; p < parts; p++ {
		w := wantKV(fmt.Sprintf("p%d", p), p*perPart, perPart)
		run(t, 30*time.Second, keyedInput(w, p*perPart, perPart), kcat, "-P", "-b", b.Addr, "-t", topic, "-K:", "-p", strconv.Itoa(p))
		for k, v := range w {
			want[k] = v
		}
	}

	var all []rec
	memberParts := map[int][]int32{}
	for i, m := range []*proc{m1, m2} {
		recs := parseKcat(t, m.wait(t))
		byPart := checkExactlyOnce(t, fmt.Sprintf("member %d", i+1), recs, subset(want, recs))
		checkContiguous(t, fmt.Sprintf("member %d", i+1), byPart, map[int32]int64{})
		checkProduceOrder(t, fmt.Sprintf("member %d", i+1), byPart)
		for p, rs := range byPart {
			if len(rs) != perPart {
				t.Errorf("member %d read %d messages of partition %d, want %d", i+1, len(rs), p, perPart)
			}
			memberParts[i] = append(memberParts[i], p)
		}
		all = append(all, recs...)
	}
	checkExactlyOnce(t, "both members", all, want)
	for i, ps := range memberParts {
		sort.Slice(ps, func(a, b int) bool { return ps[a] < ps[b] })
		if len(ps) != 2 {
			t.Errorf("member %d read partitions %v, want two", i+1, ps)
		}
	}
	for _, r := range all {
		if wantP := int32(keyIndex(t, r.Key) / perPart); r.Partition != wantP {
			t.Fatalf("%s read from partition %d, was produced to %d", r.Key, r.Partition, wantP)
		}
	}

	// Both members committed on close (auto commit).
	got := committed(t, adm, group, topic)
	wantOffsets := map[int32]int64{0: perPart, 1: perPart, 2: perPart, 3: perPart}
	if !equalCounts(got, wantOffsets) {
		t.Fatalf("committed offsets of %s = %v, want %v", group, got, wantOffsets)
	}
	if dg, err := adm.DescribeGroups(ctxT(t, 10*time.Second), group); err == nil {
		if g := dg[group]; g.State != "Empty" || len(g.Members) != 0 {
			t.Errorf("after both kcat members left, group is %s with %d members, want Empty with none", g.State, len(g.Members))
		}
	}
}

// subset is want restricted to the keys in recs (for a member that reads
// only some partitions).
func subset(want map[string]string, recs []rec) map[string]string {
	out := map[string]string{}
	for _, r := range recs {
		if v, ok := want[r.Key]; ok {
			out[r.Key] = v
		}
	}
	return out
}

// TestKcatHeadersNullsOffsets produces 10 messages with two headers each
// (`-H`), then a message with a null value and one with a null key (`-Z`),
// and checks what kcat reads back: keys, values, headers, null key and
// value reported as length -1, offsets 0..11. Then logical and absolute
// start offsets: `-o -3` reads the last three, `-o 5 -c 2` offsets 5 and 6.
func TestKcatHeadersNullsOffsets(t *testing.T) {
	interop(t)
	kcat := needKcat(t)
	b := startBroker(t)
	adm := admin(t, b.Addr)
	const topic = "kcat-headers"
	createTopic(t, adm, topic, 1)

	var in strings.Builder
	var want []string
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&in, "k%d:v%d\n", i, i)
		want = append(want, fmt.Sprintf("%d|k%d|v%d|h1=x,h2=yy|2|2", i, i, i))
	}
	run(t, 30*time.Second, []byte(in.String()), kcat, "-P", "-b", b.Addr, "-t", topic, "-p", "0", "-K:", "-H", "h1=x", "-H", "h2=yy")
	run(t, 30*time.Second, []byte("knull:\n:vnokey\n"), kcat, "-P", "-b", b.Addr, "-t", topic, "-p", "0", "-K:", "-Z")
	want = append(want, "10|knull|||5|-1", "11||vnokey||-1|6")

	const format = "%o|%k|%s|%h|%K|%S\n"
	consume := func(args ...string) []string {
		t.Helper()
		return lines(run(t, 30*time.Second, nil, kcat, append([]string{"-C", "-b", b.Addr, "-t", topic, "-p", "0", "-f", format}, args...)...))
	}
	same := func(what string, got, want []string) {
		t.Helper()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s: kcat read (offset|key|value|headers|keylen|valuelen)\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	same("-o beginning -e", consume("-o", "beginning", "-e"), want)
	same("-o -3 -e", consume("-o", "-3", "-e"), want[9:])
	same("-o 5 -c 2", consume("-o", "5", "-c", "2"), want[5:7])
}
