package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The report turns the JSON lines of a bench/compare.sh run into the
// side-by-side section of docs/benchmarks.md and its charts. It lives in
// Go rather than in the script so the arithmetic behind each verdict
// (medians, ratios, targets) is tested.

// record is one JSON line of a compare run: a ternbench result tagged by
// the script, a disk measurement (scenario "disk") or facts about a
// system and the machine (scenario "env").
type record struct {
	result
	System     string  `json:"system"`
	Phase      string  `json:"phase"`   // max, latency, latency-same, backlog, backlog-ref
	Variant    string  `json:"variant"` // p6/p1/stream, classic/quorum, own
	BrokerCPUS float64 `json:"broker_cpu_s"`

	Method string  `json:"method"` // disk
	DiskMB float64 `json:"mb_s"`   // disk

	Version    string `json:"version"` // env
	Detail     string `json:"detail"`
	Machine    string `json:"machine"`
	Disk       string `json:"disk"`
	Date       string `json:"date"`
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
	Commands   string `json:"commands"`
}

// The markers around the generated part of docs/benchmarks.md.
const (
	reportBegin = "<!-- BEGIN bench/compare.sh: written by `ternbench report`; change the script or the report, not this text -->"
	reportEnd   = "<!-- END bench/compare.sh -->"
)

// The targets, in one place.
const (
	targetQueueRatio   = 3.0 // queue 1 KiB and fanout vs RabbitMQ
	targetLogVsNATS    = 1.5 // log produce vs JetStream
	targetLogVsDisk    = 0.6 // log produce vs the disk's fsync'd sequential rate
	targetConsumeRatio = 2.0 // log consume vs produce
	targetBacklogRSSMB = 200 // MB = 10^6 bytes
	targetDrainRatio   = 0.8 // deep drain vs the rate with an empty queue
)

// runReport is `ternbench report`: it reads the results and writes the
// markdown to stdout, or into -md between the markers, with charts in
// -charts.
func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ternbench report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	md := fs.String("md", "", "write the section into this markdown `file`, between its markers (appended when absent); default stdout")
	charts := fs.String("charts", "", "write PNG charts into this `dir` (linked from the markdown)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ternbench report [-md FILE] [-charts DIR] RESULTS.jsonl\n\n"+
			"Summarises the JSON lines of bench/compare.sh: medians per system, ratios, the performance targets.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	recs, err := readRecords(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "ternbench report: %v\n", err)
		return 1
	}
	imgRel := ""
	if *charts != "" {
		if err := os.MkdirAll(*charts, 0o755); err != nil {
			fmt.Fprintf(stderr, "ternbench report: %v\n", err)
			return 1
		}
		imgRel = *charts
		if *md != "" {
			if rel, err := filepath.Rel(filepath.Dir(*md), *charts); err == nil {
				imgRel = rel
			}
		}
	}
	rep := newReport(recs)
	var buf bytes.Buffer
	if err := rep.write(&buf, *charts, filepath.ToSlash(imgRel)); err != nil {
		fmt.Fprintf(stderr, "ternbench report: %v\n", err)
		return 1
	}
	if *md == "" {
		_, err = stdout.Write(buf.Bytes())
	} else {
		err = spliceMarkdown(*md, buf.Bytes())
	}
	if err != nil {
		fmt.Fprintf(stderr, "ternbench report: %v\n", err)
		return 1
	}
	return 0
}

func readRecords(path string) ([]record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	var recs []record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20) // RSS samples make long lines
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("results %s line %d: %w", path, n, err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("results %s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("results %s: empty", path)
	}
	return recs, nil
}

// spliceMarkdown replaces the part of file between the markers with
// section (markers included), or appends it when the file has none.
func spliceMarkdown(path string, section []byte) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("markdown: %w", err)
	}
	block := []byte(reportBegin + "\n" + string(section) + reportEnd + "\n")
	var out []byte
	b := bytes.Index(old, []byte(reportBegin))
	e := bytes.Index(old, []byte(reportEnd))
	switch {
	case b >= 0 && e > b:
		end := e + len(reportEnd)
		if end < len(old) && old[end] == '\n' {
			end++
		}
		out = slices.Concat(old[:b], block, old[end:])
	case b >= 0 || e >= 0:
		return fmt.Errorf("markdown %s: one marker without the other; fix the file by hand", path)
	default:
		out = slices.Concat(old, []byte("\n"), block)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return fmt.Errorf("markdown: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("markdown: %w", err)
	}
	return nil
}

