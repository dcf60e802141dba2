package admin

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ternmq/tern/internal/amqp/spec"
	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/queue"
)

// The AMQP side of the API keeps the shapes of RabbitMQ's management API
// (paths, field names, status codes), so rabbitmqadmin-style scripts work.

// vhostOf resolves the {vhost} path value.
func vhostOf(r *http.Request, b *Backend) (*broker.VHost, error) {
	name := pathValue(r, "vhost")
	v, err := b.Broker.VHost(name)
	if err != nil {
		return nil, errorf(http.StatusNotFound, "no virtual host %q (list them with GET /api/vhosts; \"/\" is written %%2F in paths)", name)
	}
	return v, nil
}

// vhostsOf is every vhost, or the one named by the path.
func vhostsOf(r *http.Request, b *Backend) ([]*broker.VHost, error) {
	if pathValue(r, "vhost") == "" {
		return b.Broker.VHosts(), nil
	}
	v, err := vhostOf(r, b)
	if err != nil {
		return nil, err
	}
	return []*broker.VHost{v}, nil
}

// argsJSON is an AMQP field table as plain JSON, numbers kept exact:
// whole numbers become int64 (what x-max-length and friends need),
// others float64.
type argsJSON map[string]any

func (a *argsJSON) UnmarshalJSON(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return err
	}
	*a = fromJSON(m).(map[string]any)
	return nil
}

func fromJSON(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = fromJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = fromJSON(e)
		}
		return out
	default:
		return v
	}
}

// toJSON renders a field table's values as JSON can carry them.
func toJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = toJSON(e)
		}
		return out
	case spec.Table:
		return toJSON(map[string]any(v))
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = toJSON(e)
		}
		return out
	case []byte:
		if utf8.Valid(v) {
			return string(v)
		}
		return base64.StdEncoding.EncodeToString(v)
	case time.Time:
		return v.Unix()
	case spec.Decimal:
		return float64(v.Value) / math.Pow10(int(v.Scale))
	case float32:
		return float64(v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Sprint(v)
		}
		return v
	default:
		return v
	}
}

func argsOut(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return toJSON(m).(map[string]any)
}

func (a *api) queueRoutes(mux *http.ServeMux) {
	a.route(mux, "GET /api/queues", a.listQueues)
	a.route(mux, "GET /api/queues/{vhost}", a.listQueues)
	a.route(mux, "GET /api/queues/{vhost}/{name}", func(r *http.Request, b *Backend) (int, any, error) {
		v, err := vhostOf(r, b)
		if err != nil {
			return 0, nil, err
		}
		name := pathValue(r, "name")
		if q, ok := v.QueueInfo(name); ok {
			return http.StatusOK, queueOut(q), nil
		}
		return 0, nil, errorf(http.StatusNotFound, "no queue %q in vhost %q (list queues with GET /api/queues)", name, v.Name())
	})
	a.route(mux, "PUT /api/queues/{vhost}/{name}", a.declareQueue)
	a.route(mux, "DELETE /api/queues/{vhost}/{name}", func(r *http.Request, b *Backend) (int, any, error) {
		v, err := vhostOf(r, b)
		if err != nil {
			return 0, nil, err
		}
		name := pathValue(r, "name")
		if _, ok := v.QueueInfo(name); !ok { // queue.delete of a missing queue succeeds; the management API says 404
			return 0, nil, errorf(http.StatusNotFound, "no queue %q in vhost %q (list queues with GET /api/queues)", name, v.Name())
		}
		_, err = v.DeleteQueue(r.Context(), name, queryBool(r, "if-unused"), queryBool(r, "if-empty"), 0)
		return http.StatusNoContent, nil, err
	})
	a.route(mux, "DELETE /api/queues/{vhost}/{name}/contents", func(r *http.Request, b *Backend) (int, any, error) {
		v, err := vhostOf(r, b)
		if err != nil {
			return 0, nil, err
		}
		q, err := v.Queue(pathValue(r, "name"), 0)
		if err != nil {
			return 0, nil, err
		}
		q.Purge()
		return http.StatusNoContent, nil, nil
	})
	a.route(mux, "POST /api/queues/{vhost}/{name}/get", a.getMessages)
}

