package main

import (
	"context"
	"log/slog"
)

// fanoutScenario is the AMQP broadcast workload: one confirm-mode
// publisher to a durable fanout exchange bound to -fanout-queues durable
// queues, one consumer per queue.
func fanoutScenario() scenario {
	return scenario{
		name: "fanout",
		usage: "AMQP: one publisher with confirms to a fanout exchange bound to -fanout-queues durable queues, " +
			"one consumer each; publish msg/s and total delivered msg/s",
		run: func(ctx context.Context, o options, log *slog.Logger) (result, error) {
			return runAMQP(ctx, o, amqpWorkload{
				prefix: "fanout", exchange: true, queues: o.fanoutQueues, publishers: 1, consumersPerQueue: 1,
			}, log)
		},
	}
}