// report holds the records of one compare run.
type report struct {
	recs []record
	env  map[string]record // by system ("machine" holds load_after)
}

func newReport(recs []record) *report {
	r := &report{recs: recs, env: map[string]record{}}
	for _, x := range recs {
		if x.Scenario == "env" {
			e := r.env[x.System]
			if x.Version != "" {
				e = x
			}
			if x.LoadAfter != "" {
				e.LoadAfter = x.LoadAfter
			}
			r.env[x.System] = e
		}
	}
	return r
}

// sel returns the runs matching system, phase, scenario and variant
// ("" matches any), with size when size > 0.
func (r *report) sel(system, phase, scenario, variant string, size int) []record {
	var out []record
	for _, x := range r.recs {
		if x.System == system && x.Phase == phase && x.Scenario == scenario &&
			(variant == "" || x.Variant == variant) && (size == 0 || x.Size == size) {
			out = append(out, x)
		}
	}
	return out
}

// median of f over rs; NaN when there are none.
func median(rs []record, f func(record) float64) float64 {
	if len(rs) == 0 {
		return math.NaN()
	}
	v := make([]float64, len(rs))
	for i, x := range rs {
		v[i] = f(x)
	}
	return medianOf(v)
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if n := len(v); n%2 == 1 {
		return v[n/2]
	} else {
		return (v[n/2-1] + v[n/2]) / 2
	}
}

// runs lists f of each run, in run order, for the "(runs …)" columns.
func runs(rs []record, f func(record) float64, format string) string {
	s := make([]string, len(rs))
	for i, x := range rs {
		s[i] = fmt.Sprintf(format, f(x))
	}
	return strings.Join(s, ", ")
}

