package group

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// TestScenarios runs the datadriven scripts in testdata/ against the state
// machine, with a fake clock that only moves on "tick". Regenerate the
// expectations with `go test -run TestScenarios -rewrite` and review the
// diff.
//
// Commands (defaults in brackets):
//
//	config [min-session=6s max-session=30m initial-delay=3s max-size=0 max-meta=4096]
//	join <group> req=N [member= instance= client=c host=h type=consumer
//	     protocols=(range) topics=(...) meta=<raw> session=10s rebalance=30s requireid]
//	sync <group> req=N member=M gen=G [instance= type= protocol= assign=(M:bytes,...)]
//	heartbeat <group> member=M gen=G [instance=]
//	leave <group> members=(M, M/instance, /instance, ...)
//	tick <duration>         advance the clock, firing deadlines in order
//	commit <group> offsets=(topic/partition:offset, ...) [member= instance= gen=-1 meta= epoch=-1]
//	fetch <group> [partitions=(topic/partition, ...)]
//	delete-offsets <group> partitions=(topic/partition, ...)
//	delete-groups groups=(g, ...)
//	describe <group>...     list [states=(...)]     dump <group>
//	fail-persist            the next records fail to persist
//	replay                  restart: rebuild a machine from the persisted journal
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		e := newScenarioEnv(DefaultConfig())
		datadriven.RunTest(t, path, e.handle)
	})
}

var scenarioEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

type scenarioEnv struct {
	cfg         Config
	m           *machine
	now         time.Time
	nextID      int
	journal     []JournalRecord
	failPersist bool
	out         strings.Builder
	// cat and clients serve the consumer-group commands
	// (consumer_scenario_test.go).
	cat     *testCatalog
	clients map[string]*simClient
}

func newScenarioEnv(cfg Config) *scenarioEnv {
	e := &scenarioEnv{now: scenarioEpoch}
	e.configure(cfg)
	return e
}

func (e *scenarioEnv) configure(cfg Config) {
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.NewMemberID = func(prefix string) string {
		e.nextID++
		return prefix + "-" + strconv.Itoa(e.nextID)
	}
	cfg.Topics = e.catalog()
	e.cfg = cfg
	e.m = newMachine(cfg)
}

func (e *scenarioEnv) printf(format string, args ...any) { fmt.Fprintf(&e.out, format, args...) }

