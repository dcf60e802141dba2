package main

import (
	"context"
	"log/slog"
)

// backlogScenario queues everything before anyone consumes: one durable
// queue, -publishers confirm-mode publishers of persistent messages, and
// only once all are confirmed, -consumers drain it. It shows what a deep
// backlog costs the broker (memory, then drain speed).
func backlogScenario() scenario {
	return scenario{
		name: "backlog",
		usage: "AMQP: -publishers publish -records persistent messages with confirms to one durable queue " +
			"with no consumer, then -consumers drain it; publish msg/s, drain msg/s (from the drain's start)",
		run: func(ctx context.Context, o options, log *slog.Logger) (result, error) {
			return runAMQP(ctx, o, amqpWorkload{
				prefix: "backlog", queues: 1, publishers: o.publishers, consumersPerQueue: o.consumers, backlog: true,
			}, log)
		},
	}
}
