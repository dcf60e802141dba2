package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// logScenario is the Kafka log workload: produce to a fresh topic at full
// speed with acks=all and idempotence, then read the whole topic back.
func logScenario() scenario {
	return scenario{
		name: "log",
		usage: "create a topic, produce -records (or for -duration) from -producers idempotent acks=all " +
			"clients, then consume it all from the start with -consumers clients",
		run: runLog,
	}
}

func runLog(ctx context.Context, o options, log *slog.Logger) (res result, err error) {
	if o.inflight == 0 {
		o.inflight = 1024
	}
	topic := o.resourceName("log")
	res = result{
		Topic: topic, Partitions: o.partitions, Size: o.size,
		Producers: o.producers, Consumers: o.consumers, Inflight: o.inflight,
		LingerMs: float64(o.linger) / float64(time.Millisecond), TargetRecords: o.records,
	}

	admCl, err := kgo.NewClient(kgo.SeedBrokers(o.brokers...))
	if err != nil {
		return res, fmt.Errorf("admin client: %w", err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	if _, err := adm.CreateTopic(ctx, int32(o.partitions), 1, nil, topic); err != nil {
		return res, fmt.Errorf("create topic %s: %w", topic, err)
	}
	log.Info("topic created", "topic", topic, "partitions", o.partitions)
	if !o.keep {
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if _, derr := adm.DeleteTopic(dctx, topic); derr != nil {
				log.Warn("delete topic", "topic", topic, "err", derr)
			}
		}()
	}

	pr, err := produceLog(ctx, o, topic, log)
	if err != nil {
		return res, err
	}
	pr.fillProduce(&res, o.size)

	cr, err := consumeLog(ctx, o, topic, adm, log)
	if err != nil {
		return res, err
	}
	cr.fillConsume(&res)
	if cr.records != pr.acked {
		return res, fmt.Errorf("consumed %d records, but the broker acknowledged %d", cr.records, pr.acked)
	}
	return res, nil
}

type produceResult struct {
	acked   int64
	elapsed time.Duration
	hist    histogram
}

// produceLog runs the produce phase. Each producer claims record numbers
// from a shared counter until -records are claimed or -duration passes;
// Produce blocks once the producer has -inflight records un-acked, so the
// load is closed-loop and latency includes client-side queueing, as in
// Kafka's own producer perf test.
func produceLog(ctx context.Context, o options, topic string, log *slog.Logger) (*produceResult, error) {
	pool, err := randomPool(8<<20, o.size)
	if err != nil {
		return nil, err
	}

	clients := make([]*kgo.Client, o.producers)
	for i := range clients {
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(o.brokers...),
			kgo.DefaultProduceTopic(topic),
			kgo.RequiredAcks(kgo.AllISRAcks()), // idempotence is on by default with acks=all
			kgo.ProducerBatchCompression(kgo.NoCompression()),
			kgo.MaxBufferedRecords(o.inflight),
			kgo.ProducerLinger(o.linger),
			kgo.ProducerBatchMaxBytes(int32(o.batchBytes)),
			kgo.ClientID(fmt.Sprintf("ternbench-producer-%d", i)),
		)
		if err != nil {
			for _, c := range clients[:i] {
				c.Close()
			}
			return nil, fmt.Errorf("producer client %d: %w", i, err)
		}
		clients[i] = cl
	}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()

	stopCtx, stop := claimWindow(ctx, o.duration)
	defer stop()

	var (
		claimed  atomic.Int64
		acked    atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; stop() })
	}
	hists := make([]*histogram, o.producers)
	start := time.Now()
	for i, cl := range clients {
		h := &histogram{}
		hists[i] = h
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mu sync.Mutex // promises of one client run serially; the lock orders them with the final read
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(i)))
			for stopCtx.Err() == nil && claimed.Add(1) <= o.records {
				off := rng.IntN(len(pool) - o.size + 1)
				r := &kgo.Record{Value: pool[off : off+o.size : off+o.size]}
				t0 := time.Now()
				// The record gets ctx, not stopCtx: once handed over it is
				// either acked or a real failure, never cut off by -duration.
				cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
					d := time.Since(t0)
					if err != nil {
						fail(fmt.Errorf("produce: %w", err))
						return
					}
					mu.Lock()
					h.record(d)
					mu.Unlock()
					acked.Add(1)
				})
			}
			if err := cl.Flush(ctx); err != nil {
				fail(fmt.Errorf("flush: %w", err))
			}
			mu.Lock() // wait for any promise still recording
			mu.Unlock()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			n := acked.Load()
			el := time.Since(start).Seconds()
			log.Info("producing", "acked", n, "mb_s", round(float64(n)*float64(o.size)/1e6/el, 1))
		}
	}
	elapsed := time.Since(start)
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("produce phase: %w", err)
	}
	pr := &produceResult{acked: acked.Load(), elapsed: elapsed}
	for _, h := range hists {
		pr.hist.merge(h)
	}
	if pr.acked == 0 {
		return nil, errors.New("produce phase: no record was acknowledged")
	}
	log.Info("produce done", "acked", pr.acked, "seconds", round(elapsed.Seconds(), 2))
	return pr, nil
}