func (e *scenarioEnv) handle(t *testing.T, d *datadriven.TestData) string {
	e.out.Reset()
	before := e.snapshot()
	switch d.Cmd {
	case "config":
		cfg := DefaultConfig()
		cfg.MinSessionTimeout = durArg(t, d, "min-session", cfg.MinSessionTimeout)
		cfg.MaxSessionTimeout = durArg(t, d, "max-session", cfg.MaxSessionTimeout)
		cfg.InitialRebalanceDelay = durArg(t, d, "initial-delay", cfg.InitialRebalanceDelay)
		d.MaybeScanArgs(t, "max-size", &cfg.MaxGroupSize)
		d.MaybeScanArgs(t, "max-meta", &cfg.MaxOffsetMetadataBytes)
		e.configure(cfg)
		return "ok\n"
	case "join":
		e.effects(e.m.join(e.now, reqArg(t, d), e.joinRequest(t, d)))
	case "sync":
		r := SyncRequest{Group: groupArg(t, d), MemberID: strArg(d, "member", ""), InstanceID: strArg(d, "instance", ""),
			ProtocolType: strArg(d, "type", ""), Protocol: strArg(d, "protocol", ""), Generation: genArg(t, d)}
		if arg, ok := d.Arg("assign"); ok {
			r.Assignments = map[string][]byte{}
			for _, v := range arg.Vals {
				id, a, _ := strings.Cut(v, ":")
				r.Assignments[id] = []byte(a)
			}
		}
		e.effects(e.m.sync(e.now, reqArg(t, d), r))
	case "heartbeat":
		err, eff := e.m.heartbeat(e.now, groupArg(t, d), strArg(d, "member", ""), strArg(d, "instance", ""), genArg(t, d))
		e.printf("heartbeat: %s\n", errName(err))
		e.effects(eff)
	case "leave":
		var lms []LeaveMember
		if arg, ok := d.Arg("members"); ok {
			for _, v := range arg.Vals {
				id, inst, _ := strings.Cut(v, "/")
				lms = append(lms, LeaveMember{MemberID: id, InstanceID: inst})
			}
		}
		gerr, errs, eff := e.m.leave(e.now, groupArg(t, d), lms)
		e.printf("leave: %s", errName(gerr))
		for i, lm := range lms {
			if errs != nil {
				e.printf(" %s/%s=%s", lm.MemberID, lm.InstanceID, errName(errs[i]))
			}
		}
		e.printf("\n")
		e.effects(eff)
	case "tick":
		before = nil // transitions are printed per step
		if len(d.CmdArgs) != 1 {
			d.Fatalf(t, "tick <duration>")
		}
		dur, err := time.ParseDuration(d.CmdArgs[0].Key)
		if err != nil {
			d.Fatalf(t, "tick: %v", err)
		}
		e.tick(e.now.Add(dur))
	case "commit":
		var offs []OffsetCommit
		epoch := int32(-1)
		d.MaybeScanArgs(t, "epoch", &epoch)
		for _, v := range listArg(d, "offsets") {
			tp, off, _ := strings.Cut(v, ":")
			o, _ := strconv.ParseInt(off, 10, 64)
			top, part := parseTP(t, d, tp)
			offs = append(offs, OffsetCommit{Topic: top, Partition: part, Offset: o, LeaderEpoch: epoch, Metadata: strArg(d, "meta", "")})
		}
		gen := int32(-1)
		d.MaybeScanArgs(t, "gen", &gen)
		gerr, errs, plan, eff := e.m.commit(e.now, groupArg(t, d), strArg(d, "member", ""), strArg(d, "instance", ""), gen, offs)
		e.printf("commit: %s", errName(gerr))
		for i, o := range offs {
			if errs != nil {
				e.printf(" %s/%d=%s", o.Topic, o.Partition, errName(errs[i]))
			}
		}
		e.printf("\n")
		e.effects(eff)
		if plan != nil {
			e.m.applyCommit(plan, e.effects(effects{records: plan.records}))
		}
	case "fetch":
		var topics map[string][]int32
		if _, ok := d.Arg("partitions"); ok {
			topics = map[string][]int32{}
			for _, v := range listArg(d, "partitions") {
				top, part := parseTP(t, d, v)
				topics[top] = append(topics[top], part)
			}
		}
		for _, c := range e.m.fetch(groupArg(t, d), topics) {
			e.printf("%s/%d offset=%d epoch=%d meta=%q\n", c.Topic, c.Partition, c.Offset, c.LeaderEpoch, c.Metadata)
		}
	case "delete-offsets":
		topics := map[string][]int32{}
		for _, v := range listArg(d, "partitions") {
			top, part := parseTP(t, d, v)
			topics[top] = append(topics[top], part)
		}
		gerr, res, eff := e.m.deleteOffsets(e.now, groupArg(t, d), topics)
		e.printf("delete-offsets: %s", errName(gerr))
		for _, top := range sortedKeys(res) {
			for _, p := range topics[top] {
				e.printf(" %s/%d=%s", top, p, errName(res[top][p]))
			}
		}
		e.printf("\n")
		e.effects(eff)
	case "delete-groups":
		names := listArg(d, "groups")
		errs, eff := e.m.deleteGroups(e.now, names)
		for i, n := range names {
			e.printf("delete %s: %s\n", n, errName(errs[i]))
		}
		e.effects(eff)
	case "describe":
		for _, a := range d.CmdArgs {
			e.describe(e.m.describe(a.Key))
		}
	case "list":
		for _, l := range e.m.list(listArg(d, "states")) {
			e.printf("%s type=%q state=%s\n", l.Group, l.ProtocolType, l.State)
		}
	case "dump":
		e.dump(e.m.groups[groupArg(t, d)])
	case "fail-persist":
		e.failPersist = true
		return "ok\n"
	case "replay":
		e.m = newMachine(e.cfg)
		for _, r := range e.journal {
			if err := e.m.load(r); err != nil {
				d.Fatalf(t, "replay: %v", err)
			}
		}
		e.m.finishLoad(e.now)
		e.printf("replayed %d records\n", len(e.journal))
		for _, l := range e.m.list(nil) {
			e.dump(e.m.groups[l.Group])
		}
	default:
		if !e.handleConsumer(t, d) {
			d.Fatalf(t, "unknown command %q", d.Cmd)
		}
	}
	e.checkConsumerInvariants(t, d)
	e.transitions(before)
	if e.out.Len() == 0 {
		return "ok\n"
	}
	return e.out.String()
}