// num formats v compactly with a thin thousands separator; "–" for NaN.
func num(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := fmt.Sprintf("%.*f", decimals, v)
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 && len(intPart) > 4 {
			b.WriteRune(' ')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if neg {
		out = "-" + out
	}
	if frac != "" {
		out += "." + frac
	}
	return out
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// verdict says whether ok held, or that the target could not be judged.
func verdict(ok bool, measured ...float64) string {
	for _, m := range measured {
		if math.IsNaN(m) {
			return "not measured"
		}
	}
	if ok {
		return "**met**"
	}
	return "**NOT met**"
}

var (
	producedMB  = func(x record) float64 { return x.ProduceMBs }
	consumedMB  = func(x record) float64 { return x.ConsumeMBs }
	publishMsgs = func(x record) float64 { return x.ProduceMsgs }
	deliverMsgs = func(x record) float64 { return x.ConsumeMsgs }
	brokerCPU   = func(x record) float64 { return x.BrokerCPUS }
)

func (r *report) write(w io.Writer, chartDir, imgRel string) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	t := r.env["tern"]
	p("## Side by side: Tern, RabbitMQ and NATS JetStream\n\n")
	p("Measured %s by `%s`, %s, on %s; disk %s. Load average %s before, %s after.\n\n",
		t.Date, t.Commands, t.Version, t.Machine, t.Disk, t.LoadBefore, r.env["machine"].LoadAfter)
	p("| system | version | configuration |\n|---|---|---|\n")
	for _, s := range []string{"tern", "rabbitmq", "nats"} {
		if e, ok := r.env[s]; ok {
			p("| %s | %s | %s |\n", s, e.Version, e.Detail)
		}
	}
	p("\nEach system runs alone: the others are paused (SIGSTOP) during its runs. " +
		"Figures are medians over the runs (each run's value in brackets); the exact ternbench " +
		"command of every run is in `bench/results/compare.jsonl`. MB = 10⁶ bytes of message bodies.\n\n")
	if err := r.writeTargets(w); err != nil {
		return err
	}
	for _, sec := range []func(io.Writer, string, string) error{r.writeLog, r.writeAMQP, r.writeLatency, r.writeBacklog, r.writeDisk} {
		if err := sec(w, chartDir, imgRel); err != nil {
			return err
		}
	}
	return nil
}

// chart renders panels into dir/name and links it, when charts are wanted.
func chart(w io.Writer, dir, imgRel, name, alt string, panels ...barChart) error {
	if dir == "" {
		return nil
	}
	if err := writeChartPNG(filepath.Join(dir, name), panels...); err != nil {
		return err
	}
	fmt.Fprintf(w, "![%s](%s)\n\n", alt, strings.TrimPrefix(imgRel+"/"+name, "/"))
	return nil
}

// logRuns are the log part's runs per system column.
func (r *report) logRuns() (p6, p1, js []record) {
	return r.sel("tern", "max", "log", "p6", 0), r.sel("tern", "max", "log", "p1", 0), r.sel("nats", "max", "jslog", "stream", 0)
}

// diskRates are the median MB/s of each disk method, in the order run.
func (r *report) diskRates() (methods []string, mbs map[string]float64, all map[string][]record) {
	all = map[string][]record{}
	for _, x := range r.recs {
		if x.Scenario == "disk" && x.DiskMB > 0 { // 0: the tool's output was not understood
			if _, ok := all[x.Method]; !ok {
				methods = append(methods, x.Method)
			}
			all[x.Method] = append(all[x.Method], x)
		}
	}
	mbs = map[string]float64{}
	for m, rs := range all {
		mbs[m] = median(rs, func(x record) float64 { return x.DiskMB })
	}
	return methods, mbs, all
}

// amqpShape is one throughput comparison of the amqp part.
type amqpShape struct {
	name, scenario, variant string
	size                    int
	target                  bool // the issue sets the 3× target for it
}

// runs are the unpaced runs of the shape on Tern and on RabbitMQ.
func (s amqpShape) runs(r *report) (tern, rabbit []record) {
	return r.sel("tern", "max", s.scenario, s.variant, s.size), r.sel("rabbitmq", "max", s.scenario, s.variant, s.size)
}

// ratios are Tern ÷ RabbitMQ of the median publish and deliver rates: what
// the targets judge and the table shows.
func (s amqpShape) ratios(r *report) (publish, deliver float64) {
	t, rb := s.runs(r)
	return ratio(median(t, publishMsgs), median(rb, publishMsgs)), ratio(median(t, deliverMsgs), median(rb, deliverMsgs))
}

// label names the shape and the RabbitMQ queue type it is compared with.
func (s amqpShape) label() string { return s.name + " (RabbitMQ " + s.variant + ")" }

var amqpShapes = []amqpShape{
	{"queue 16 B", "queue", "classic", 16, false},
	{"queue 1 KiB", "queue", "classic", 1024, true},
	{"queue 1 KiB", "queue", "quorum", 1024, true},
	{"fanout 1 KiB ×10", "fanout", "classic", 1024, true},
}

// latencyAt is the median over runs of the level at load f.
func latencyAt(rs []record, f float64) (lv latencyLevel, n int) {
	var rate, p50, p99, p999, cp99 []float64
	for _, x := range rs {
		for _, l := range x.Latency {
			if math.Abs(l.Load-f) < 1e-9 {
				rate, p50, p99, p999, cp99 = append(rate, l.Rate), append(p50, l.E2EP50Ms), append(p99, l.E2EP99Ms), append(p999, l.E2EP999Ms), append(cp99, l.ConfirmP99Ms)
			}
		}
	}
	if len(p99) == 0 {
		nan := math.NaN()
		return latencyLevel{Load: f, Rate: nan, E2EP50Ms: nan, E2EP99Ms: nan, E2EP999Ms: nan, ConfirmP99Ms: nan}, 0
	}
	return latencyLevel{Load: f, Rate: medianOf(rate), E2EP50Ms: medianOf(p50), E2EP99Ms: medianOf(p99),
		E2EP999Ms: medianOf(p999), ConfirmP99Ms: medianOf(cp99)}, len(p99)
}

// backlogFacts are what the backlog part measured of one system.
type backlogFacts struct {
	records                  int64
	publish, drain, refDrain float64
	rssMaxMB, rssQueuedMB    float64 // MB = 10^6 bytes; queued: at the end of publishing
	produceS                 float64
	samples                  []rssSample
	measured                 bool
}

func (r *report) backlog(system string) backlogFacts {
	deep := r.sel(system, "backlog", "backlog", "", 0)
	ref := r.sel(system, "backlog-ref", "backlog", "", 0)
	f := backlogFacts{publish: math.NaN(), drain: math.NaN(), refDrain: median(ref, deliverMsgs),
		rssMaxMB: math.NaN(), rssQueuedMB: math.NaN()}
	if len(deep) == 0 {
		return f
	}
	x := deep[len(deep)-1]
	f.measured, f.records, f.publish, f.drain, f.samples, f.produceS = true, x.Records, x.ProduceMsgs, x.ConsumeMsgs, x.RSS, x.ProduceS
	if len(x.RSS) == 0 { // not sampled: no verdict, rather than a 0 that passes
		return f
	}
	const mib = 1 << 20
	f.rssMaxMB = x.RSSMaxMB * mib / 1e6
	// The publish phase starts as the scenario does (declaring one queue
	// takes milliseconds), so the last sample up to produce_s is the broker
	// holding the whole backlog.
	q := x.RSS[0].MB
	for _, s := range x.RSS {
		if s.T <= x.ProduceS {
			q = s.MB
		}
	}
	f.rssQueuedMB = q * mib / 1e6
	return f
}

func (r *report) writeTargets(w io.Writer) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("### The performance targets\n\n| target | measured (medians) | verdict |\n|---|---|---|\n")
	for _, s := range amqpShapes {
		if !s.target {
			continue
		}
		pub, del := s.ratios(r)
		p("| %s: ≥ %.0f× RabbitMQ's msg/s | publish %s×, deliver %s× | %s |\n", s.label(), targetQueueRatio,
			num(pub, 2), num(del, 2), verdict(pub >= targetQueueRatio && del >= targetQueueRatio, pub, del))
	}
	for _, q := range []string{"classic", "quorum"} {
		rl, _ := latencyAt(r.sel("rabbitmq", "latency", "latency", q, 0), 0.5)
		tl, _ := latencyAt(r.sel("tern", "latency-same", "latency", q, 0), 0.5)
		p("| queue 1 KiB: e2e p99 at 50 %% load ≤ RabbitMQ %s's | %s vs %s ms at %s msg/s (50 %% of RabbitMQ's peak) | %s |\n", q,
			num(tl.E2EP99Ms, 1), num(rl.E2EP99Ms, 1), num(rl.Rate, 0), verdict(tl.E2EP99Ms <= rl.E2EP99Ms, tl.E2EP99Ms, rl.E2EP99Ms))
	}
	p6, p1, js := r.logRuns()
	for _, c := range []struct {
		name string
		rs   []record
	}{{"6 partitions", p6}, {"1 partition", p1}} {
		tp, jp := median(c.rs, producedMB), median(js, producedMB)
		p("| log produce, %s: ≥ %.1f× NATS JetStream (which does not fsync before acking) | %s vs %s MB/s = %s× | %s |\n",
			c.name, targetLogVsNATS, num(tp, 0), num(jp, 0), num(ratio(tp, jp), 2), verdict(tp >= targetLogVsNATS*jp, tp, jp))
	}
	methods, disk, _ := r.diskRates()
	tp6 := median(p6, producedMB)
	for _, m := range methods {
		p("| log produce (6 partitions): ≥ %.0f %% of the disk's fsync'd sequential rate, `%s` | %s of %s MB/s = %s %% | %s |\n",
			targetLogVsDisk*100, m, num(tp6, 0), num(disk[m], 0), num(100*ratio(tp6, disk[m]), 0), verdict(tp6 >= targetLogVsDisk*disk[m], tp6, disk[m], ratio(tp6, disk[m])))
	}
	for _, c := range []struct {
		name string
		rs   []record
	}{{"6 partitions", p6}, {"1 partition", p1}} {
		// Per run, then the median: the two phases of one run share its noise.
		cr := median(c.rs, func(x record) float64 { return ratio(x.ConsumeMBs, x.ProduceMBs) })
		p("| log consume ≥ %.0f× produce, %s | %s× | %s |\n", targetConsumeRatio, c.name, num(cr, 2), verdict(cr >= targetConsumeRatio, cr))
	}
	b := r.backlog("tern")
	p("| backlog of %s × 1 KiB: RSS < %d MB | max %s MB (%s MB at the end of publishing) | %s |\n", num(float64(b.records), 0),
		targetBacklogRSSMB, num(b.rssMaxMB, 0), num(b.rssQueuedMB, 0), verdict(b.rssMaxMB < targetBacklogRSSMB, b.rssMaxMB))
	// With an empty queue consumers get what publishers send, so the rate
	// with an empty queue is the highest rate the queue stays empty at:
	// the peak the latency runs measured (the lower of publish and deliver
	// rates with both running). A deep queue must drain about as fast.
	empty := median(r.sel("tern", "latency", "latency", "own", 0), func(x record) float64 { return x.LatencyPeakMsgs })
	p("| backlog drain within %.0f %% of the empty-queue rate | drain %s msg/s vs %s (a %s-message backlog drained the same way) = %s×; vs %s (the most the queue sustains end to end without growing, from the latency runs) = %s× | %s |\n",
		100*(1-targetDrainRatio), num(b.drain, 0), num(b.refDrain, 0), r.refRecords("tern"), num(ratio(b.drain, b.refDrain), 2),
		num(empty, 0), num(ratio(b.drain, empty), 2),
		verdict(b.drain >= targetDrainRatio*b.refDrain && b.drain >= targetDrainRatio*empty, b.drain, b.refDrain, empty))
	p("\n")
	return nil
}

