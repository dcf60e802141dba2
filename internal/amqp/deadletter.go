package amqp

import (
	"fmt"

	"github.com/ternmq/tern/internal/amqp/spec"
	"github.com/ternmq/tern/internal/broker"
)

// DeadLetterProps rewrites a stored content header for dead-lettering, as
// RabbitMQ does: an x-death entry per (queue, reason) with a count, the
// x-first-death-* headers on the first death, and the per-message
// expiration removed so the message does not expire again at once. It
// returns the new header and the headers table for routing. The broker
// core calls it (broker.Config.DeadLetterProps) since only this package
// knows the encoding.
func DeadLetterProps(props []byte, d broker.DeathInfo) ([]byte, map[string]any, error) {
	h := spec.ContentHeader{ClassID: spec.ClassBasic}
	if len(props) > 0 {
		var err error
		if h, err = spec.DecodeContentHeader(props); err != nil {
			return nil, nil, fmt.Errorf("dead-letter: %w", err)
		}
	}
	p := &h.Properties
	if p.Headers == nil {
		p.Headers = spec.Table{}
	}
	deaths, _ := p.Headers["x-death"].([]any)
	found := false
	for i, e := range deaths {
		t, ok := e.(spec.Table)
		if !ok {
			continue
		}
		if t["queue"] == d.Queue && t["reason"] == d.Reason {
			n, _ := broker.ArgInt(t["count"])
			t["count"] = n + 1
			t["time"] = d.Time.UTC().Truncate(1e9)
			// The most recent death goes first.
			deaths = append([]any{t}, append(deaths[:i:i], deaths[i+1:]...)...)
			found = true
			break
		}
	}
	if !found {
		entry := spec.Table{
			"count":        int64(1),
			"reason":       d.Reason,
			"queue":        d.Queue,
			"time":         d.Time.UTC().Truncate(1e9),
			"exchange":     d.Exchange,
			"routing-keys": []any{d.RoutingKey},
		}
		if p.Expiration != "" {
			entry["original-expiration"] = p.Expiration
		}
		deaths = append([]any{entry}, deaths...)
	}
	p.Headers["x-death"] = deaths
	if _, ok := p.Headers["x-first-death-reason"]; !ok {
		p.Headers["x-first-death-reason"] = d.Reason
		p.Headers["x-first-death-queue"] = d.Queue
		p.Headers["x-first-death-exchange"] = d.Exchange
	}
	p.Expiration = ""
	p.Flags &^= spec.FlagExpiration
	p.Flags |= spec.FlagHeaders
	out, err := h.AppendTo(nil)
	if err != nil {
		return nil, nil, fmt.Errorf("dead-letter: %w", err)
	}
	return out, p.Headers, nil
}