type consumeResult struct {
	records int64
	bytes   int64
	elapsed time.Duration
}

// consumeLog reads every partition from its start offset to the end offset
// seen after producing. Partitions are assigned directly (no group), split
// round-robin between consumers, so the phase measures fetch throughput
// and not rebalancing.
func consumeLog(ctx context.Context, o options, topic string, adm *kadm.Client, log *slog.Logger) (*consumeResult, error) {
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	n := min(o.consumers, o.partitions)
	if n < o.consumers {
		log.Warn("more consumers than partitions; some stay idle", "consumers", o.consumers, "partitions", o.partitions)
	}
	assign := make([]map[int32]int64, n) // partition → end offset
	for i := range assign {
		assign[i] = map[int32]int64{}
	}
	offsets := map[int32]kgo.Offset{}
	ends.Each(func(e kadm.ListedOffset) {
		s, _ := starts.Lookup(topic, e.Partition)
		if e.Offset > s.Offset {
			assign[int(e.Partition)%n][e.Partition] = e.Offset
			offsets[e.Partition] = kgo.NewOffset().At(s.Offset)
		}
	})

	var (
		records, bytes atomic.Int64
		wg             sync.WaitGroup
		errs           = make([]error, n)
	)
	start := time.Now()
	for i, parts := range assign {
		if len(parts) == 0 {
			continue
		}
		own := map[int32]kgo.Offset{}
		for p := range parts {
			own[p] = offsets[p]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = consumeUntil(ctx, o, topic, own, parts, &records, &bytes)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cr := &consumeResult{records: records.Load(), bytes: bytes.Load(), elapsed: elapsed}
	log.Info("consume done", "records", cr.records, "seconds", round(elapsed.Seconds(), 2))
	return cr, nil
}

// consumeUntil reads the given partitions until each reaches its end offset.
func consumeUntil(ctx context.Context, o options, topic string, from map[int32]kgo.Offset, ends map[int32]int64, records, bytes *atomic.Int64) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(o.brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.FetchMaxPartitionBytes(int32(o.fetchPartBytes)),
		kgo.ClientID("ternbench-consumer"),
	)
	if err != nil {
		return fmt.Errorf("consumer client: %w", err)
	}
	defer cl.Close()
	left := len(ends)
	next := map[int32]int64{}
	for left > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("consume: %d partitions unfinished: %w", left, err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			ferr = errors.Join(ferr, fmt.Errorf("fetch %s[%d]: %w", t, p, err))
		})
		if ferr != nil {
			return ferr
		}
		var n, b int64
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) == 0 {
				return
			}
			for _, r := range p.Records {
				b += int64(len(r.Value) + len(r.Key))
			}
			n += int64(len(p.Records))
			end, ok := ends[p.Partition]
			was := next[p.Partition]
			next[p.Partition] = p.Records[len(p.Records)-1].Offset + 1
			if ok && was < end && next[p.Partition] >= end {
				left--
			}
		})
		records.Add(n)
		bytes.Add(b)
	}
	return nil
}
