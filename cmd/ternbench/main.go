// Command ternbench is a load generator for Kafka and AMQP 0-9-1 brokers:
// Tern, or any peer that speaks those protocols (Kafka, RabbitMQ). Each
// scenario prints one JSON summary line on stdout, for scripts, and a
// table on stderr, for people.
//
//	ternbench -brokers 127.0.0.1:9092 -partitions 6 -size 1024 -records 500000 log
//	ternbench -amqp-url amqp://guest:guest@127.0.0.1:5672/ -size 16 -duration 15s queue fanout
//	ternbench report -md docs/benchmarks.md -charts docs/img bench/results/compare.jsonl
//
// The last form summarises the JSON lines of a bench/compare.sh run
// (report.go).
//
// Scenarios live one per file (log.go, …) and are listed in scenarios().
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the flags shared by every scenario.
type options struct {
	brokers    []string
	topic      string
	partitions int
	records    int64
	duration   time.Duration
	size       int
	producers  int
	consumers  int
	inflight   int
	linger     time.Duration
	batchBytes int
	// fetchPartBytes is the consumers' max.partition.fetch.bytes.
	fetchPartBytes int
	timeout        time.Duration
	keep           bool
	label          string

	// AMQP scenarios.
	amqpURL      string
	publishers   int
	prefetch     int
	ackEvery     int
	fanoutQueues int
	// rate is the publish rate of all AMQP publishers together, msgs/s
	// (0: as fast as confirms allow).
	rate float64
	// natsURL is the NATS server of the jslog scenario.
	natsURL string
	// queueType is x-queue-type for the AMQP queues ("" = the broker's
	// default, classic).
	queueType string
	// latencyLoads are the fractions of the peak rate the latency
	// scenario runs at.
	latencyLoads []float64
	// latencyPeak, when > 0, is the peak rate the latency scenario's
	// fractions apply to, instead of measuring this broker's own: to run
	// one broker at the rates another one peaked at.
	latencyPeak float64
	// brokerPID, when > 0, is a local broker process whose resident set
	// is sampled every rssInterval during each scenario.
	brokerPID   int
	rssInterval time.Duration
}

