package admin

import (
	"context"
	"encoding/hex"
	"net/http"
	"sort"

	"github.com/ternmq/tern/internal/broker"
)

func (a *api) topicRoutes(mux *http.ServeMux) {
	a.route(mux, "GET /api/topics", a.listTopics)
	a.route(mux, "POST /api/topics", a.createTopic)
	a.route(mux, "GET /api/topics/{topic}", func(r *http.Request, b *Backend) (int, any, error) {
		d, err := describeTopic(r.Context(), b.Broker, pathValue(r, "topic"))
		return http.StatusOK, d, err
	})
	a.route(mux, "PATCH /api/topics/{topic}", a.alterTopic)
	a.route(mux, "DELETE /api/topics/{topic}", func(r *http.Request, b *Backend) (int, any, error) {
		return http.StatusNoContent, nil, b.Broker.DeleteTopic(r.Context(), pathValue(r, "topic"))
	})
	a.route(mux, "GET /api/topics/{topic}/records", a.readRecords)
	a.route(mux, "POST /api/topics/{topic}/records", a.produceRecords)
}

type topicJSON struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	Partitions int32  `json:"partitions"`
	Internal   bool   `json:"internal"`
	SizeBytes  int64  `json:"size_bytes"`
	Messages   int64  `json:"messages"`
}

func (a *api) listTopics(_ *http.Request, b *Backend) (int, any, error) {
	sums := map[string]*topicJSON{}
	for _, p := range b.Broker.PartitionStats() {
		s := sums[p.Topic]
		if s == nil {
			s = &topicJSON{}
			sums[p.Topic] = s
		}
		s.SizeBytes += p.SizeBytes
		s.Messages += p.HighWatermark - p.StartOffset
	}
	out := []topicJSON{}
	for _, t := range b.Broker.Topics() {
		tj := topicJSON{Name: t.Name, ID: hex.EncodeToString(t.ID[:]), Partitions: t.Partitions, Internal: t.Internal}
		if s := sums[t.Name]; s != nil {
			tj.SizeBytes, tj.Messages = s.SizeBytes, s.Messages
		}
		out = append(out, tj)
	}
	return http.StatusOK, out, nil
}

type partitionJSON struct {
	Partition     int32 `json:"partition"`
	Leader        int32 `json:"leader"`
	StartOffset   int64 `json:"start_offset"`
	HighWatermark int64 `json:"high_watermark"`
	SizeBytes     int64 `json:"size_bytes"`
}

type configJSON struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	Source    string `json:"source"`
	ReadOnly  bool   `json:"read_only"`
	Sensitive bool   `json:"sensitive"`
}

type topicDetailJSON struct {
	Name       string          `json:"name"`
	ID         string          `json:"id"`
	Internal   bool            `json:"internal"`
	Partitions []partitionJSON `json:"partitions"`
	Configs    []configJSON    `json:"configs"`
}

func sourceName(s broker.ConfigSource) string {
	switch s {
	case broker.SourceTopic:
		return "topic"
	case broker.SourceDynamicBroker:
		return "dynamic_broker"
	case broker.SourceStaticBroker:
		return "static_broker"
	default:
		return "default"
	}
}

func describeTopic(ctx context.Context, b *broker.Broker, name string) (topicDetailJSON, error) {
	t, err := b.Topic(ctx, name, false)
	if err != nil {
		return topicDetailJSON{}, err
	}
	d := topicDetailJSON{Name: t.Name, ID: hex.EncodeToString(t.ID[:]), Internal: t.Internal, Partitions: []partitionJSON{}}
	for _, p := range b.PartitionStats() {
		if p.Topic == name {
			d.Partitions = append(d.Partitions, partitionJSON{
				Partition: p.Partition, Leader: b.NodeID(), StartOffset: p.StartOffset,
				HighWatermark: p.HighWatermark, SizeBytes: p.SizeBytes,
			})
		}
	}
	cfgs, err := b.TopicConfigs(name)
	if err != nil {
		return topicDetailJSON{}, err
	}
	for _, c := range cfgs {
		cj := configJSON{Name: c.Name, Value: c.Value, Source: sourceName(c.Source), ReadOnly: c.ReadOnly, Sensitive: c.Sensitive}
		if c.Sensitive {
			cj.Value = ""
		}
		d.Configs = append(d.Configs, cj)
	}
	return d, nil
}

func (a *api) createTopic(r *http.Request, b *Backend) (int, any, error) {
	var req struct {
		Name       string            `json:"name"`
		Partitions int32             `json:"partitions"`
		Configs    map[string]string `json:"configs"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.Name == "" {
		return 0, nil, errorf(http.StatusBadRequest, `a topic needs a name: {"name": "orders", "partitions": 3}`)
	}
	if req.Partitions == 0 {
		req.Partitions = -1
	}
	if _, err := b.Broker.CreateTopic(r.Context(), broker.CreateTopicRequest{
		Name: req.Name, Partitions: req.Partitions, ReplicationFactor: -1, Configs: req.Configs,
	}); err != nil {
		return 0, nil, err
	}
	d, err := describeTopic(r.Context(), b.Broker, req.Name)
	return http.StatusCreated, d, err
}

func (a *api) alterTopic(r *http.Request, b *Backend) (int, any, error) {
	name := pathValue(r, "topic")
	var req struct {
		Configs       map[string]string `json:"configs"`
		DeleteConfigs []string          `json:"delete_configs"`
		Partitions    int32             `json:"partitions"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	t, err := b.Broker.Topic(r.Context(), name, false)
	if err != nil {
		return 0, nil, err
	}
	if req.Partitions == t.Partitions {
		req.Partitions = 0 // already so: nothing to grow
	}
	var ops []broker.ConfigOp
	for k, v := range req.Configs {
		ops = append(ops, broker.ConfigOp{Name: k, Value: v, Op: broker.OpSet})
	}
	for _, k := range req.DeleteConfigs {
		ops = append(ops, broker.ConfigOp{Name: k, Op: broker.OpDelete})
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Name < ops[j].Name })
	if len(ops) > 0 {
		// Validate every change before making any, so a bad value leaves
		// the topic as it was.
		if err := b.Broker.AlterTopicConfigs(r.Context(), name, ops, false, true); err != nil {
			return 0, nil, err
		}
		if req.Partitions > 0 {
			if err := b.Broker.CreatePartitions(r.Context(), name, req.Partitions, true); err != nil {
				return 0, nil, err
			}
		}
		if err := b.Broker.AlterTopicConfigs(r.Context(), name, ops, false, false); err != nil {
			return 0, nil, err
		}
	}
	if req.Partitions > 0 {
		if err := b.Broker.CreatePartitions(r.Context(), name, req.Partitions, false); err != nil {
			return 0, nil, err
		}
	}
	d, err := describeTopic(r.Context(), b.Broker, name)
	return http.StatusOK, d, err
}