func (r *report) refRecords(system string) string {
	ref := r.sel(system, "backlog-ref", "backlog", "", 0)
	if len(ref) == 0 {
		return "–"
	}
	return num(float64(ref[0].Records), 0)
}

func (r *report) writeLog(w io.Writer, dir, img string) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p6, p1, js := r.logRuns()
	if len(p6)+len(p1)+len(js) == 0 {
		return nil
	}
	p("### Log: Tern (Kafka protocol) vs NATS JetStream\n\n")
	p("`ternbench log`: 4 idempotent franz-go producers, acks=all, 1 KiB records, then 2 consumers read the topic from the start. " +
		"`ternbench jslog`: 4 nats.go connections publish asynchronously (≤ 1024 unacknowledged each) to one JetStream stream, " +
		"then one ordered consumer reads it back.\n\n")
	p("| system | produce MB/s (runs) | msg/s | produce p50 / p99 ms | consume MB/s | broker CPU s |\n|---|---:|---:|---:|---:|---:|\n")
	for _, c := range []struct {
		name string
		rs   []record
	}{{"Tern, 6 partitions", p6}, {"Tern, 1 partition", p1}, {"JetStream, 1 stream (no fsync)", js}} {
		if len(c.rs) == 0 {
			continue
		}
		p("| %s | **%s** (%s) | %s | %s / %s | %s | %s |\n", c.name, num(median(c.rs, producedMB), 0), runs(c.rs, producedMB, "%.0f"),
			num(median(c.rs, publishMsgs), 0), num(median(c.rs, func(x record) float64 { return x.P50Ms }), 1),
			num(median(c.rs, func(x record) float64 { return x.P99Ms }), 1), num(median(c.rs, consumedMB), 0), num(median(c.rs, brokerCPU), 1))
	}
	p("\n")
	series := func(name string, rs []record, fs ...func(record) float64) barSeries {
		s := barSeries{Name: name}
		for _, f := range fs {
			s.Values = append(s.Values, median(rs, f))
		}
		return s
	}
	p50 := func(x record) float64 { return x.P50Ms }
	p99 := func(x record) float64 { return x.P99Ms }
	return chart(w, dir, img, "compare-log.png", "log: MB/s and produce latency per system",
		barChart{Title: "log, 1 KiB records: throughput", YLabel: "MB/s", Groups: []string{"produce", "consume"},
			Series: []barSeries{series("Tern 6 partitions", p6, producedMB, consumedMB), series("Tern 1 partition", p1, producedMB, consumedMB),
				series("JetStream (no fsync)", js, producedMB, consumedMB)}},
		barChart{Title: "log: produce latency (lower is better)", YLabel: "ms", LogY: true, Groups: []string{"p50", "p99"},
			Series: []barSeries{series("Tern 6 partitions", p6, p50, p99), series("Tern 1 partition", p1, p50, p99),
				series("JetStream (no fsync)", js, p50, p99)}})
}

