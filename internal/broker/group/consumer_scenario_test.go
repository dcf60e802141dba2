package group

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// Consumer-group (KIP-848) commands of TestScenarios, in
// testdata/consumer_*.txt. Each simulated member remembers the epoch and
// assignment of its last answer, so a heartbeat defaults to what a
// well-behaved client sends: its epoch and the partitions it owns (it
// revokes what an answer takes away at once).
//
//	cg-config [session=45s regex-refresh=10s max-size=0 assignors=(uniform,range)]
//	topics t1=4 t2=2        create or grow topics (ids are stable per name until deleted)
//	delete-topic t1         a re-created topic gets a new id
//	cg-join <group> member=M [topics=(..) regex=R assignor=A instance=I rack=R rebalance=30s client=c version=1 deny=(t,..)]
//	cg-hb <group> member=M [epoch=N owned=(t/p,..)|keepalive topics=(..) regex=R assignor=A rebalance=D instance=I]
//	cg-leave <group> member=M [static]
//	cg-describe <group>...
//	fetch-as <group> member=M epoch=N [partitions=(t/p,..)]
//
// After every command the simulated members' assignments are checked to be
// disjoint (no partition is consumed twice) and the coordinator's
// ownership index to match its members.

// testCatalog is a Topics for scenarios.
type testCatalog struct {
	topics   map[string]TopicMeta
	versions map[string]byte
	names    map[[16]byte]string // every id ever used, for printing
}

func newTestCatalog() *testCatalog {
	return &testCatalog{topics: map[string]TopicMeta{}, versions: map[string]byte{}, names: map[[16]byte]string{}}
}

func (c *testCatalog) TopicByName(n string) (TopicMeta, bool) { t, ok := c.topics[n]; return t, ok }
func (c *testCatalog) TopicByID(id [16]byte) (TopicMeta, bool) {
	for _, t := range c.topics {
		if t.ID == id {
			return t, true
		}
	}
	return TopicMeta{}, false
}
func (c *testCatalog) TopicNames() []string { return sortedKeys(c.topics) }

func (c *testCatalog) set(name string, partitions int32) {
	t, ok := c.topics[name]
	if !ok {
		copy(t.ID[:], name)
		t.ID[15] = c.versions[name]
		t.Name = name
		c.names[t.ID] = name
	}
	t.Partitions = partitions
	c.topics[name] = t
}

func (c *testCatalog) remove(name string) {
	delete(c.topics, name)
	c.versions[name]++
}

// idName prints a topic id: its name, with a version mark for a topic
// that was re-created.
func (c *testCatalog) idName(id [16]byte) string {
	n, ok := c.names[id]
	if !ok {
		return fmt.Sprintf("%x", id)
	}
	if id[15] > 0 {
		n += "#" + strconv.Itoa(int(id[15]))
	}
	return n
}

// simClient is what a simulated member knows.
type simClient struct {
	epoch    int32
	instance string
	assigned assignment
}

func (e *scenarioEnv) catalog() *testCatalog {
	if e.cat == nil {
		e.cat = newTestCatalog()
	}
	return e.cat
}

func (e *scenarioEnv) client(group, member string) *simClient {
	if e.clients == nil {
		e.clients = map[string]*simClient{}
	}
	k := group + "/" + member
	c := e.clients[k]
	if c == nil {
		c = &simClient{assigned: assignment{}}
		e.clients[k] = c
	}
	return c
}

