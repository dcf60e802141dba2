package broker

import (
	"fmt"
	"strconv"

	"github.com/ternmq/tern/internal/message"
)

// QueueMessage is an AMQP message as the core sees it: routing data, the
// few properties the core acts on, and the rest opaque. It is stored as a
// Kafka record (docs/decisions/0003-amqp-queues-over-logs.md): routing key
// → key, body → value, the rest → headers under the reserved x-amqp-
// prefix, so a Kafka client reading the queue's log sees the body as the
// value.
type QueueMessage struct {
	Exchange   string
	RoutingKey string
	// Props is the encoded content-header property list, exactly as the
	// publisher sent it; the core stores and returns it untouched.
	Props []byte
	Body  []byte
	// Persistent is delivery-mode 2.
	Persistent bool
	// Priority is the priority property (0 when absent).
	Priority uint8
	// ExpiresAt is the absolute deadline in Unix milliseconds after which
	// the message is dead (per-message expiration or queue TTL); 0 = never.
	ExpiresAt int64
	// Timestamp is when the broker accepted the message, Unix ms.
	Timestamp int64
}

// Reserved record header names.
const (
	hdrExchange = "x-amqp-exchange"
	hdrProps    = "x-amqp-props"
	hdrExpires  = "x-amqp-expires-at"
	hdrPriority = "x-amqp-priority"
	hdrMode     = "x-amqp-delivery-mode"
)

// encodeQueueMessage builds the one-record batch a stream publish appends.
func encodeQueueMessage(m QueueMessage) []byte {
	return message.EncodeBatch([]message.Record{queueRecord(m)}, message.BatchOptions{ProducerID: -1, BaseSequence: -1})
}

// queueRecord is m as the record it is stored as.
func queueRecord(m QueueMessage) message.Record {
	hs := make([]message.Header, 1, 5)
	hs[0] = message.Header{Key: hdrExchange, Value: []byte(m.Exchange)}
	if len(m.Props) > 0 {
		hs = append(hs, message.Header{Key: hdrProps, Value: m.Props})
	}
	if m.ExpiresAt > 0 {
		hs = append(hs, message.Header{Key: hdrExpires, Value: []byte(strconv.FormatInt(m.ExpiresAt, 10))})
	}
	if m.Priority > 0 {
		hs = append(hs, message.Header{Key: hdrPriority, Value: []byte{m.Priority}})
	}
	if m.Persistent {
		hs = append(hs, message.Header{Key: hdrMode, Value: []byte{2}})
	}
	body := m.Body
	if body == nil {
		body = []byte{}
	}
	return message.Record{Key: []byte(m.RoutingKey), Value: body, Headers: hs, Timestamp: m.Timestamp}
}

// decodeQueueMessage turns a stored record back into a message. Records
// written by Kafka producers (a topic bound into an exchange, or a stream
// read over AMQP) have no x-amqp headers: they come back with the key as
// routing key, the value as body and no properties.
func decodeQueueMessage(r message.View) (QueueMessage, error) {
	m := QueueMessage{RoutingKey: string(r.Key), Body: r.Value, Timestamp: r.Timestamp}
	var err error
	r.Headers(func(k, v []byte) bool {
		switch string(k) { // no allocation: a switch on a conversion
		case hdrExchange:
			m.Exchange = string(v)
		case hdrProps:
			m.Props = v
		case hdrExpires:
			n, perr := strconv.ParseInt(string(v), 10, 64)
			if perr != nil {
				err = fmt.Errorf("%w: bad %s header: %w", ErrCorruptMessage, hdrExpires, perr)
				return false
			}
			m.ExpiresAt = n
		case hdrPriority:
			if len(v) == 1 {
				m.Priority = v[0]
			}
		case hdrMode:
			m.Persistent = len(v) == 1 && v[0] == 2
		}
		return true
	})
	if m.Body == nil {
		m.Body = []byte{}
	}
	return m, err
}
