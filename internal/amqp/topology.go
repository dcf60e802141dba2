package amqp

import (
	"errors"

	"github.com/ternmq/tern/internal/amqp/spec"
	"github.com/ternmq/tern/internal/broker"
)

// Exchange and queue methods: thin translations to the virtual host in
// the core, which owns the topology and persists the durable part.

func (ch *channel) reply(noWait bool, m spec.Method) {
	if !noWait {
		ch.c.sendMethod(ch.id, m)
	}
}

func (ch *channel) exchangeDeclare(m *spec.ExchangeDeclare) error {
	if err := ch.c.access.ExchangeDeclare(m.Exchange, m.Passive, m.Arguments); err != nil {
		return err
	}
	if err := ch.c.vhost.DeclareExchange(ch.c.ctx, m.Exchange, m.Type, m.Passive, m.Durable, m.AutoDelete, m.Internal, m.Arguments); err != nil {
		return err
	}
	ch.reply(m.NoWait, &spec.ExchangeDeclareOK{})
	return nil
}

func (ch *channel) exchangeDelete(m *spec.ExchangeDelete) error {
	if err := ch.c.access.ExchangeDelete(m.Exchange); err != nil {
		return err
	}
	if err := ch.c.vhost.DeleteExchange(ch.c.ctx, m.Exchange, m.IfUnused); err != nil {
		return err
	}
	ch.reply(m.NoWait, &spec.ExchangeDeleteOK{})
	return nil
}

func (ch *channel) exchangeBind(m *spec.ExchangeBind) error {
	if err := ch.c.access.Bind(m.Destination, false, m.Source); err != nil {
		return err
	}
	if err := ch.c.vhost.Bind(ch.c.ctx, m.Destination, false, m.Source, m.RoutingKey, m.Arguments); err != nil {
		return err
	}
	ch.reply(m.NoWait, &spec.ExchangeBindOK{})
	return nil
}

func (ch *channel) exchangeUnbind(m *spec.ExchangeUnbind) error {
	if err := ch.c.access.Bind(m.Destination, false, m.Source); err != nil {
		return err
	}
	if err := ch.c.vhost.Unbind(ch.c.ctx, m.Destination, false, m.Source, m.RoutingKey, m.Arguments); err != nil {
		return err
	}
	ch.reply(m.NoWait, &spec.ExchangeUnbindOK{})
	return nil
}

func (ch *channel) queueDeclare(m *spec.QueueDeclare) error {
	// The check names the queue (a server name is chosen by it).
	name, err := ch.c.access.QueueDeclare(m.Queue, m.Passive, m.Arguments)
	if err != nil {
		return err
	}
	res, err := ch.c.vhost.DeclareQueue(ch.c.ctx, name, m.Passive, m.Durable, m.Exclusive, m.AutoDelete, m.Arguments, ch.c.id)
	if err != nil {
		return err
	}
	ch.reply(m.NoWait, &spec.QueueDeclareOK{Queue: res.Name, MessageCount: uint32(res.Messages), ConsumerCount: uint32(res.Consumers)})
	return nil
}

// checkQueue reports a missing or locked queue; streams are open to all.
func (ch *channel) checkQueue(name string) error {
	if _, ok := ch.c.vhost.Stream(name); ok {
		return nil
	}
	_, err := ch.c.vhost.Queue(name, ch.c.id)
	return err
}

func (ch *channel) queueBind(m *spec.QueueBind) error {
	if err := ch.c.access.Bind(m.Queue, true, m.Exchange); err != nil {
		return err
	}
	if err := ch.checkQueue(m.Queue); err != nil {
		return err
	}
	if err := ch.c.vhost.Bind(ch.c.ctx, m.Queue, true, m.Exchange, m.RoutingKey, m.Arguments); err != nil {
		return err
	}
	ch.reply(m.NoWait, &spec.QueueBindOK{})
	return nil
}

func (ch *channel) queueUnbind(m *spec.QueueUnbind) error {
	if err := ch.c.access.Bind(m.Queue, true, m.Exchange); err != nil {
		return err
	}
	if err := ch.checkQueue(m.Queue); err != nil {
		return err
	}
	if err := ch.c.vhost.Unbind(ch.c.ctx, m.Queue, true, m.Exchange, m.RoutingKey, m.Arguments); err != nil {
		return err
	}
	ch.c.sendMethod(ch.id, &spec.QueueUnbindOK{})
	return nil
}

func (ch *channel) queuePurge(m *spec.QueuePurge) error {
	if err := ch.c.access.QueuePurge(m.Queue); err != nil {
		return err
	}
	q, err := ch.c.vhost.Queue(m.Queue, ch.c.id)
	if err != nil {
		return err
	}
	n := q.Purge()
	ch.reply(m.NoWait, &spec.QueuePurgeOK{MessageCount: uint32(n)})
	return nil
}

func (ch *channel) queueDelete(m *spec.QueueDelete) error {
	if err := ch.c.access.QueueDelete(m.Queue); err != nil {
		return err
	}
	n, err := ch.c.vhost.DeleteQueue(ch.c.ctx, m.Queue, m.IfUnused, m.IfEmpty, ch.c.id)
	if errors.Is(err, broker.ErrNotFound) {
		err = nil // deleting a missing queue succeeds, as in RabbitMQ 3.x+
	}
	if err != nil {
		return err
	}
	ch.reply(m.NoWait, &spec.QueueDeleteOK{MessageCount: uint32(n)})
	return nil
}