// handleConsumer runs a consumer-group command; false if d is not one.
func (e *scenarioEnv) handleConsumer(t *testing.T, d *datadriven.TestData) bool {
	switch d.Cmd {
	case "topics":
		for _, a := range d.CmdArgs {
			n, err := strconv.ParseInt(a.Vals[0], 10, 32)
			if err != nil {
				d.Fatalf(t, "topics: %v", err)
			}
			e.catalog().set(a.Key, int32(n))
		}
		e.printf("ok\n")
	case "delete-topic":
		for _, a := range d.CmdArgs {
			e.catalog().remove(a.Key)
		}
		e.printf("ok\n")
	case "cg-config":
		for _, c := range []*Config{&e.cfg, &e.m.cfg} {
			c.ConsumerSessionTimeout = durArg(t, d, "session", c.ConsumerSessionTimeout)
			c.RegexRefreshInterval = durArg(t, d, "regex-refresh", c.RegexRefreshInterval)
			d.MaybeScanArgs(t, "max-size", &c.ConsumerMaxGroupSize)
			if d.HasArg("assignors") {
				c.ConsumerAssignors = listArg(d, "assignors")
			}
		}
		e.printf("ok\n")
	case "cg-join", "cg-hb", "cg-leave":
		e.consumerHeartbeat(t, d)
	case "cg-describe":
		for _, a := range d.CmdArgs {
			e.printConsumerDescription(e.m.consumerDescribe(a.Key))
		}
	case "fetch-as":
		var epoch int32
		d.ScanArgs(t, "epoch", &epoch)
		var topics map[string][]int32
		if _, ok := d.Arg("partitions"); ok {
			topics = map[string][]int32{}
			for _, v := range listArg(d, "partitions") {
				top, part := parseTP(t, d, v)
				topics[top] = append(topics[top], part)
			}
		}
		if err := e.m.validateFetch(groupArg(t, d), strArg(d, "member", ""), epoch); err != nil {
			e.printf("fetch: %s %q\n", errName(err), err.Error())
			break
		}
		for _, c := range e.m.fetch(groupArg(t, d), topics) {
			e.printf("%s/%d offset=%d\n", c.Topic, c.Partition, c.Offset)
		}
	default:
		return false
	}
	return true
}

func (e *scenarioEnv) consumerHeartbeat(t *testing.T, d *datadriven.TestData) {
	group := groupArg(t, d)
	member := strArg(d, "member", "")
	cl := e.client(group, member)
	r := ConsumerHeartbeatRequest{
		Group: group, MemberID: member, MemberEpoch: cl.epoch, RebalanceTimeoutMs: -1,
		ClientID: strArg(d, "client", "c"), ClientHost: "h", Version: 1,
	}
	if d.HasArg("version") {
		d.ScanArgs(t, "version", &r.Version)
	}
	optional := func(key string) *string {
		if arg, ok := d.Arg(key); ok {
			v := ""
			if len(arg.Vals) > 0 {
				v = arg.Vals[0]
			}
			return &v
		}
		return nil
	}
	r.InstanceID = optional("instance")
	if r.InstanceID == nil && cl.instance != "" && d.Cmd != "cg-join" {
		r.InstanceID = &cl.instance
	}
	r.RackID = optional("rack")
	r.ServerAssignor = optional("assignor")
	r.SubscribedRegex = optional("regex")
	if d.HasArg("topics") {
		r.SubscribedTopics = listArg(d, "topics")
		if r.SubscribedTopics == nil {
			r.SubscribedTopics = []string{}
		}
	}
	if rt := durArg(t, d, "rebalance", -1); rt >= 0 {
		r.RebalanceTimeoutMs = int32(rt.Milliseconds())
	}
	switch d.Cmd {
	case "cg-join":
		r.MemberEpoch = 0
		r.Owned = []TopicPartitions{}
		if r.RebalanceTimeoutMs == -1 {
			r.RebalanceTimeoutMs = 30_000
		}
		cl.assigned = assignment{}
		if r.InstanceID != nil {
			cl.instance = *r.InstanceID
		}
	case "cg-leave":
		r.MemberEpoch = LeaveEpoch
		if d.HasArg("static") {
			r.MemberEpoch = LeaveStaticEpoch
		}
	default:
		if d.HasArg("epoch") {
			d.ScanArgs(t, "epoch", &r.MemberEpoch)
		}
		switch {
		case d.HasArg("keepalive"):
		case d.HasArg("owned"):
			r.Owned = []TopicPartitions{}
			for _, v := range listArg(d, "owned") {
				top, part := parseTP(t, d, v)
				r.Owned = append(r.Owned, TopicPartitions{TopicID: e.idOf(d, t, top), Partitions: []int32{part}})
			}
		default:
			r.Owned = []TopicPartitions{}
			cl.assigned.each(func(id [16]byte, p int32) {
				r.Owned = append(r.Owned, TopicPartitions{TopicID: id, Partitions: []int32{p}})
			})
		}
	}
	if deny := listArg(d, "deny"); deny != nil {
		r.TopicAllowed = func(topic string) bool { return !slices.Contains(deny, topic) }
	}
	resp, eff := e.m.consumerHeartbeat(e.now, r)
	if err := e.effects(eff); err != nil && resp.Err == nil {
		resp = ConsumerHeartbeatResponse{Err: unavailable(err)}
	}
	if resp.Err != nil {
		e.printf("%s %s: %s %q\n", d.Cmd, member, errName(resp.Err), resp.Err.Error())
		if errors.Is(resp.Err, ErrFencedMemberEpoch) || errors.Is(resp.Err, ErrUnknownMemberID) {
			// The client abandons its partitions and will rejoin.
			cl.assigned, cl.epoch = assignment{}, 0
		}
		return
	}
	if resp.MemberID != member {
		e.printf("%s %s: member id %s\n", d.Cmd, member, resp.MemberID)
		delete(e.clients, group+"/"+member)
		e.clients[group+"/"+resp.MemberID] = cl
	}
	e.printf("%s %s: epoch=%d", d.Cmd, member, resp.MemberEpoch)
	if d.Cmd == "cg-leave" {
		e.printf("\n")
		delete(e.clients, group+"/"+member)
		return
	}
	cl.epoch = resp.MemberEpoch
	if resp.HasAssignment {
		cl.assigned = assignment{}
		for _, tp := range resp.Assignment {
			for _, p := range tp.Partitions {
				cl.assigned.add(tp.TopicID, p)
			}
		}
		e.printf(" assignment=%s", e.assignmentString(cl.assigned))
	}
	e.printf("\n")
}

