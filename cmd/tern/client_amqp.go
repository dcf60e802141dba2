package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// The admin API's AMQP side, in RabbitMQ's management API shapes:
// queues, exchanges, bindings, publish and get. A vhost is one escaped
// path segment ("/" is %2F).

type queueInfo struct {
	Name                   string         `json:"name"`
	VHost                  string         `json:"vhost"`
	Type                   string         `json:"type"`
	Durable                bool           `json:"durable"`
	AutoDelete             bool           `json:"auto_delete"`
	Exclusive              bool           `json:"exclusive"`
	Arguments              map[string]any `json:"arguments"`
	Messages               int64          `json:"messages"`
	MessagesReady          int64          `json:"messages_ready"`
	MessagesUnacknowledged int64          `json:"messages_unacknowledged"`
	MessageBytesReady      int64          `json:"message_bytes_ready"`
	Consumers              int            `json:"consumers"`
	HeadMessageAgeSeconds  float64        `json:"head_message_age_seconds"`
	State                  string         `json:"state"`
}

type exchangeInfo struct {
	Name       string         `json:"name"`
	VHost      string         `json:"vhost"`
	Type       string         `json:"type"`
	Durable    bool           `json:"durable"`
	AutoDelete bool           `json:"auto_delete"`
	Internal   bool           `json:"internal"`
	Arguments  map[string]any `json:"arguments"`
}

type bindingInfo struct {
	Source          string         `json:"source"`
	VHost           string         `json:"vhost"`
	Destination     string         `json:"destination"`
	DestinationType string         `json:"destination_type"`
	RoutingKey      string         `json:"routing_key"`
	Arguments       map[string]any `json:"arguments"`
	PropertiesKey   string         `json:"properties_key"`
}

// exchangeSegment names an exchange in a path: the default exchange ""
// is "amq.default" there.
func exchangeSegment(name string) string {
	if name == "" {
		return "amq.default"
	}
	return name
}

func (c *client) queues(ctx context.Context, vhost string) ([]queueInfo, json.RawMessage, error) {
	out, raw, err := getAs[[]queueInfo](ctx, c, path("queues", vhost))
	return out, raw, vhostNotFound(err, vhost)
}

type declareQueue struct {
	Durable    bool           `json:"durable"`
	AutoDelete bool           `json:"auto_delete"`
	Arguments  map[string]any `json:"arguments"`
}

// declareQueue answers whether the queue was created (false: it existed
// with the same properties).
func (c *client) declareQueue(ctx context.Context, vhost, name string, req declareQueue) (bool, error) {
	_, status, err := c.send(ctx, http.MethodPut, path("queues", vhost, name), nil, req)
	return status == http.StatusCreated, err
}

func (c *client) deleteQueue(ctx context.Context, vhost, name string, ifUnused, ifEmpty bool) error {
	q := url.Values{}
	if ifUnused {
		q.Set("if-unused", "true")
	}
	if ifEmpty {
		q.Set("if-empty", "true")
	}
	_, _, err := c.send(ctx, http.MethodDelete, path("queues", vhost, name), q, nil)
	return notFound(err, "queue", name, "tern queue list")
}

func (c *client) purgeQueue(ctx context.Context, vhost, name string) error {
	_, _, err := c.send(ctx, http.MethodDelete, path("queues", vhost, name, "contents"), nil, nil)
	return notFound(err, "queue", name, "tern queue list")
}

type gotMessage struct {
	Payload         string         `json:"payload"`
	PayloadEncoding string         `json:"payload_encoding"`
	PayloadBytes    int64          `json:"payload_bytes"`
	Redelivered     bool           `json:"redelivered"`
	Exchange        string         `json:"exchange"`
	RoutingKey      string         `json:"routing_key"`
	MessageCount    int64          `json:"message_count"`
	Properties      map[string]any `json:"properties"`
}

