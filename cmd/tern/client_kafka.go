package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// The admin API's Kafka side: topics, records, consumer groups. Each
// method returns the decoded answer and the raw JSON (for --format json).

type topicSummary struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	Partitions int    `json:"partitions"`
	Internal   bool   `json:"internal"`
	SizeBytes  int64  `json:"size_bytes"`
	Messages   int64  `json:"messages"`
}

type topicDetail struct {
	Name       string          `json:"name"`
	ID         string          `json:"id"`
	Internal   bool            `json:"internal"`
	Partitions []partitionInfo `json:"partitions"`
	Configs    []topicConfig   `json:"configs"`
}

type partitionInfo struct {
	Partition     int32 `json:"partition"`
	Leader        int32 `json:"leader"`
	StartOffset   int64 `json:"start_offset"`
	HighWatermark int64 `json:"high_watermark"`
	SizeBytes     int64 `json:"size_bytes"`
}

type topicConfig struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	Source    string `json:"source"`
	ReadOnly  bool   `json:"read_only"`
	Sensitive bool   `json:"sensitive"`
}

func (c *client) topics(ctx context.Context) ([]topicSummary, json.RawMessage, error) {
	return getAs[[]topicSummary](ctx, c, path("topics"))
}

func (c *client) topic(ctx context.Context, name string) (topicDetail, json.RawMessage, error) {
	out, raw, err := getAs[topicDetail](ctx, c, path("topics", name))
	return out, raw, notFound(err, "topic", name, "tern topic list")
}

type createTopic struct {
	Name       string            `json:"name"`
	Partitions int32             `json:"partitions,omitempty"`
	Configs    map[string]string `json:"configs,omitempty"`
}

func (c *client) createTopic(ctx context.Context, req createTopic) (topicDetail, json.RawMessage, error) {
	return sendAs[topicDetail](ctx, c, http.MethodPost, path("topics"), req)
}

type alterTopic struct {
	Configs       map[string]string `json:"configs,omitempty"`
	DeleteConfigs []string          `json:"delete_configs,omitempty"`
	Partitions    int32             `json:"partitions,omitempty"`
}

func (c *client) alterTopic(ctx context.Context, name string, req alterTopic) (topicDetail, json.RawMessage, error) {
	out, raw, err := sendAs[topicDetail](ctx, c, http.MethodPatch, path("topics", name), req)
	return out, raw, notFound(err, "topic", name, "tern topic list")
}

func (c *client) deleteTopic(ctx context.Context, name string) error {
	_, _, err := c.send(ctx, http.MethodDelete, path("topics", name), nil, nil)
	return notFound(err, "topic", name, "tern topic list")
}

// record is one Kafka record as the API carries it: key, value and
// header values are strings in utf8 or base64 (the *_encoding fields).
type record struct {
	Partition     *int32   `json:"partition,omitempty"`
	Offset        int64    `json:"offset,omitempty"`
	Timestamp     int64    `json:"timestamp,omitempty"`
	Key           *string  `json:"key"`
	KeyEncoding   string   `json:"key_encoding,omitempty"`
	Value         *string  `json:"value"`
	ValueEncoding string   `json:"value_encoding,omitempty"`
	Headers       []header `json:"headers,omitempty"`
}

type header struct {
	Key           string  `json:"key"`
	Value         *string `json:"value"`
	ValueEncoding string  `json:"value_encoding,omitempty"`
}

type produceAnswer struct {
	Offsets []struct {
		Partition int32 `json:"partition"`
		Offset    int64 `json:"offset"`
	} `json:"offsets"`
}

func (c *client) produce(ctx context.Context, topic string, records []record) (produceAnswer, json.RawMessage, error) {
	body := struct {
		Records []record `json:"records"`
	}{records}
	out, raw, err := sendAs[produceAnswer](ctx, c, http.MethodPost, path("topics", topic, "records"), body)
	return out, raw, notFound(err, "topic", topic, "tern topic list")
}

// fetchAnswer keeps each record raw too, so --format json prints exactly
// what the API sent.
type fetchAnswer struct {
	Records        []json.RawMessage `json:"records"`
	NextOffsets    map[string]int64  `json:"next_offsets"`
	HighWatermarks map[string]int64  `json:"high_watermarks"`
}

// fetch reads records; wait > 0 long-polls (the request's time limit is
// extended by it).
func (c *client) fetch(ctx context.Context, topic string, q url.Values, wait time.Duration) (fetchAnswer, error) {
	var out fetchAnswer
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("topics", topic, "records"), query: q, wait: wait}, &out)
	return out, notFound(err, "topic", topic, "tern topic list")
}

type groupSummary struct {
	Group        string  `json:"group"`
	State        string  `json:"state"`
	ProtocolType string  `json:"protocol_type"`
	Members      int     `json:"members"`
	Lag          int64   `json:"lag"`
	LagSeconds   float64 `json:"lag_seconds"`
}

type groupDetail struct {
	Group        string `json:"group"`
	State        string `json:"state"`
	ProtocolType string `json:"protocol_type"`
	Protocol     string `json:"protocol"`
	Members      []struct {
		MemberID    string `json:"member_id"`
		InstanceID  string `json:"instance_id"`
		ClientID    string `json:"client_id"`
		ClientHost  string `json:"client_host"`
		Assignments []struct {
			Topic      string  `json:"topic"`
			Partitions []int32 `json:"partitions"`
		} `json:"assignments"`
	} `json:"members"`
	Offsets []struct {
		Topic         string  `json:"topic"`
		Partition     int32   `json:"partition"`
		Committed     int64   `json:"committed"`
		HighWatermark int64   `json:"high_watermark"`
		Lag           int64   `json:"lag"`
		LagSeconds    float64 `json:"lag_seconds"`
		Metadata      string  `json:"metadata"`
	} `json:"offsets"`
}

func (c *client) groups(ctx context.Context) ([]groupSummary, json.RawMessage, error) {
	return getAs[[]groupSummary](ctx, c, path("groups"))
}

func (c *client) group(ctx context.Context, name string) (groupDetail, json.RawMessage, error) {
	out, raw, err := getAs[groupDetail](ctx, c, path("groups", name))
	return out, raw, notFound(err, "group", name, "tern group list")
}

func (c *client) deleteGroup(ctx context.Context, name string) error {
	_, _, err := c.send(ctx, http.MethodDelete, path("groups", name), nil, nil)
	return notFound(err, "group", name, "tern group list")
}

type resetOffsets struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions,omitempty"`
	To         string  `json:"to"`
	Offset     *int64  `json:"offset,omitempty"`
	Timestamp  *int64  `json:"timestamp,omitempty"`
	Shift      *int64  `json:"shift,omitempty"`
	DryRun     bool    `json:"dry_run"`
}

type resetAnswer struct {
	Offsets []struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
		Previous  int64  `json:"previous"`
		New       int64  `json:"new"`
	} `json:"offsets"`
}

func (c *client) resetOffsets(ctx context.Context, group string, req resetOffsets) (resetAnswer, json.RawMessage, error) {
	return sendAs[resetAnswer](ctx, c, http.MethodPost, path("groups", group, "offsets"), req)
}

// decodeAnswer decodes a 2xx answer's body; an empty body leaves out as
// it is.
func decodeAnswer(raw json.RawMessage, out any) error {
	if len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("unexpected answer from the admin API: %w", err)
	}
	return nil
}