// run parses args, runs the named scenarios in order and returns the exit
// code: 0 on success, 1 when a scenario failed, 2 on a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "report" {
		return runReport(args[1:], stdout, stderr)
	}
	var o options
	fs := flag.NewFlagSet("ternbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	brokers := fs.String("brokers", "127.0.0.1:9092", "comma-separated Kafka bootstrap `host:port` list")
	fs.StringVar(&o.topic, "topic", "", "topic name (default: ternbench-SCENARIO-UNIXNANO, deleted afterwards unless -keep)")
	fs.IntVar(&o.partitions, "partitions", 6, "partitions of the topic")
	fs.Int64Var(&o.records, "records", 500_000, "records to produce; the produce phase stops at -records or -duration, whichever comes first")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "longest produce phase (0: no limit)")
	fs.IntVar(&o.size, "size", 1024, "record value size in bytes (random, incompressible; no key, no compression)")
	fs.IntVar(&o.producers, "producers", 4, "producer clients (idempotent, acks=all), each with its own connection")
	fs.IntVar(&o.consumers, "consumers", 2, "consumer clients; partitions are split between them")
	fs.IntVar(&o.inflight, "inflight", 0, "records each producer (publisher) may have un-acked before it blocks (0: 1024 for log, 256 for AMQP)")
	fs.DurationVar(&o.linger, "linger", 5*time.Millisecond, "producer linger per partition batch")
	fs.IntVar(&o.batchBytes, "batch-bytes", 1<<20, "largest producer record batch in bytes")
	fs.IntVar(&o.fetchPartBytes, "fetch-partition-bytes", 1<<20, "log consumers: most bytes one fetch returns per partition (Kafka's max.partition.fetch.bytes; its default and franz-go's is 1 MiB)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "limit for the whole run, all phases")
	fs.BoolVar(&o.keep, "keep", false, "keep the topic after the run")
	fs.StringVar(&o.label, "label", "", "free-form label copied into the JSON line (e.g. \"tern fsync=always\")")
	fs.StringVar(&o.amqpURL, "amqp-url", "amqp://guest:guest@127.0.0.1:5672/", "AMQP 0-9-1 broker `URL` for the queue and fanout scenarios")
	fs.IntVar(&o.publishers, "publishers", 2, "AMQP publishers of the queue scenario, each with its own connection (fanout has one)")
	fs.IntVar(&o.prefetch, "prefetch", 100, "AMQP consumer prefetch (basic.qos) per consumer")
	fs.IntVar(&o.ackEvery, "ack-every", 1, "AMQP consumers ack every `k` deliveries with multiple=true (1: ack each message)")
	fs.Float64Var(&o.rate, "rate", 0, "AMQP: publish at most this many `msgs/s` in total, split evenly over the publishers (0: as fast as confirms allow); for latency at a fixed offered load")
	fs.IntVar(&o.fanoutQueues, "fanout-queues", 10, "durable queues bound to the fanout exchange, one consumer each")
	fs.StringVar(&o.natsURL, "nats-url", "nats://127.0.0.1:4222", "NATS server `URL` for the jslog scenario (JetStream enabled)")
	fs.StringVar(&o.queueType, "queue-type", "", "AMQP: x-queue-type of the declared queues, e.g. classic or quorum (empty: the broker's default)")
	loads := fs.String("latency-loads", "0.1,0.5,0.9", "latency scenario: comma-separated fractions (0 < f ≤ 1) of the measured peak to run at")
	fs.Float64Var(&o.latencyPeak, "latency-peak", 0, "latency scenario: run the fractions of this peak `msgs/s` instead of measuring the broker's own (e.g. another broker's peak, for latency at the same load)")
	fs.IntVar(&o.brokerPID, "broker-pid", 0, "sample this local broker `pid`'s resident set (/proc/PID/status VmRSS) during each scenario; reported as rss_max_mb and rss in the JSON line")
	fs.DurationVar(&o.rssInterval, "rss-interval", time.Second, "interval of the -broker-pid samples")
	logLevel := fs.String("log-level", "info", "log level on stderr: debug, info, warn, error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of ternbench itself to `file`")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "ternbench — load generator for Kafka and AMQP 0-9-1 brokers\n\n"+
			"Usage:\n  ternbench [flags] [scenario ...]   (default scenario: log)\n"+
			"  ternbench report [-md FILE] [-charts DIR] RESULTS.jsonl   (summarise a bench/compare.sh run)\n\nScenarios:\n")
		for _, s := range scenarios() {
			fmt.Fprintf(fs.Output(), "  %-8s %s\n", s.name, s.usage)
		}
		fmt.Fprintf(fs.Output(), "\nOutput: one JSON line per scenario on stdout; logs and a table on stderr.\nSizes: MB = 10^6 bytes of record values.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "ternbench: -log-level: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	for _, b := range strings.Split(*brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			o.brokers = append(o.brokers, b)
		}
	}
	for _, f := range strings.Split(*loads, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 || v > 1 {
			fmt.Fprintf(stderr, "ternbench: -latency-loads %q: want fractions 0 < f ≤ 1\n", *loads)
			return 2
		}
		o.latencyLoads = append(o.latencyLoads, v)
	}
	if err := o.validate(); err != nil {
		fmt.Fprintf(stderr, "ternbench: %v\n", err)
		return 2
	}

	names := fs.Args()
	if len(names) == 0 {
		names = []string{"log"}
	}
	byName := map[string]scenario{}
	for _, s := range scenarios() {
		byName[s.name] = s
	}
	var todo []scenario
	for _, n := range names {
		s, ok := byName[n]
		if !ok {
			fmt.Fprintf(stderr, "ternbench: unknown scenario %q (ternbench -h lists them)\n", n)
			return 2
		}
		todo = append(todo, s)
	}

	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "ternbench: %v\n", err)
			return 1
		}
		defer func() {
			if err := stopProfile(); err != nil {
				logger.Error("cpu profile", "err", err)
			}
		}()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	fmt.Fprintf(stderr, "# %s\n# machine: %s/%s, %d CPUs, %s\n",
		commandLine(args), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	enc := json.NewEncoder(stdout)
	var results []result
	code := 0
	for _, s := range todo {
		start := time.Now()
		stopRSS := func() []rssSample { return nil }
		if o.brokerPID > 0 {
			stopRSS = sampleRSS(ctx, o.brokerPID, o.rssInterval)
		}
		res, err := s.run(ctx, o, logger.With("scenario", s.name))
		res.RSS = stopRSS()
		res.RSSMaxMB = rssMax(res.RSS)
		if err != nil {
			logger.Error("scenario failed", "scenario", s.name, "err", err)
			code = 1
			continue
		}
		res.Scenario = s.name
		res.Label = o.label
		if res.Brokers == "" {
			res.Brokers = strings.Join(o.brokers, ",")
		}
		res.Command = commandLine(args)
		res.Time = start.UTC().Format(time.RFC3339)
		res.DurationS = round(time.Since(start).Seconds(), 3)
		res.Go = runtime.Version()
		res.CPUs = runtime.NumCPU()
		if err := enc.Encode(res); err != nil {
			logger.Error("write result", "err", err)
			return 1
		}
		results = append(results, res)
	}
	printTable(stderr, results)
	return code
}

