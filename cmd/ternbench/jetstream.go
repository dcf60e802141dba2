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

	"github.com/nats-io/nats.go"
)

// jsLogScenario is the log workload against NATS JetStream, through
// NATS's own Go client, for side-by-side runs with `log` against Tern:
// produce 1 stream's worth of records from -producers connections with
// async publishes (at most -inflight unacknowledged each), then read the
// whole stream back with one ordered consumer. The stream uses
// JetStream's defaults (file storage; the server does not fsync before
// acknowledging unless configured to).
func jsLogScenario() scenario {
	return scenario{
		name: "jslog",
		usage: "NATS JetStream (-nats-url): create a file stream, publish -records (or for -duration) from -producers " +
			"connections with async acks, then read it all back with one ordered consumer",
		run: runJSLog,
	}
}

func runJSLog(ctx context.Context, o options, log *slog.Logger) (res result, err error) {
	if o.inflight == 0 {
		o.inflight = 1024
	}
	name := o.resourceName("jslog")
	res = result{
		Brokers: redactURL(o.natsURL), Topic: name, Partitions: 1, Size: o.size,
		Producers: o.producers, Consumers: 1, Inflight: o.inflight, TargetRecords: o.records,
	}
	admin, err := nats.Connect(o.natsURL, nats.Name("ternbench-admin"))
	if err != nil {
		return res, fmt.Errorf("connect %s: %w", o.natsURL, err)
	}
	defer admin.Close()
	js, err := admin.JetStream()
	if err != nil {
		return res, fmt.Errorf("jetstream: %w", err)
	}
	if _, err := js.AddStream(&nats.StreamConfig{Name: name, Subjects: []string{name}, Storage: nats.FileStorage}); err != nil {
		return res, fmt.Errorf("create stream %s: %w", name, err)
	}
	log.Info("stream created", "stream", name)
	if !o.keep {
		defer func() {
			if derr := js.DeleteStream(name); derr != nil {
				log.Warn("delete stream", "stream", name, "err", derr)
			}
		}()
	}

	pr, err := produceJS(ctx, o, name, log)
	if err != nil {
		return res, err
	}
	pr.fillProduce(&res, o.size)
	cr, err := consumeJS(ctx, js, name, pr.acked)
	if err != nil {
		return res, err
	}
	cr.fillConsume(&res)
	return res, nil
}

// produceJS publishes from o.producers connections. Each keeps at most
// o.inflight publishes unacknowledged: a goroutine per producer waits for
// the acks in order and records publish → ack latency.
func produceJS(ctx context.Context, o options, subject string, log *slog.Logger) (*produceResult, error) {
	pool, err := randomPool(8<<20, o.size)
	if err != nil {
		return nil, err
	}
	stopCtx, stop := claimWindow(ctx, o.duration)
	defer stop()
	var (
		claimed, acked atomic.Int64
		errOnce        sync.Once
		firstErr       error
		wg             sync.WaitGroup
	)
	fail := func(err error) { errOnce.Do(func() { firstErr = err; stop() }) }
	hists := make([]*histogram, o.producers)
	start := time.Now()
	for i := range o.producers {
		h := &histogram{}
		hists[i] = h
		nc, err := nats.Connect(o.natsURL, nats.Name(fmt.Sprintf("ternbench-producer-%d", i)))
		if err != nil {
			stop()
			wg.Wait()
			return nil, fmt.Errorf("producer %d: connect: %w", i, err)
		}
		defer nc.Close()
		// The pending channel below holds -inflight; one more is being
		// awaited and one just published.
		js, err := nc.JetStream(nats.PublishAsyncMaxPending(o.inflight + 2))
		if err != nil {
			stop()
			wg.Wait()
			return nil, fmt.Errorf("producer %d: jetstream: %w", i, err)
		}
		type sent struct {
			f  nats.PubAckFuture
			t0 time.Time
		}
		// The channel bounds what is in flight; acks are awaited in order.
		pending := make(chan sent, o.inflight)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for s := range pending {
				select {
				case <-s.f.Ok():
					h.record(time.Since(s.t0))
					acked.Add(1)
				case err := <-s.f.Err():
					fail(fmt.Errorf("publish: %w", err))
				case <-ctx.Done():
					fail(ctx.Err())
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			defer close(pending)
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(i)))
			for stopCtx.Err() == nil && claimed.Add(1) <= o.records {
				off := rng.IntN(len(pool) - o.size + 1)
				t0 := time.Now()
				f, err := js.PublishAsync(subject, pool[off:off+o.size])
				if err != nil {
					fail(fmt.Errorf("publish: %w", err))
					return
				}
				select {
				case pending <- sent{f, t0}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil && !errors.Is(firstErr, context.Canceled) {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("produce: %w", err)
	}
	pr := &produceResult{acked: acked.Load(), elapsed: elapsed}
	for _, h := range hists {
		pr.hist.merge(h)
	}
	log.Info("produced", "acked", pr.acked, "seconds", round(elapsed.Seconds(), 2))
	return pr, nil
}

// consumeJS reads the stream from its first message with one ordered
// consumer until want messages arrived.
func consumeJS(ctx context.Context, js nats.JetStreamContext, subject string, want int64) (*consumeResult, error) {
	var got, size atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	start := time.Now()
	sub, err := js.Subscribe(subject, func(m *nats.Msg) {
		size.Add(int64(len(m.Data)))
		if got.Add(1) >= want {
			once.Do(func() { close(done) })
		}
	}, nats.OrderedConsumer(), nats.DeliverAll())
	if err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	defer sub.Unsubscribe()
	if want > 0 {
		select {
		case <-done:
		case <-ctx.Done():
			return nil, fmt.Errorf("consume: %d of %d messages: %w", got.Load(), want, ctx.Err())
		}
	}
	return &consumeResult{records: got.Load(), bytes: size.Load(), elapsed: time.Since(start)}, nil
}
