package group

import (
	"bytes"
	"testing"
	"time"
)

func TestGroupRecordRoundTrip(t *testing.T) {
	g := newGroup("g")
	g.protocolType, g.protocol, g.generation = "consumer", "range", 7
	g.addMember(&member{id: "a-1", instanceID: "ia", clientID: "a", clientHost: "h",
		protocols: []Protocol{{Name: "range", Metadata: subscription("t1")}}, sessionTimeout: 10 * time.Second,
		rebalanceTimeout: 30 * time.Second, assignment: []byte("A")})
	g.addMember(&member{id: "b-2", clientID: "b", protocols: []Protocol{{Name: "range", Metadata: []byte("x")}}})
	rec := groupRecord(g, time.UnixMilli(1234))
	m := newMachine(DefaultConfig())
	if err := m.load(rec); err != nil {
		t.Fatal(err)
	}
	m.finishLoad(time.UnixMilli(5000))
	got := m.groups["g"]
	if got.generation != 7 || got.protocol != "range" || got.leader != "a-1" || got.state != stable || len(got.order) != 2 {
		t.Fatalf("loaded %+v", got)
	}
	a := got.members["a-1"]
	if a.instanceID != "ia" || got.static["ia"] != "a-1" || string(a.assignment) != "A" || a.sessionTimeout != 10*time.Second ||
		!a.deadline.Equal(time.UnixMilli(15000)) {
		t.Fatalf("member %+v", a)
	}
	if md, _ := a.metadataFor("range"); !bytes.Equal(md, subscription("t1")) {
		t.Fatalf("metadata %q", md)
	}
}

func TestOffsetRecordRoundTripAndTombstone(t *testing.T) {
	m := newMachine(DefaultConfig())
	tp := topicPartition{"t", 3}
	for _, r := range []JournalRecord{
		offsetRecord("g", tp, offsetEntry{offset: 9, leaderEpoch: 2, metadata: "m", commitTime: time.UnixMilli(1)}),
		offsetRecord("g", topicPartition{"t", 4}, offsetEntry{offset: 1}),
		{Key: offsetKey("g", topicPartition{"t", 4})},
	} {
		if err := m.load(r); err != nil {
			t.Fatal(err)
		}
	}
	m.finishLoad(time.Now())
	got := m.fetch("g", nil)
	if len(got) != 1 || got[0] != (CommittedOffset{"t", 3, 9, 2, "m"}) {
		t.Fatalf("fetch = %+v", got)
	}
}

func TestParseSubscriptionTopics(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want []string
		ok   bool
	}{
		{subscription("a", "bb"), []string{"a", "bb"}, true},
		{subscription(), []string{}, true},
		{[]byte{0, 1, 0xff, 0xff, 0xff, 0xff}, nil, true},
		{[]byte("garbage"), nil, false},
		{nil, nil, false},
		{[]byte{0, 0, 0, 0, 0, 2, 0, 1, 'a'}, nil, false},
		{[]byte{0, 0, 0x7f, 0xff, 0xff, 0xff}, nil, false},
	} {
		got, ok := parseSubscriptionTopics(tc.in)
		if ok != tc.ok || len(got) != len(tc.want) {
			t.Errorf("parse(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzDecodeRecord checks that no journal bytes make the decoders panic.
func FuzzDecodeRecord(f *testing.F) {
	g := newGroup("g")
	g.addMember(&member{id: "m", protocols: []Protocol{{Name: "p"}}})
	rec := groupRecord(g, time.Unix(1, 0))
	f.Add(rec.Key, rec.Value)
	orec := offsetRecord("g", topicPartition{"t", 1}, offsetEntry{offset: 1})
	f.Add(orec.Key, orec.Value)
	f.Fuzz(func(t *testing.T, key, value []byte) {
		m := newMachine(DefaultConfig())
		_ = m.load(JournalRecord{Key: key, Value: value})
		m.finishLoad(time.Unix(0, 0))
		_, _ = parseSubscriptionTopics(value)
	})
}
