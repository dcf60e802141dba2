package queue

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestScenarios runs the datadriven scripts in testdata/ against a Queue,
// checking the invariants after every command. Regenerate expectations
// with `go test -run TestScenarios -rewrite` and review the diff.
//
// Commands (defaults in brackets):
//
//	new [max-priority=0 max-length=-1 max-bytes=-1 overflow=drop-head|reject-publish|reject-publish-dlx sac dlx]
//	recover                  input: one line per level "end=N low=N frontier=N [acked=S-E,S-E]"
//	restart                  New(cfg, State()): a broker restart from the current checkpoint
//	append offset=N|N..M [level=0 size=1]
//	admit
//	consume id=N ch=N [prefetch=0 noack exclusive priority=0]
//	cancel id=N
//	block id=N | unblock id=N   SetBlocked
//	qos ch=N prefetch=N      channel-wide (global) prefetch
//	dispatch [max=1000]
//	get ch=N [noack]
//	ack ch=N offset=N|N..M|(N,M,..) [level=0]
//	nack ch=N offset=... [level=0 requeue=true]
//	close ch=N
//	expire [level= offset=]  default: the head
//	purge | stats | head | state
func TestScenarios(t *testing.T) {
	// Not datadriven.Walk: testdata/fuzz holds the fuzz corpus.
	paths, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			e := &scenarioEnv{cfg: DefaultConfig()}
			e.q, _ = New(e.cfg, nil)
			datadriven.RunTest(t, path, e.handle)
		})
	}
}

type scenarioEnv struct {
	cfg Config
	q   *Queue
	out strings.Builder
}

func (e *scenarioEnv) printf(format string, args ...any) { fmt.Fprintf(&e.out, format, args...) }

func (e *scenarioEnv) handle(t *testing.T, d *datadriven.TestData) string {
	e.out.Reset()
	switch d.Cmd {
	case "new":
		cfg := DefaultConfig()
		var mp int
		d.MaybeScanArgs(t, "max-priority", &mp)
		cfg.MaxPriority = uint8(mp)
		d.MaybeScanArgs(t, "max-length", &cfg.MaxLength)
		d.MaybeScanArgs(t, "max-bytes", &cfg.MaxLengthBytes)
		if d.HasArg("overflow") {
			var o string
			d.ScanArgs(t, "overflow", &o)
			switch o {
			case "drop-head":
				cfg.Overflow = DropHead
			case "reject-publish":
				cfg.Overflow = RejectPublish
			case "reject-publish-dlx":
				cfg.Overflow = RejectPublishDLX
			default:
				d.Fatalf(t, "unknown overflow %q", o)
			}
		}
		cfg.SingleActiveConsumer = d.HasArg("sac")
		cfg.DeadLetter = d.HasArg("dlx")
		e.newQueue(cfg, nil)
	case "recover":
		var st []LevelState
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			st = append(st, parseLevelState(t, d, line))
		}
		e.newQueue(e.cfg, st)
	case "restart":
		e.newQueue(e.cfg, e.q.State())
	case "append":
		lv, size := levelArg(t, d), 1
		d.MaybeScanArgs(t, "size", &size)
		var fx Effects
		for _, off := range offsetsArg(t, d) {
			ok, f, err := e.q.Append(lv, off, size)
			if err != nil {
				e.printf("error: %v\n", err)
				break
			}
			if !ok {
				e.printf("refused L%d @%d\n", lv, off)
			}
			fx.Merge(f)
		}
		e.effects(fx)
	case "admit":
		e.printf("admit: %t\n", e.q.Admit())
	case "consume":
		c := ConsumerSpec{NoAck: d.HasArg("noack"), Exclusive: d.HasArg("exclusive")}
		var id, ch uint64
		d.ScanArgs(t, "id", &id)
		d.ScanArgs(t, "ch", &ch)
		c.ID, c.Channel = ConsumerID(id), ChannelID(ch)
		d.MaybeScanArgs(t, "prefetch", &c.Prefetch)
		d.MaybeScanArgs(t, "priority", &c.Priority)
		if err := e.q.AddConsumer(c); err != nil {
			e.printf("error: %v\n", err)
		} else {
			e.printf("ok\n")
		}
	case "cancel":
		var id uint64
		d.ScanArgs(t, "id", &id)
		e.effects(e.q.RemoveConsumer(ConsumerID(id)))
	case "block", "unblock":
		var id uint64
		d.ScanArgs(t, "id", &id)
		e.q.SetBlocked(ConsumerID(id), d.Cmd == "block")
	case "qos":
		var n int
		d.ScanArgs(t, "prefetch", &n)
		e.q.SetChannelPrefetch(chArg(t, d), n)
	case "dispatch":
		n := 1000
		d.MaybeScanArgs(t, "max", &n)
		ds, fx := e.q.Dispatch(n)
		for _, dl := range ds {
			e.printf("deliver %v\n", dl)
		}
		e.effects(fx)
	case "get":
		dl, fx, ok := e.q.Get(chArg(t, d), d.HasArg("noack"))
		if !ok {
			e.printf("get-empty\n")
		} else {
			e.printf("get %v\n", dl)
		}
		e.effects(fx)
	case "ack":
		fx, err := e.q.Ack(chArg(t, d), levelArg(t, d), offsetsArg(t, d)...)
		e.result(fx, err)
	case "nack":
		requeue := true
		d.MaybeScanArgs(t, "requeue", &requeue)
		fx, err := e.q.Reject(chArg(t, d), levelArg(t, d), requeue, offsetsArg(t, d)...)
		e.result(fx, err)
	case "close":
		e.effects(e.q.ChannelClosed(chArg(t, d)))
	case "expire":
		lv, off, ok := e.q.Head()
		if d.HasArg("offset") {
			lv, off, ok = levelArg(t, d), offsetsArg(t, d)[0], true
		}
		if !ok {
			e.printf("no head\n")
			break
		}
		fx, err := e.q.Expire(lv, off)
		e.result(fx, err)
	case "purge":
		n, fx := e.q.Purge()
		e.printf("purged %d\n", n)
		e.effects(fx)
	case "head":
		if lv, off, ok := e.q.Head(); ok {
			e.printf("head L%d @%d\n", lv, off)
		} else {
			e.printf("no head\n")
		}
	case "stats":
		s := e.q.Stats()
		e.printf("ready=%d unacked=%d consumers=%d ready-bytes=%d unacked-bytes=%d\n",
			s.Ready, s.Unacked, s.Consumers, s.ReadyBytes, s.UnackedBytes)
	case "state":
		for i, st := range e.q.State() {
			l := &e.q.levels[i]
			e.printf("L%d end=%d low=%d frontier=%d acked=%v requeued=%v unacked=%d\n",
				i, st.End, st.LowWater, st.Frontier, st.Acked, requeuedList(l), len(l.unacked))
		}
	default:
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	if err := e.q.checkInvariants(); err != nil {
		d.Fatalf(t, "invariant broken after %s: %v", d.Pos, err)
	}
	if e.out.Len() == 0 {
		return "ok\n"
	}
	return e.out.String()
}