type queueJSON struct {
	Name            string           `json:"name"`
	VHost           string           `json:"vhost"`
	Type            string           `json:"type"`
	Durable         bool             `json:"durable"`
	AutoDelete      bool             `json:"auto_delete"`
	Exclusive       bool             `json:"exclusive"`
	Arguments       map[string]any   `json:"arguments"`
	Messages        int64            `json:"messages"`
	MessagesReady   int64            `json:"messages_ready"`
	MessagesUnacked int64            `json:"messages_unacknowledged"`
	BytesReady      int64            `json:"message_bytes_ready"`
	Consumers       int              `json:"consumers"`
	MessageStats    map[string]int64 `json:"message_stats"`
	HeadAgeSeconds  float64          `json:"head_message_age_seconds"`
	State           string           `json:"state"`
}

func queueOut(q broker.QueueInfo) queueJSON {
	return queueJSON{
		Name: q.Name, VHost: q.VHost, Type: q.Type, Durable: q.Durable, AutoDelete: q.AutoDelete,
		Exclusive: q.Exclusive, Arguments: argsOut(q.Args),
		Messages: q.Ready + q.Unacked, MessagesReady: q.Ready, MessagesUnacked: q.Unacked,
		BytesReady: q.ReadyBytes, Consumers: q.Consumers,
		MessageStats:   map[string]int64{"publish": q.Published, "deliver_get": q.Delivered, "ack": q.Acked},
		HeadAgeSeconds: q.HeadAge.Seconds(), State: "running",
	}
}

func (a *api) listQueues(r *http.Request, b *Backend) (int, any, error) {
	vs, err := vhostsOf(r, b)
	if err != nil {
		return 0, nil, err
	}
	out := []queueJSON{}
	for _, v := range vs {
		for _, q := range v.QueueInfos() {
			out = append(out, queueOut(q))
		}
	}
	return http.StatusOK, out, nil
}

func (a *api) declareQueue(r *http.Request, b *Backend) (int, any, error) {
	v, err := vhostOf(r, b)
	if err != nil {
		return 0, nil, err
	}
	req := struct {
		Durable    *bool    `json:"durable"`
		AutoDelete bool     `json:"auto_delete"`
		Arguments  argsJSON `json:"arguments"`
	}{}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	durable := req.Durable == nil || *req.Durable // RabbitMQ's API defaults to durable
	name := pathValue(r, "name")
	_, existed := v.QueueInfo(name)
	if _, err := v.DeclareQueue(r.Context(), name, false, durable, false, req.AutoDelete, req.Arguments, 0); err != nil {
		return 0, nil, err
	}
	if existed {
		return http.StatusNoContent, nil, nil
	}
	return http.StatusCreated, nil, nil
}

type gotMessage struct {
	Payload         string         `json:"payload"`
	PayloadEncoding string         `json:"payload_encoding"`
	PayloadBytes    int            `json:"payload_bytes"`
	Redelivered     bool           `json:"redelivered"`
	Exchange        string         `json:"exchange"`
	RoutingKey      string         `json:"routing_key"`
	MessageCount    int64          `json:"message_count"`
	Properties      map[string]any `json:"properties"`
}

// getMessages is the management API's "get messages": basic.get over
// HTTP, then ack or requeue each message as ackmode says. The gets run
// on a pseudo-channel numbered above every AMQP connection's (their ids
// are connection<<16 | channel), which is closed at the end so nothing
// stays unacked if a settle fails.
func (a *api) getMessages(r *http.Request, b *Backend) (int, any, error) {
	v, err := vhostOf(r, b)
	if err != nil {
		return 0, nil, err
	}
	req := struct {
		Count    int    `json:"count"`
		AckMode  string `json:"ackmode"`
		Encoding string `json:"encoding"`
		Truncate int    `json:"truncate"`
	}{Count: 1, AckMode: "ack_requeue_true", Encoding: "auto"}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	var ack, requeue bool
	switch req.AckMode {
	case "ack_requeue_true", "reject_requeue_true":
		requeue = true
	case "ack_requeue_false":
		ack = true
	case "reject_requeue_false":
	default:
		return 0, nil, errorf(http.StatusBadRequest, "ackmode %q: use ack_requeue_true (peek), ack_requeue_false, reject_requeue_true or reject_requeue_false", req.AckMode)
	}
	name := pathValue(r, "name")
	if _, ok := v.Stream(name); ok {
		return 0, nil, errorf(http.StatusBadRequest, "queue %q is a stream: read it as a topic with GET /api/topics/%s/records", name, name)
	}
	q, err := v.Queue(name, 0)
	if err != nil {
		return 0, nil, err
	}
	ch := queue.ChannelID(1<<63 | a.getChannel.Add(1))
	defer q.ChannelClosed(ch)
	out := []gotMessage{}
	var got []broker.Delivered
	for range max(req.Count, 1) {
		d, ok, err := q.Get(ch, false)
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			break
		}
		got = append(got, d)
		out = append(out, messageOut(d, req.Encoding == "base64", req.Truncate))
	}
	for _, d := range got {
		if ack {
			err = q.Ack(ch, d.Level, d.Offset)
		} else {
			err = q.Reject(ch, d.Level, requeue, d.Offset)
		}
		if err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, out, nil
}