// idOf is the id of a topic that exists, or that existed under that name.
func (e *scenarioEnv) idOf(d *datadriven.TestData, t *testing.T, name string) [16]byte {
	if m, ok := e.catalog().topics[name]; ok {
		return m.ID
	}
	for id, n := range e.catalog().names {
		if n == name {
			return id
		}
	}
	d.Fatalf(t, "unknown topic %s", name)
	return [16]byte{}
}

func (e *scenarioEnv) assignmentString(a assignment) string {
	if a.size() == 0 {
		return "[]"
	}
	var parts []string
	ids := a.topics()
	slices.SortFunc(ids, func(x, y [16]byte) int { return strings.Compare(e.catalog().idName(x), e.catalog().idName(y)) })
	for _, id := range ids {
		var ps []string
		for _, p := range a[id] {
			ps = append(ps, strconv.Itoa(int(p)))
		}
		parts = append(parts, e.catalog().idName(id)+"/"+strings.Join(ps, ","))
	}
	return strings.Join(parts, " ")
}

func (e *scenarioEnv) printConsumerDescription(d ConsumerDescription) {
	if d.Err != nil {
		e.printf("%s: %s %q\n", d.Group, errName(d.Err), d.Err.Error())
		return
	}
	e.printf("%s state=%s epoch=%d assignment-epoch=%d assignor=%s\n", d.Group, d.State, d.Epoch, d.AssignmentEpoch, d.Assignor)
	for _, m := range d.Members {
		e.printf("  member %s instance=%s epoch=%d topics=%v regex=%q assigned=%s target=%s\n", m.MemberID, m.InstanceID, m.MemberEpoch,
			m.SubscribedTopics, m.SubscribedRegex, tpString(m.Assignment), tpString(m.TargetAssignment))
	}
}

