package queue

// Dispatch hands up to max ready messages to consumers with credit, in
// ready order (highest level first; requeued before never-delivered, lowest
// offset first). Each message goes to the highest-priority active consumer
// with credit, round-robin among equals (fair dispatch); no consumer ever
// exceeds its prefetch or its channel's. NoAck consumers' deliveries are
// settled at once (fx.Settled). It returns fewer than max when messages
// or credit run out; max <= 0 returns nothing. The caller calls it after
// any event that may add messages or credit (Append, AddConsumer, Ack,
// Reject, ChannelClosed, SetChannelPrefetch), checking Head's TTL first
// if messages expire.
func (q *Queue) Dispatch(max int) (ds []Delivery, fx Effects) {
	for len(ds) < max {
		l, ok := q.headLevel()
		if !ok {
			break
		}
		c := q.pick()
		if c == nil {
			break
		}
		r, _ := l.take()
		if ds == nil {
			ds = make([]Delivery, 0, min(max, 64))
		}
		ds = append(ds, q.deliver(l, r, c, c.Channel, c.NoAck, &fx))
	}
	return ds, fx
}

// Get is basic.get on channel ch: the head message, if any, regardless
// of consumers and prefetch (which do not apply to basic.get). With
// noAck it is settled at once; otherwise it is unacknowledged on ch like
// a consumer's delivery. ok is false when no message is ready
// (basic.get-empty).
func (q *Queue) Get(ch ChannelID, noAck bool) (d Delivery, fx Effects, ok bool) {
	l, ok := q.headLevel()
	if !ok {
		return d, fx, false
	}
	r, _ := l.take()
	q.channel(ch)
	return q.deliver(l, r, nil, ch, noAck, &fx), fx, true
}

// deliver records the delivery of r (already taken from the ready
// messages) to c (nil for basic.get) on channel ch.
func (q *Queue) deliver(l *level, r ready, c *consumer, ch ChannelID, noAck bool, fx *Effects) Delivery {
	q.seq++
	d := Delivery{Channel: ch, Level: l.idx, Offset: r.offset, Redelivered: r.count > 0, DeliveryCount: r.count}
	if c != nil {
		d.Consumer = c.ID
		c.served = q.seq
	}
	if noAck {
		q.settle(l, r.offset, "", fx)
		return d
	}
	l.unacked[r.offset] = inflight{consumer: d.Consumer, channel: ch, size: r.size, count: r.count + 1}
	l.unackedBytes += int64(r.size)
	if c != nil {
		c.unacked++
		q.channels[ch].unacked++
	}
	return d
}