func messageOut(d broker.Delivered, forceB64 bool, truncate int) gotMessage {
	m := gotMessage{
		PayloadBytes: len(d.Message.Body), Redelivered: d.Redelivered, Exchange: d.Message.Exchange,
		RoutingKey: d.Message.RoutingKey, MessageCount: d.Remaining, Properties: map[string]any{},
	}
	body := d.Message.Body
	if truncate > 0 && len(body) > truncate {
		body = body[:truncate]
	}
	if !forceB64 && utf8.Valid(body) {
		m.Payload, m.PayloadEncoding = string(body), "string"
	} else {
		m.Payload, m.PayloadEncoding = base64.StdEncoding.EncodeToString(body), "base64"
	}
	if h, err := spec.DecodeContentHeader(d.Message.Props); err == nil {
		m.Properties = propertiesOut(h.Properties)
	}
	return m
}

// propertiesOut names the basic properties as RabbitMQ's API does.
func propertiesOut(p spec.Properties) map[string]any {
	out := map[string]any{}
	set := func(k string, present bool, v any) {
		if present {
			out[k] = v
		}
	}
	set("content_type", p.ContentType != "", p.ContentType)
	set("content_encoding", p.ContentEncoding != "", p.ContentEncoding)
	set("headers", p.Headers != nil, toJSON(p.Headers))
	set("delivery_mode", p.DeliveryMode != 0, p.DeliveryMode)
	set("priority", p.Priority != 0, p.Priority)
	set("correlation_id", p.CorrelationID != "", p.CorrelationID)
	set("reply_to", p.ReplyTo != "", p.ReplyTo)
	set("expiration", p.Expiration != "", p.Expiration)
	set("message_id", p.MessageID != "", p.MessageID)
	set("timestamp", !p.Timestamp.IsZero(), p.Timestamp.Unix())
	set("type", p.Type != "", p.Type)
	set("user_id", p.UserID != "", p.UserID)
	set("app_id", p.AppID != "", p.AppID)
	return out
}

// propertiesIn reads RabbitMQ-shaped properties.
func propertiesIn(m map[string]any) (spec.Properties, error) {
	var p spec.Properties
	str := func(k string) string { s, _ := m[k].(string); return s }
	p.ContentType, p.ContentEncoding = str("content_type"), str("content_encoding")
	p.CorrelationID, p.ReplyTo, p.MessageID = str("correlation_id"), str("reply_to"), str("message_id")
	p.Type, p.UserID, p.AppID = str("type"), str("user_id"), str("app_id")
	switch e := m["expiration"].(type) {
	case string:
		p.Expiration = e
	case int64:
		p.Expiration = strconv.FormatInt(e, 10)
	}
	small := func(k string, hi int64) (uint8, error) {
		v, ok := m[k]
		if !ok {
			return 0, nil
		}
		n, ok := broker.ArgInt(v)
		if !ok || n < 0 || n > hi {
			return 0, errorf(http.StatusBadRequest, "properties.%s must be a whole number from 0 to %d", k, hi)
		}
		return uint8(n), nil
	}
	var err error
	if p.DeliveryMode, err = small("delivery_mode", 2); err != nil {
		return p, err
	}
	if p.Priority, err = small("priority", 255); err != nil {
		return p, err
	}
	if ts, ok := broker.ArgInt(m["timestamp"]); ok {
		p.Timestamp = time.Unix(ts, 0)
	}
	if h, ok := m["headers"].(map[string]any); ok {
		p.Headers = spec.Table(h)
	}
	return p, nil
}