func (r *report) writeAMQP(w io.Writer, dir, img string) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	if len(r.sel("tern", "max", "queue", "", 0))+len(r.sel("rabbitmq", "max", "queue", "", 0)) == 0 {
		return nil
	}
	p("### Queues and fanout: Tern vs RabbitMQ (AMQP 0-9-1)\n\n")
	p("`ternbench queue`: 2 publishers (confirm mode, persistent messages, ≤ 256 unconfirmed each) and 2 consumers " +
		"(prefetch 100, an ack per message) on one durable queue, publishers unpaced for the run's duration, then the consumers drain. " +
		"`ternbench fanout`: one such publisher to a durable fanout exchange bound to 10 durable queues, a consumer each. " +
		"Publish msg/s counts confirmed messages; deliver msg/s counts deliveries over all queues.\n\n")
	p("| scenario | system | publish msg/s (runs) | deliver msg/s | confirm p99 ms | broker CPU s | Tern ÷ RabbitMQ publish / deliver |\n|---|---|---:|---:|---:|---:|---:|\n")
	pub := barChart{Title: "confirmed publishes (higher is better)", YLabel: "msg/s"}
	del := barChart{Title: "deliveries (higher is better)", YLabel: "msg/s"}
	ts, rs := barSeries{Name: "Tern"}, barSeries{Name: "RabbitMQ"}
	tsd, rsd := barSeries{Name: "Tern"}, barSeries{Name: "RabbitMQ"}
	for _, s := range amqpShapes {
		t, rb := s.runs(r)
		for _, c := range []struct {
			name string
			rs   []record
		}{{"Tern", t}, {"RabbitMQ " + s.variant, rb}} {
			if len(c.rs) == 0 {
				continue
			}
			ratios := ""
			if c.name == "Tern" {
				pub, del := s.ratios(r)
				ratios = num(pub, 2) + "× / " + num(del, 2) + "×"
			}
			p("| %s | %s | **%s** (%s) | %s | %s | %s | %s |\n", s.label(), c.name, num(median(c.rs, publishMsgs), 0), runs(c.rs, publishMsgs, "%.0f"),
				num(median(c.rs, deliverMsgs), 0), num(median(c.rs, func(x record) float64 { return x.P99Ms }), 1), num(median(c.rs, brokerCPU), 1), ratios)
		}
		group := s.name
		if s.variant != "classic" {
			group += " (" + s.variant + ")"
		}
		pub.Groups, del.Groups = append(pub.Groups, group), append(del.Groups, group)
		ts.Values, rs.Values = append(ts.Values, median(t, publishMsgs)), append(rs.Values, median(rb, publishMsgs))
		tsd.Values, rsd.Values = append(tsd.Values, median(t, deliverMsgs)), append(rsd.Values, median(rb, deliverMsgs))
	}
	p("\nUnpaced, publishers run as fast as confirms allow and nothing slows them to the consumers' pace, so the queue grows " +
		"when a broker takes publishes faster than the consumer clients take deliveries; latency is therefore measured at fixed loads, below.\n\n")
	pub.Series, del.Series = []barSeries{ts, rs}, []barSeries{tsd, rsd}
	return chart(w, dir, img, "compare-amqp.png", "queues and fanout: msg/s per system", pub, del)
}