func (o *options) validate() error {
	switch {
	case len(o.brokers) == 0:
		return errors.New("-brokers: empty")
	case o.partitions < 1:
		return fmt.Errorf("-partitions %d: want ≥ 1", o.partitions)
	case o.records < 1:
		return fmt.Errorf("-records %d: want ≥ 1", o.records)
	case o.duration < 0:
		return fmt.Errorf("-duration %v: want ≥ 0", o.duration)
	case o.size < 1:
		return fmt.Errorf("-size %d: want ≥ 1", o.size)
	case o.producers < 1 || o.consumers < 1:
		return fmt.Errorf("-producers %d, -consumers %d: want ≥ 1", o.producers, o.consumers)
	case o.inflight < 0:
		return fmt.Errorf("-inflight %d: want ≥ 0", o.inflight)
	case o.publishers < 1 || o.fanoutQueues < 1:
		return fmt.Errorf("-publishers %d, -fanout-queues %d: want ≥ 1", o.publishers, o.fanoutQueues)
	case o.prefetch < 0:
		return fmt.Errorf("-prefetch %d: want ≥ 0 (0: unlimited)", o.prefetch)
	case o.ackEvery < 1 || (o.prefetch > 0 && o.ackEvery > o.prefetch):
		return fmt.Errorf("-ack-every %d: want 1 … -prefetch (%d)", o.ackEvery, o.prefetch)
	case o.batchBytes < o.size+128:
		return fmt.Errorf("-batch-bytes %d: must exceed -size plus record overhead", o.batchBytes)
	case o.fetchPartBytes < 1 || o.fetchPartBytes > 1<<30:
		return fmt.Errorf("-fetch-partition-bytes %d: want 1 … 1 GiB", o.fetchPartBytes)
	case o.timeout <= 0:
		return fmt.Errorf("-timeout %v: want > 0", o.timeout)
	case o.latencyPeak < 0:
		return fmt.Errorf("-latency-peak %v: want ≥ 0", o.latencyPeak)
	case o.brokerPID < 0 || (o.brokerPID > 0 && o.rssInterval <= 0):
		return fmt.Errorf("-broker-pid %d, -rss-interval %v: want a pid ≥ 0 and an interval > 0", o.brokerPID, o.rssInterval)
	}
	if o.brokerPID > 0 {
		if _, err := readRSS(o.brokerPID); err != nil { // say so now, not with a silent empty series
			return fmt.Errorf("-broker-pid: %w", err)
		}
	}
	return nil
}

// commandLine is the ternbench invocation as the JSON line records it,
// with the passwords of broker URLs left out.
func commandLine(args []string) string {
	out := []string{"ternbench"}
	for i, a := range args {
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case strings.HasPrefix(a, "-") && hasVal && strings.HasSuffix(name, "-url"):
			a = a[:len(a)-len(val)] + redactURL(val)
		case i > 0 && strings.HasPrefix(args[i-1], "-") && strings.HasSuffix(args[i-1], "-url") && !strings.Contains(args[i-1], "="):
			a = redactURL(a)
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

// startCPUProfile profiles ternbench into path until the returned stop is called.
func startCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		return nil
	}, nil
}

// printTable writes the human-readable summary.
func printTable(w io.Writer, rs []result) {
	if len(rs) == 0 {
		return
	}
	var kafka, amqpRs []result
	for _, r := range rs {
		if r.Queues > 0 {
			amqpRs = append(amqpRs, r)
		} else {
			kafka = append(kafka, r)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(amqpRs) > 0 {
		fmt.Fprintln(tw, "scenario\tqueues\tsize\tconfirmed\tpublish msg/s\tconfirm p50 ms\tconfirm p99 ms\tdelivered\tdeliver msg/s\te2e p50 ms\te2e p99 ms\te2e max ms\tseconds\t")
		for _, r := range amqpRs {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t%.2f\t%.2f\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.1f\t\n",
				r.Scenario, r.Queues, r.Size, r.Records, r.ProduceMsgs, r.P50Ms, r.P99Ms,
				r.ConsumedRecords, r.ConsumeMsgs, r.E2EP50Ms, r.E2EP99Ms, r.E2EMaxMs, r.DurationS)
		}
	}
	for _, r := range amqpRs {
		if len(r.Latency) == 0 {
			continue
		}
		fmt.Fprintln(tw, "\nload\trate msg/s\tdeliver msg/s\te2e p50 ms\te2e p99 ms\te2e p99.9 ms\te2e max ms\tconfirm p99 ms\t")
		for _, l := range r.Latency {
			fmt.Fprintf(tw, "%.0f%%\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
				l.Load*100, l.Rate, l.DeliverMsgs, l.E2EP50Ms, l.E2EP99Ms, l.E2EP999Ms, l.E2EMaxMs, l.ConfirmP99Ms)
		}
	}
	if len(kafka) == 0 {
		tw.Flush()
		return
	}
	rs = kafka
	fmt.Fprintln(tw, "scenario\tpartitions\tsize\trecords\tproduce MB/s\tmsgs/s\tp50 ms\tp99 ms\tp99.9 ms\tmax ms\tconsume MB/s\tconsumed\tseconds\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.1f\t%d\t%.1f\t\n",
			r.Scenario, r.Partitions, r.Size, r.Records, r.ProduceMBs, r.ProduceMsgs,
			r.P50Ms, r.P99Ms, r.P999Ms, r.MaxMs, r.ConsumeMBs, r.ConsumedRecords, r.DurationS)
	}
	tw.Flush()
}
