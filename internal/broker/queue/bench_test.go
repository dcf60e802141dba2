package queue

import "testing"

// BenchmarkDispatchAck measures a message's life through the state
// machine: append, dispatch to one consumer with prefetch 100 (in batches
// of 100), and an individual ack. One op is one message.
func BenchmarkDispatchAck(b *testing.B) {
	q, err := New(DefaultConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := q.AddConsumer(ConsumerSpec{ID: 1, Channel: 1, Prefetch: 100}); err != nil {
		b.Fatal(err)
	}
	var next int64
	b.ReportAllocs()
	for i := 0; i < b.N; i += 100 {
		for range 100 {
			if _, _, err := q.Append(0, next, 256); err != nil {
				b.Fatal(err)
			}
			next++
		}
		ds, _ := q.Dispatch(100)
		for _, d := range ds {
			if _, err := q.Ack(d.Channel, d.Level, d.Offset); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAppendBacklog is the cost of a message joining the backlog.
func BenchmarkAppendBacklog(b *testing.B) {
	q, err := New(DefaultConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := range b.N {
		if _, _, err := q.Append(0, int64(i), 256); err != nil {
			b.Fatal(err)
		}
	}
}