func tpString(tps []TopicPartitions) string {
	if len(tps) == 0 {
		return "[]"
	}
	var parts []string
	for _, tp := range tps {
		var ps []string
		for _, p := range tp.Partitions {
			ps = append(ps, strconv.Itoa(int(p)))
		}
		parts = append(parts, tp.Topic+"/"+strings.Join(ps, ","))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func (e *scenarioEnv) dumpConsumer(g *group) {
	cg := g.consumer
	rel := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Sub(scenarioEpoch).String()
	}
	e.printf("%s consumer %s epoch=%d assignment-epoch=%d next=%s\n", g.id, cg.state(), cg.epoch, cg.assignmentEpoch, rel(g.nextDeadline()))
	for _, t := range cg.subscribedMeta {
		e.printf("  topic %s partitions=%d\n", e.catalog().idName(t.ID), t.Partitions)
	}
	for _, id := range cg.memberIDs() {
		m := cg.members[id]
		e.printf("  member %s epoch=%d prev=%d state=%s assigned=%s pending=%s target=%s session=%s revoke=%s\n", id, m.epoch, m.prevEpoch, m.state,
			e.assignmentString(m.assigned), e.assignmentString(m.pending), e.assignmentString(cg.targets[id]), rel(m.sessionDeadline), rel(m.revokeDeadline))
	}
	for _, tp := range sortedPartitions(g.offsets) {
		e.printf("  offset %s/%d=%d\n", tp.topic, tp.partition, g.offsets[tp].offset)
	}
}

// describeConsumerRecord prints a consumer record for scenario output.
func describeConsumerRecord(k recordKey, r JournalRecord) string {
	names := map[int16]string{
		keyConsumerMetadata: "epoch", keyConsumerPartitions: "partition-metadata", keyConsumerMember: "member",
		keyConsumerTargetEpoch: "target-epoch", keyConsumerTargetMember: "target", keyConsumerCurrent: "current",
	}
	who := k.group
	if k.member != "" {
		who += "/" + k.member
	}
	if r.Value == nil {
		return fmt.Sprintf("cg %s %s tombstone", names[k.consumerKind], who)
	}
	m := newMachine(DefaultConfig())
	g := newGroup(k.group)
	if err := m.loadConsumer(g, k, r.Value); err != nil {
		return "undecodable: " + err.Error()
	}
	cg := g.consumer
	switch k.consumerKind {
	case keyConsumerMetadata:
		return fmt.Sprintf("cg epoch %s=%d", who, cg.epoch)
	case keyConsumerPartitions:
		var ts []string
		for _, t := range cg.subscribedMeta {
			ts = append(ts, fmt.Sprintf("%s:%d", t.Name, t.Partitions))
		}
		return fmt.Sprintf("cg partition-metadata %s [%s]", who, strings.Join(ts, " "))
	case keyConsumerMember:
		mem := cg.members[k.member]
		return fmt.Sprintf("cg member %s topics=%v regex=%q assignor=%q instance=%q", who, mem.subscribedTopics, mem.subscribedRegex, mem.serverAssignor, mem.instanceID)
	case keyConsumerTargetEpoch:
		return fmt.Sprintf("cg target-epoch %s=%d", who, cg.assignmentEpoch)
	case keyConsumerTargetMember:
		return fmt.Sprintf("cg target %s %s", who, rawAssignment(cg.targets[k.member]))
	default:
		mem := cg.members[k.member]
		return fmt.Sprintf("cg current %s epoch=%d prev=%d state=%s assigned=%s pending=%s", who, mem.epoch, mem.prevEpoch, mem.state,
			rawAssignment(mem.assigned), rawAssignment(mem.pending))
	}
}

// rawAssignment prints an assignment with the names scenario topic ids
// are made of.
func rawAssignment(a assignment) string {
	if a.size() == 0 {
		return "[]"
	}
	var parts []string
	for _, id := range a.topics() {
		name := strings.TrimRight(string(id[:15]), "\x00")
		if id[15] > 0 {
			name += "#" + strconv.Itoa(int(id[15]))
		}
		var ps []string
		for _, p := range a[id] {
			ps = append(ps, strconv.Itoa(int(p)))
		}
		parts = append(parts, name+"/"+strings.Join(ps, ","))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// checkConsumerInvariants fails the test if two simulated members believe
// they own the same partition, or if a group's ownership index disagrees
// with its members.
func (e *scenarioEnv) checkConsumerInvariants(t *testing.T, d *datadriven.TestData) {
	owners := map[string]string{}
	for _, k := range sortedKeys(e.clients) {
		group, member, _ := strings.Cut(k, "/")
		if g := e.m.groups[group]; g == nil || g.consumer == nil || g.consumer.members[member] == nil {
			// Fenced: the client's session ran out too, it lost its
			// partitions.
			e.clients[k].assigned = assignment{}
		}
		e.clients[k].assigned.each(func(id [16]byte, p int32) {
			key := fmt.Sprintf("%s %x/%d", group, id, p)
			if prev, ok := owners[key]; ok {
				d.Fatalf(t, "partition %s/%d owned by both %s and %s", e.catalog().idName(id), p, prev, k)
			}
			owners[key] = k
		})
	}
	for _, name := range sortedKeys(e.m.groups) {
		cg := e.m.groups[name].consumer
		if cg == nil {
			continue
		}
		want := map[topicPart]int32{}
		for _, m := range cg.members {
			for _, a := range []assignment{m.assigned, m.pending} {
				a.each(func(id [16]byte, p int32) {
					if _, dup := want[topicPart{id, p}]; dup {
						d.Fatalf(t, "group %s: partition %s/%d held by two members", name, e.catalog().idName(id), p)
					}
					want[topicPart{id, p}] = m.epoch
				})
			}
		}
		if len(want) != len(cg.owners) {
			d.Fatalf(t, "group %s: ownership index has %d partitions, members hold %d", name, len(cg.owners), len(want))
		}
		for tp, ep := range want {
			if cg.owners[tp] != ep {
				d.Fatalf(t, "group %s: ownership index disagrees on %s/%d", name, e.catalog().idName(tp.topic), tp.partition)
			}
		}
	}
}