func (r *report) writeLatency(w io.Writer, dir, img string) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	own := r.sel("tern", "latency", "latency", "own", 0)
	if len(own) == 0 && len(r.sel("rabbitmq", "latency", "latency", "", 0)) == 0 {
		return nil
	}
	p("### Latency at fixed loads: Tern vs RabbitMQ (1 KiB queue)\n\n")
	p("`ternbench latency` runs the queue workload unpaced to find a broker's peak (the lower of its confirmed publish rate and its " +
		"delivery rate while publishing), then with the publishers paced, open loop, at 10, 50 and 90 %% of it; each message's latency " +
		"counts from when it was due, so a stalled publisher cannot hide a stall (coordinated omission). Tern runs at its own peak's " +
		"fractions and, with `-latency-peak`, at the very rates RabbitMQ was measured at.\n\n")
	p("| system, rates from | peak msg/s | load | rate msg/s | e2e p50 / p99 / p99.9 ms | confirm p99 ms |\n|---|---:|---:|---:|---:|---:|\n")
	loads := []float64{0.1, 0.5, 0.9}
	var panels []barChart
	row := func(name string, rs []record) barSeries {
		s := barSeries{Name: name}
		for _, f := range loads {
			l, n := latencyAt(rs, f)
			s.Values = append(s.Values, l.E2EP99Ms)
			if n == 0 {
				continue
			}
			p("| %s | %s | %.0f %% | %s | %s / **%s** / %s | %s |\n", name, num(median(rs, func(x record) float64 { return x.LatencyPeakMsgs }), 0),
				f*100, num(l.Rate, 0), num(l.E2EP50Ms, 2), num(l.E2EP99Ms, 2), num(l.E2EP999Ms, 2), num(l.ConfirmP99Ms, 2))
		}
		return s
	}
	groups := []string{"10 %", "50 %", "90 %"}
	for _, q := range []string{"classic", "quorum"} {
		rb := r.sel("rabbitmq", "latency", "latency", q, 0)
		if len(rb) == 0 {
			continue
		}
		panels = append(panels, barChart{Title: "e2e p99 vs RabbitMQ " + q + " (lower is better)", YLabel: "ms", LogY: true, Groups: groups,
			Series: []barSeries{row("Tern at RabbitMQ "+q+"'s rates", r.sel("tern", "latency-same", "latency", q, 0)), row("RabbitMQ "+q+", its own peak", rb)}})
	}
	if len(own) > 0 {
		s := row("Tern, its own peak", own)
		if len(panels) == 0 {
			panels = append(panels, barChart{Title: "Tern e2e p99", YLabel: "ms", LogY: true, Groups: groups})
		}
		panels[0].Series = append(panels[0].Series, s)
	}
	p("\n")
	return chart(w, dir, img, "compare-latency.png", "e2e p99 latency at 10/50/90 % load", panels...)
}