func (e *scenarioEnv) newQueue(cfg Config, st []LevelState) {
	q, err := New(cfg, st)
	if err != nil {
		e.printf("error: %v\n", err)
		return
	}
	e.cfg, e.q = cfg, q
}

func (e *scenarioEnv) result(fx Effects, err error) {
	if err != nil {
		e.printf("error: %v\n", err)
		if !errors.Is(err, ErrUnknownDelivery) && !errors.Is(err, ErrNotReady) && !errors.Is(err, ErrInvalidLevel) {
			e.printf("(unexpected sentinel)\n")
		}
	}
	e.effects(fx)
}

func (e *scenarioEnv) effects(fx Effects) {
	for _, dl := range fx.DeadLettered {
		e.printf("dead-letter L%d @%d %s\n", dl.Level, dl.Offset, dl.Reason)
	}
	for _, r := range fx.Settled {
		e.printf("settled L%d %v\n", r.Level, r.Interval)
	}
	for _, m := range fx.LowWater {
		e.printf("low-water L%d %d\n", m.Level, m.Offset)
	}
	for _, id := range fx.Activated {
		e.printf("activated c%d\n", id)
	}
}

func requeuedList(l *level) []int64 {
	var out []int64
	for i := len(l.requeued) - 1; i >= 0; i-- {
		out = append(out, l.requeued[i].offset)
	}
	return out
}

func chArg(t *testing.T, d *datadriven.TestData) ChannelID {
	var ch uint64
	d.ScanArgs(t, "ch", &ch)
	return ChannelID(ch)
}

func levelArg(t *testing.T, d *datadriven.TestData) uint8 {
	var lv int
	d.MaybeScanArgs(t, "level", &lv)
	return uint8(lv)
}

// offsetsArg parses offset=N, offset=N..M (inclusive) or offset=(N,M,...).
func offsetsArg(t *testing.T, d *datadriven.TestData) []int64 {
	arg, ok := d.Arg("offset")
	if !ok {
		d.Fatalf(t, "missing offset")
	}
	var out []int64
	for _, v := range arg.Vals {
		lo, hi, isRange := strings.Cut(v, "..")
		a, err := strconv.ParseInt(lo, 10, 64)
		if err != nil {
			d.Fatalf(t, "offset %q: %v", v, err)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseInt(hi, 10, 64); err != nil {
				d.Fatalf(t, "offset %q: %v", v, err)
			}
		}
		for off := a; off <= b; off++ {
			out = append(out, off)
		}
	}
	return out
}

func parseLevelState(t *testing.T, d *datadriven.TestData, line string) LevelState {
	var st LevelState
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		if k == "acked" {
			for _, r := range strings.Split(v, ",") {
				s, e, _ := strings.Cut(r, "-")
				a, err1 := strconv.ParseInt(s, 10, 64)
				b, err2 := strconv.ParseInt(e, 10, 64)
				if err1 != nil || err2 != nil {
					d.Fatalf(t, "acked %q", r)
				}
				st.Acked = append(st.Acked, Interval{a, b})
			}
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			d.Fatalf(t, "%s: %v", f, err)
		}
		switch k {
		case "end":
			st.End = n
		case "low":
			st.LowWater = n
		case "frontier":
			st.Frontier = n
		default:
			d.Fatalf(t, "unknown field %q", k)
		}
	}
	return st
}