func (e *scenarioEnv) joinRequest(t *testing.T, d *datadriven.TestData) JoinRequest {
	r := JoinRequest{
		Group:                groupArg(t, d),
		MemberID:             strArg(d, "member", ""),
		InstanceID:           strArg(d, "instance", ""),
		ClientID:             strArg(d, "client", "c"),
		ClientHost:           strArg(d, "host", "h"),
		ProtocolType:         strArg(d, "type", "consumer"),
		SessionTimeout:       durArg(t, d, "session", 10*time.Second),
		RebalanceTimeout:     durArg(t, d, "rebalance", 30*time.Second),
		RequireKnownMemberID: d.HasArg("requireid"),
	}
	meta := []byte(strArg(d, "meta", ""))
	if d.HasArg("topics") {
		meta = subscription(listArg(d, "topics")...)
	}
	protos := []string{"range"}
	if d.HasArg("protocols") {
		protos = listArg(d, "protocols")
	}
	for _, p := range protos {
		r.Protocols = append(r.Protocols, Protocol{Name: p, Metadata: meta})
	}
	return r
}

// effects prints an event's effects and "persists" its records, failing
// them if fail-persist was set. It returns the persistence error.
func (e *scenarioEnv) effects(eff effects) error {
	var err error
	if len(eff.records) > 0 {
		if e.failPersist {
			e.failPersist = false
			err = fmt.Errorf("%w: injected", ErrCoordinatorNotAvailable)
			e.printf("persist failed (%d records)\n", len(eff.records))
		} else {
			for _, r := range eff.records {
				e.printf("persist %s\n", describeRecord(r))
			}
			e.journal = append(e.journal, eff.records...)
		}
	}
	for _, j := range eff.joins {
		if err != nil {
			j.resp = JoinResponse{Err: err, MemberID: j.resp.MemberID}
		}
		e.printJoin(j)
	}
	for _, s := range eff.syncs {
		if err != nil {
			s.resp = SyncResponse{Err: err}
		}
		r := s.resp
		if r.Err != nil {
			e.printf("sync req=%d: %s\n", s.req, errName(r.Err))
			continue
		}
		e.printf("sync req=%d: type=%s protocol=%s assignment=%q\n", s.req, r.ProtocolType, r.Protocol, r.Assignment)
	}
	if err != nil && eff.group != "" {
		e.effects(e.m.persistFailed(eff.group, eff.persistGen, e.now))
	}
	return err
}

func (e *scenarioEnv) printJoin(j joinReply) {
	r := j.resp
	if r.Err != nil {
		e.printf("join req=%d: %s member=%s\n", j.req, errName(r.Err), r.MemberID)
		return
	}
	e.printf("join req=%d: gen=%d member=%s leader=%s type=%s protocol=%s", j.req, r.Generation, r.MemberID, r.LeaderID, r.ProtocolType, r.Protocol)
	if r.SkipAssignment {
		e.printf(" skip-assignment")
	}
	e.printf("\n")
	for _, m := range r.Members {
		e.printf("  member %s instance=%s meta=%s\n", m.MemberID, m.InstanceID, metaString(m.Metadata))
	}
}