func (c *client) getMessages(ctx context.Context, vhost, queue string, count int, ackmode string) ([]gotMessage, json.RawMessage, error) {
	body := map[string]any{"count": count, "ackmode": ackmode, "encoding": "auto"}
	out, raw, err := sendAs[[]gotMessage](ctx, c, http.MethodPost, path("queues", vhost, queue, "get"), body)
	return out, raw, notFound(err, "queue", queue, "tern queue list")
}

func (c *client) exchanges(ctx context.Context, vhost string) ([]exchangeInfo, json.RawMessage, error) {
	out, raw, err := getAs[[]exchangeInfo](ctx, c, path("exchanges", vhost))
	return out, raw, vhostNotFound(err, vhost)
}

type declareExchange struct {
	Type       string         `json:"type"`
	Durable    bool           `json:"durable"`
	AutoDelete bool           `json:"auto_delete"`
	Internal   bool           `json:"internal"`
	Arguments  map[string]any `json:"arguments"`
}

func (c *client) declareExchange(ctx context.Context, vhost, name string, req declareExchange) (bool, error) {
	_, status, err := c.send(ctx, http.MethodPut, path("exchanges", vhost, name), nil, req)
	return status == http.StatusCreated, err
}

func (c *client) deleteExchange(ctx context.Context, vhost, name string, ifUnused bool) error {
	// The admin API answers 404 for a missing exchange (AMQP's
	// exchange.delete would succeed), so a typo is reported.
	q := url.Values{}
	if ifUnused {
		q.Set("if-unused", "true")
	}
	_, _, err := c.send(ctx, http.MethodDelete, path("exchanges", vhost, name), q, nil)
	return notFound(err, "exchange", name, "tern exchange list")
}

type publishMessage struct {
	RoutingKey      string         `json:"routing_key"`
	Payload         string         `json:"payload"`
	PayloadEncoding string         `json:"payload_encoding"`
	Properties      map[string]any `json:"properties"`
}

func (c *client) publish(ctx context.Context, vhost, exchange string, msg publishMessage) (bool, json.RawMessage, error) {
	out, raw, err := sendAs[struct {
		Routed bool `json:"routed"`
	}](ctx, c, http.MethodPost, path("exchanges", vhost, exchangeSegment(exchange), "publish"), msg)
	return out.Routed, raw, notFound(err, "exchange", exchange, "tern exchange list")
}

func (c *client) bindings(ctx context.Context, vhost string) ([]bindingInfo, json.RawMessage, error) {
	out, raw, err := getAs[[]bindingInfo](ctx, c, path("bindings", vhost))
	return out, raw, vhostNotFound(err, vhost)
}

// bindingPath is /api/bindings/{vhost}/e/{source}/q|e/{destination}.
func bindingPath(vhost, source, destType, dest string) string {
	kind := "q"
	if destType == "exchange" {
		kind = "e"
	}
	return path("bindings", vhost, "e", exchangeSegment(source), kind, dest)
}

func (c *client) bindingsBetween(ctx context.Context, vhost, source, destType, dest string) ([]bindingInfo, error) {
	var out []bindingInfo
	_, err := c.get(ctx, bindingPath(vhost, source, destType, dest), nil, &out)
	return out, err
}

func (c *client) declareBinding(ctx context.Context, vhost, source, destType, dest, routingKey string, args map[string]any) error {
	body := map[string]any{"routing_key": routingKey, "arguments": args}
	_, _, err := c.send(ctx, http.MethodPost, bindingPath(vhost, source, destType, dest), nil, body)
	return err
}

func (c *client) deleteBinding(ctx context.Context, vhost, source, destType, dest, propertiesKey string) error {
	_, _, err := c.send(ctx, http.MethodDelete, bindingPath(vhost, source, destType, dest)+"/"+url.PathEscape(propertiesKey), nil, nil)
	return err
}

// vhostNotFound explains a 404 on a vhost-wide list.
func vhostNotFound(err error, vhost string) error {
	if statusOf(err) != http.StatusNotFound {
		return err
	}
	return &friendlyError{msg: fmt.Sprintf("vhost %q not found (list vhosts with \"tern vhost list\"; pass one with --vhost)", vhost), err: err}
}
