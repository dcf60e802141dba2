package main

import (
	"context"
	"log/slog"
)

// queueScenario is the AMQP work-queue workload: one durable queue,
// -publishers confirm-mode publishers of persistent messages and
// -consumers consumers with manual acks, all running at once.
func queueScenario() scenario {
	return scenario{
		name: "queue",
		usage: "AMQP: one durable queue, -publishers publishing persistent messages with confirms " +
			"(-inflight each) while -consumers consume with -prefetch and manual acks; " +
			"publish/deliver msg/s and publish→delivery latency",
		run: func(ctx context.Context, o options, log *slog.Logger) (result, error) {
			return runAMQP(ctx, o, amqpWorkload{
				prefix: "queue", queues: 1, publishers: o.publishers, consumersPerQueue: o.consumers,
			}, log)
		},
	}
}
