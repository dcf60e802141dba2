package amqp

import (
	"github.com/ternmq/tern/internal/amqp/spec"
	"github.com/ternmq/tern/internal/broker"
)

// txState buffers a transactional channel's publishes and settlements
// until tx.commit; tx.rollback drops them.
type txState struct {
	publishes []txPublish
	acks      []txSettle
}

type txPublish struct {
	m       *spec.BasicPublish
	msg     broker.QueueMessage
	headers spec.Table
}

type txSettle struct {
	m                      spec.Method
	tag                    uint64
	multiple, ack, requeue bool
}

func (ch *channel) txMethod(m spec.Method) error {
	switch m.(type) {
	case *spec.TxSelect:
		if ch.confirms != nil {
			return newError(spec.PreconditionFailed, m, "cannot switch from confirm to tx mode")
		}
		if ch.tx == nil {
			ch.tx = &txState{}
		}
		ch.c.sendMethod(ch.id, &spec.TxSelectOK{})
	case *spec.TxCommit:
		if ch.tx == nil {
			return newError(spec.PreconditionFailed, m, "channel is not transactional")
		}
		tx := ch.tx
		ch.tx = nil // settle and route for real
		defer func() { ch.tx = &txState{} }()
		var waits []func() error
		for _, p := range tx.publishes {
			wait, err := ch.route(p.m, p.msg, p.headers)
			if err != nil {
				return err
			}
			if wait != nil {
				waits = append(waits, wait)
			}
		}
		for _, a := range tx.acks {
			if err := ch.settle(a.m, a.tag, a.multiple, a.ack, a.requeue); err != nil {
				return err
			}
		}
		// commit-ok promises the publishes are safely stored, as a
		// confirm would.
		for _, w := range waits {
			if err := w(); err != nil {
				return newError(spec.InternalError, m, "commit: %v", err)
			}
		}
		ch.c.sendMethod(ch.id, &spec.TxCommitOK{})
	case *spec.TxRollback:
		if ch.tx == nil {
			return newError(spec.PreconditionFailed, m, "channel is not transactional")
		}
		ch.tx = &txState{}
		ch.c.sendMethod(ch.id, &spec.TxRollbackOK{})
	}
	return nil
}