// tick advances the clock to target, stopping at each deadline on the way
// as a real timer would.
func (e *scenarioEnv) tick(target time.Time) {
	for {
		next := time.Time{}
		for _, name := range sortedKeys(e.m.groups) {
			if t := e.m.nextDeadline(name); !t.IsZero() && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
		if next.IsZero() || next.After(target) {
			break
		}
		e.now = next
		e.printf("t=%s\n", e.now.Sub(scenarioEpoch))
		before := e.snapshot()
		for _, name := range sortedKeys(e.m.groups) {
			if t := e.m.nextDeadline(name); !t.IsZero() && !t.After(e.now) {
				e.effects(e.m.tick(name, e.now))
			}
		}
		e.transitions(before)
	}
	if !e.now.Equal(target) || e.out.Len() == 0 {
		e.now = target
		e.printf("t=%s\n", e.now.Sub(scenarioEpoch))
	}
}

// groupSnap is a group's state and generation (a consumer group's state
// and epoch), as transitions print them.
type groupSnap string

func (e *scenarioEnv) snapshot() map[string]groupSnap {
	s := map[string]groupSnap{}
	for n, g := range e.m.groups {
		if g.consumer != nil {
			s[n] = groupSnap(fmt.Sprintf("consumer %s epoch=%d", g.consumer.state(), g.consumer.epoch))
			continue
		}
		s[n] = groupSnap(fmt.Sprintf("%s gen=%d", g.state, g.generation))
	}
	return s
}

// transitions prints the groups whose state or generation changed.
func (e *scenarioEnv) transitions(before map[string]groupSnap) {
	if before == nil {
		return
	}
	after := e.snapshot()
	names := sortedKeys(after)
	for n := range before {
		if _, ok := after[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		b, okb := before[n]
		a, oka := after[n]
		switch {
		case !okb:
			e.printf("group %s: created %s\n", n, a)
		case !oka:
			e.printf("group %s: removed\n", n)
		case a != b:
			e.printf("group %s: %s -> %s\n", n, b, a)
		}
	}
}

func (e *scenarioEnv) describe(d Description) {
	e.printf("%s state=%s type=%q protocol=%q\n", d.Group, d.State, d.ProtocolType, d.Protocol)
	for _, m := range d.Members {
		e.printf("  member %s instance=%s client=%s host=%s meta=%s assignment=%q\n",
			m.MemberID, m.InstanceID, m.ClientID, m.ClientHost, metaString(m.Metadata), m.Assignment)
	}
}

func (e *scenarioEnv) dump(g *group) {
	if g == nil {
		e.printf("no such group\n")
		return
	}
	if g.consumer != nil {
		e.dumpConsumer(g)
		return
	}
	rel := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Sub(scenarioEpoch).String()
	}
	e.printf("%s %s gen=%d type=%q protocol=%q leader=%s next=%s\n", g.id, g.state, g.generation, g.protocolType, g.protocol, g.leader, rel(g.nextDeadline()))
	switch {
	case g.state == preparingRebalance:
		e.printf("  join deadline=%s", rel(g.joinDeadline))
		if g.initialDelay {
			e.printf(" initial-delay remaining=%s", g.remaining)
		}
		e.printf("\n")
	case len(g.pendingSync) > 0:
		e.printf("  sync deadline=%s pending=%v\n", rel(g.syncDeadline), sortedKeys(g.pendingSync))
	}
	for _, id := range g.order {
		m := g.members[id]
		e.printf("  member %s instance=%s session=%s deadline=%s awaiting-join=%t syncing=%t new=%t\n",
			m.id, m.instanceID, m.sessionTimeout, rel(m.deadline), m.awaitingJoin, m.syncReq != 0, m.isNew)
	}
	for _, id := range sortedKeys(g.pending) {
		e.printf("  pending %s deadline=%s\n", id, rel(g.pending[id]))
	}
	for _, tp := range sortedPartitions(g.offsets) {
		e.printf("  offset %s/%d=%d\n", tp.topic, tp.partition, g.offsets[tp].offset)
	}
}

func describeRecord(r JournalRecord) string {
	k, err := decodeKey(r.Key)
	if err != nil {
		return "undecodable key: " + err.Error()
	}
	if k.consumerKind != 0 {
		return describeConsumerRecord(k, r)
	}
	if k.isOffset {
		if r.Value == nil {
			return fmt.Sprintf("offset %s %s/%d tombstone", k.group, k.tp.topic, k.tp.partition)
		}
		o, err := decodeOffsetValue(r.Value)
		if err != nil {
			return "undecodable offset: " + err.Error()
		}
		return fmt.Sprintf("offset %s %s/%d=%d epoch=%d meta=%q", k.group, k.tp.topic, k.tp.partition, o.offset, o.leaderEpoch, o.metadata)
	}
	if r.Value == nil {
		return fmt.Sprintf("group %s tombstone", k.group)
	}
	gv, err := decodeGroupValue(r.Value)
	if err != nil {
		return "undecodable group: " + err.Error()
	}
	var ms []string
	for _, m := range gv.members {
		ms = append(ms, fmt.Sprintf("%s:%q", m.id, m.assignment))
	}
	return fmt.Sprintf("group %s gen=%d type=%s protocol=%s leader=%s members=[%s]", k.group, gv.generation, gv.protocolType, gv.protocol, gv.leader, strings.Join(ms, " "))
}

// errNames spells errors as Kafka's error codes in the scripts.
var errNames = []struct {
	err  error
	name string
}{
	{ErrUnknownMemberID, "UNKNOWN_MEMBER_ID"},
	{ErrIllegalGeneration, "ILLEGAL_GENERATION"},
	{ErrRebalanceInProgress, "REBALANCE_IN_PROGRESS"},
	{ErrInconsistentGroupProtocol, "INCONSISTENT_GROUP_PROTOCOL"},
	{ErrMemberIDRequired, "MEMBER_ID_REQUIRED"},
	{ErrFencedInstanceID, "FENCED_INSTANCE_ID"},
	{ErrInvalidSessionTimeout, "INVALID_SESSION_TIMEOUT"},
	{ErrGroupMaxSizeReached, "GROUP_MAX_SIZE_REACHED"},
	{ErrInvalidGroupID, "INVALID_GROUP_ID"},
	{ErrGroupIDNotFound, "GROUP_ID_NOT_FOUND"},
	{ErrNonEmptyGroup, "NON_EMPTY_GROUP"},
	{ErrGroupSubscribedToTopic, "GROUP_SUBSCRIBED_TO_TOPIC"},
	{ErrOffsetMetadataTooLarge, "OFFSET_METADATA_TOO_LARGE"},
	{ErrCoordinatorNotAvailable, "COORDINATOR_NOT_AVAILABLE"},
	{ErrFencedMemberEpoch, "FENCED_MEMBER_EPOCH"},
	{ErrStaleMemberEpoch, "STALE_MEMBER_EPOCH"},
	{ErrUnreleasedInstanceID, "UNRELEASED_INSTANCE_ID"},
	{ErrUnsupportedAssignor, "UNSUPPORTED_ASSIGNOR"},
	{ErrInvalidRequest, "INVALID_REQUEST"},
	{ErrInvalidRegularExpression, "INVALID_REGULAR_EXPRESSION"},
}

func errName(err error) string {
	if err == nil {
		return "ok"
	}
	for _, n := range errNames {
		if errors.Is(err, n.err) {
			return n.name
		}
	}
	return err.Error()
}

func metaString(b []byte) string {
	if topics, ok := parseSubscriptionTopics(b); ok {
		return "sub(" + strings.Join(topics, ",") + ")"
	}
	return strconv.Quote(string(b))
}

// subscription encodes a consumer protocol subscription (version 0).
func subscription(topics ...string) []byte {
	w := encoder{}
	w.i16(0)
	w.i32(int32(len(topics)))
	for _, t := range topics {
		w.str(t)
	}
	w.bytes(nil) // user data
	return w.b
}

func groupArg(t *testing.T, d *datadriven.TestData) string {
	if len(d.CmdArgs) == 0 || len(d.CmdArgs[0].Vals) > 0 {
		d.Fatalf(t, "%s: first argument must be the group", d.Cmd)
	}
	if d.CmdArgs[0].Key == `""` {
		return ""
	}
	return d.CmdArgs[0].Key
}

func strArg(d *datadriven.TestData, key, def string) string {
	if arg, ok := d.Arg(key); ok && len(arg.Vals) > 0 {
		return arg.Vals[0]
	}
	return def
}

func listArg(d *datadriven.TestData, key string) []string {
	arg, ok := d.Arg(key)
	if !ok {
		return nil
	}
	return slices.DeleteFunc(slices.Clone(arg.Vals), func(s string) bool { return s == "" })
}

func durArg(t *testing.T, d *datadriven.TestData, key string, def time.Duration) time.Duration {
	s := strArg(d, key, "")
	if s == "" {
		return def
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		d.Fatalf(t, "%s: %v", key, err)
	}
	return v
}

func reqArg(t *testing.T, d *datadriven.TestData) reqID {
	var n uint64
	d.ScanArgs(t, "req", &n)
	return reqID(n)
}

func genArg(t *testing.T, d *datadriven.TestData) int32 {
	var g int32
	d.ScanArgs(t, "gen", &g)
	return g
}

func parseTP(t *testing.T, d *datadriven.TestData, s string) (string, int32) {
	top, p, ok := strings.Cut(s, "/")
	n, err := strconv.ParseInt(p, 10, 32)
	if !ok || err != nil {
		d.Fatalf(t, "bad topic/partition %q", s)
	}
	return top, int32(n)
}
