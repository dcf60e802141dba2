package broker

import (
	"sort"
	"time"

	"github.com/ternmq/tern/internal/broker/exchange"
)

// What the admin API reads of a virtual host: listings of its queues,
// exchanges and bindings, in RabbitMQ's management API's terms.

// QueueInfo describes one queue or stream.
type QueueInfo struct {
	QueueStats
	// Type is "classic" or "stream".
	Type                           string
	Durable, Exclusive, AutoDelete bool
	Args                           map[string]any
}

// VHosts lists the virtual hosts, by name.
func (b *Broker) VHosts() []*VHost {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]*VHost, 0, len(b.vhosts))
	for _, v := range b.vhosts {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// QueueInfos lists the vhost's queues and streams, by name. A stream's
// ready count is the messages in its log.
func (v *VHost) QueueInfos() []QueueInfo {
	t := v.targets.Load()
	now := v.b.cfg.Now()
	out := make([]QueueInfo, 0, len(t.queues)+len(t.streams))
	for _, q := range t.queues {
		out = append(out, v.queueInfo(q, now))
	}
	for _, st := range t.streams {
		out = append(out, v.streamInfo(st))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// QueueInfo describes one queue or stream; reading one does not touch
// the others (QueueInfos flushes and locks every queue).
func (v *VHost) QueueInfo(name string) (QueueInfo, bool) {
	t := v.targets.Load()
	if q, ok := t.queues[name]; ok {
		return v.queueInfo(q, v.b.cfg.Now()), true
	}
	if st, ok := t.streams[name]; ok {
		return v.streamInfo(st), true
	}
	return QueueInfo{}, false
}

func (v *VHost) queueInfo(q *MQueue, now time.Time) QueueInfo {
	s := q.Spec()
	return QueueInfo{
		QueueStats: q.metrics(v.name, now), Type: "classic",
		Durable: s.Durable, Exclusive: s.Exclusive, AutoDelete: s.AutoDelete, Args: s.Args,
	}
}

func (v *VHost) streamInfo(st *Stream) QueueInfo {
	qi := QueueInfo{QueueStats: QueueStats{VHost: v.name, Name: st.name}, Type: "stream", Durable: true}
	if start, hw, _, err := v.b.PartitionOffsets(st.topic, 0); err == nil {
		qi.Ready = hw - start
	}
	st.mu.Lock()
	qi.Consumers = len(st.consumers)
	st.mu.Unlock()
	return qi
}

// Exchanges lists the vhost's exchanges, the predeclared ones included.
func (v *VHost) Exchanges() []exchange.ExchangeRecord {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.router.Exchanges()
}

// Exchange describes one exchange.
func (v *VHost) Exchange(name string) (exchange.ExchangeRecord, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.router.Exchange(name)
}

// Bindings lists the vhost's bindings. As in RabbitMQ's management API,
// the default exchange's implicit binding of every queue (by its name) is
// listed too.
func (v *VHost) Bindings() []exchange.BindingRecord {
	v.mu.Lock()
	snap := v.router.Snapshot()
	v.mu.Unlock()
	out := make([]exchange.BindingRecord, 0, len(snap.Queues)+len(snap.Bindings))
	for _, q := range snap.Queues {
		out = append(out, exchange.BindingRecord{Destination: exchange.QueueDest(q.Name), RoutingKey: q.Name, Durable: q.Durable})
	}
	return append(out, snap.Bindings...)
}