func (r *report) writeBacklog(w io.Writer, dir, img string) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	t, rb := r.backlog("tern"), r.backlog("rabbitmq")
	if !t.measured && !rb.measured {
		return nil
	}
	p("### Deep backlog\n\n")
	p("`ternbench backlog -broker-pid PID`: 2 publishers queue N persistent 1 KiB messages with confirms into one durable queue with no consumer; " +
		"then 2 consumers (prefetch 100, an ack per message) drain it, while the broker's resident set is sampled. " +
		"The same with a shallow backlog gives the drain rate the deep one is compared with.\n\n")
	p("| system | messages | publish msg/s | drain msg/s | shallow drain msg/s (messages) | RSS at the end of publishing, MB | RSS max, MB |\n|---|---:|---:|---:|---:|---:|---:|\n")
	rss := barChart{Title: "broker RSS (lower is better)", YLabel: "MB", Groups: []string{"end of publishing", "max"}}
	rate := barChart{Title: "backlog rates", YLabel: "msg/s", Groups: []string{"publish", "deep drain", "shallow drain"}}
	for _, c := range []struct {
		name, sys string
		f         backlogFacts
	}{{"Tern", "tern", t}, {"RabbitMQ classic", "rabbitmq", rb}} {
		if !c.f.measured {
			continue
		}
		p("| %s | %s | %s | %s | %s (%s) | %s | **%s** |\n", c.name, num(float64(c.f.records), 0), num(c.f.publish, 0), num(c.f.drain, 0),
			num(c.f.refDrain, 0), r.refRecords(c.sys), num(c.f.rssQueuedMB, 0), num(c.f.rssMaxMB, 0))
		rss.Series = append(rss.Series, barSeries{Name: c.name + " (" + num(float64(c.f.records), 0) + ")", Values: []float64{c.f.rssQueuedMB, c.f.rssMaxMB}})
		rate.Series = append(rate.Series, barSeries{Name: c.name, Values: []float64{c.f.publish, c.f.drain, c.f.refDrain}})
	}
	p("\nRSS over time (seconds since the scenario started: MB):\n\n")
	for _, c := range []struct {
		name string
		f    backlogFacts
	}{{"Tern", t}, {"RabbitMQ", rb}} {
		if len(c.f.samples) == 0 {
			continue
		}
		step := max(1, len(c.f.samples)/12)
		var pts []string
		for i := 0; i < len(c.f.samples); i += step {
			s := c.f.samples[i]
			pts = append(pts, fmt.Sprintf("%.0f s: %.0f", s.T, s.MB*(1<<20)/1e6))
		}
		p("- %s (publishing until %.0f s): %s\n", c.name, c.f.produceS, strings.Join(pts, ", "))
	}
	p("\n")
	return chart(w, dir, img, "compare-backlog.png", "deep backlog: RSS and rates", rss, rate)
}

func (r *report) writeDisk(w io.Writer, _, _ string) error {
	methods, mbs, all := r.diskRates()
	if len(methods) == 0 {
		return nil
	}
	fmt.Fprintf(w, "### The disk, same run\n\n| method | MB/s (runs) |\n|---|---:|\n")
	for _, m := range methods {
		fmt.Fprintf(w, "| `%s` | %s (%s) |\n", m, num(mbs[m], 0), runs(all[m], func(x record) float64 { return x.DiskMB }, "%.0f"))
	}
	fmt.Fprintln(w)
	return nil
}
