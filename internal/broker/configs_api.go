package broker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// partSettings are the per-topic values the produce path reads on every
// request, kept resolved so it never walks the config table.
type partSettings struct {
	maxMessageBytes int
	logAppendTime   bool
}

type settingsPtr = atomic.Pointer[partSettings]

func resolveSettings(entries []ConfigEntry) *partSettings {
	n, _ := strconv.Atoi(configValue(entries, "max.message.bytes"))
	return &partSettings{
		maxMessageBytes: n,
		logAppendTime:   configValue(entries, "message.timestamp.type") == "LogAppendTime",
	}
}

// ConfigOp is one IncrementalAlterConfigs operation.
type ConfigOp struct {
	Name  string
	Value string
	Op    ConfigOpType
}

// ConfigOpType numbers operations as Kafka does.
type ConfigOpType int8

// Incremental config operations.
const (
	OpSet      ConfigOpType = 0
	OpDelete   ConfigOpType = 1
	OpAppend   ConfigOpType = 2
	OpSubtract ConfigOpType = 3
)

// topicOverrides returns a topic and a copy of its config overrides, read
// under the lock; callers resolve them without it (resolving takes it).
func (b *Broker) topicOverrides(name string) (*Topic, map[string]string, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	t, ok := b.topics[name]
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s", ErrUnknownTopicOrPartition, name)
	}
	return t, maps.Clone(t.configs), nil
}

// TopicConfigs returns every config of a topic, resolved.
func (b *Broker) TopicConfigs(name string) ([]ConfigEntry, error) {
	_, over, err := b.topicOverrides(name)
	if err != nil {
		return nil, err
	}
	return b.resolveTopicConfigs(over), nil
}

// AlterTopicConfigs applies ops to a topic's overrides. With replace, the
// overrides become exactly the OpSet values (AlterConfigs semantics);
// otherwise ops apply one by one (IncrementalAlterConfigs).
func (b *Broker) AlterTopicConfigs(ctx context.Context, name string, ops []ConfigOp, replace, validateOnly bool) error {
	b.cfgMu.Lock()
	defer b.cfgMu.Unlock()
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	t, cur, err := b.topicOverrides(name)
	if err != nil {
		return err
	}
	next, err := applyOps(cur, ops, replace, func(k string) (bool, bool) {
		d, ok := topicConfigDef1(k)
		return ok, ok && (d.name == "cleanup.policy" || strings.HasSuffix(d.name, "throttled.replicas"))
	})
	if err != nil {
		return err
	}
	if err := validateTopicConfigs(next); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	entries := b.resolveTopicConfigs(next)
	b.mu.Lock()
	if b.topics[name] != t {
		b.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUnknownTopicOrPartition, name)
	}
	if err := b.meta.append(ctx, metaRecord{Type: metaTopicConfigs, Topic: name, Configs: next}); err != nil {
		b.mu.Unlock()
		return err
	}
	t.configs = next
	parts := slices.Clone(t.partitions)
	b.mu.Unlock()
	b.applyTopicSettings(parts, entries)
	b.logger.Info("topic configs altered", "topic", name, "configs", next)
	return nil
}

func (b *Broker) applyTopicSettings(parts []*partition, entries []ConfigEntry) {
	cfg := storageConfig(entries)
	s := resolveSettings(entries)
	for _, p := range parts {
		p.log.SetConfig(cfg)
		p.settings.Store(s)
	}
}

// applyOps computes new overrides. known reports whether a name is valid
// and whether it is a list (for APPEND/SUBTRACT).
func applyOps(cur map[string]string, ops []ConfigOp, replace bool, known func(string) (ok, list bool)) (map[string]string, error) {
	next := map[string]string{}
	if !replace {
		maps.Copy(next, cur)
	}
	for _, op := range ops {
		ok, list := known(op.Name)
		if !ok {
			return nil, fmt.Errorf("%w: unknown config %q", ErrInvalidConfig, op.Name)
		}
		switch op.Op {
		case OpSet:
			next[op.Name] = op.Value
		case OpDelete:
			delete(next, op.Name)
		case OpAppend, OpSubtract:
			if !list {
				return nil, fmt.Errorf("%w: %s is not a list config", ErrInvalidConfig, op.Name)
			}
			var items []string
			if v := next[op.Name]; v != "" {
				items = strings.Split(v, ",")
			}
			for _, it := range strings.Split(op.Value, ",") {
				idx := slices.Index(items, it)
				if op.Op == OpAppend && idx < 0 {
					items = append(items, it)
				} else if op.Op == OpSubtract && idx >= 0 {
					items = slices.Delete(items, idx, idx+1)
				}
			}
			next[op.Name] = strings.Join(items, ",")
		default:
			return nil, fmt.Errorf("%w: unknown operation %d", ErrInvalidRequest, op.Op)
		}
	}
	return next, nil
}

// BrokerConfigs returns the broker's configs as Kafka names them.
func (b *Broker) BrokerConfigs() []ConfigEntry {
	vals := b.brokerConfigs()
	b.mu.RLock()
	dynamic := maps.Clone(b.brokerOverrides)
	b.mu.RUnlock()
	out := make([]ConfigEntry, 0, len(vals))
	for _, k := range sortedKeys(vals) {
		e := ConfigEntry{Name: k, Value: vals[k], Source: SourceStaticBroker}
		if _, ok := dynamic[k]; ok {
			e.Source = SourceDynamicBroker
		}
		_, e.ReadOnly = dynamicBrokerConfigs[k]
		e.ReadOnly = !e.ReadOnly
		out = append(out, e)
	}
	return out
}

// AlterBrokerConfigs changes dynamic broker configs; every topic without
// its own value follows the new default at once.
func (b *Broker) AlterBrokerConfigs(ctx context.Context, ops []ConfigOp, replace, validateOnly bool) error {
	b.cfgMu.Lock()
	defer b.cfgMu.Unlock()
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	b.mu.RLock()
	cur := maps.Clone(b.brokerOverrides)
	b.mu.RUnlock()
	next, err := applyOps(cur, ops, replace, func(k string) (bool, bool) {
		_, ok := dynamicBrokerConfigs[k]
		return ok, k == "log.cleanup.policy"
	})
	if err != nil {
		return err
	}
	for k, v := range next {
		if err := dynamicBrokerConfigs[k](v); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidConfig, k, err)
		}
	}
	if validateOnly {
		return nil
	}
	b.mu.Lock()
	if err := b.meta.append(ctx, metaRecord{Type: metaBrokerConfigs, Configs: next}); err != nil {
		b.mu.Unlock()
		return err
	}
	b.brokerOverrides = next
	type topicParts struct {
		over  map[string]string
		parts []*partition
	}
	var all []topicParts
	for _, t := range b.topics {
		all = append(all, topicParts{maps.Clone(t.configs), slices.Clone(t.partitions)})
	}
	b.mu.Unlock()
	for _, tp := range all {
		b.applyTopicSettings(tp.parts, b.resolveTopicConfigs(tp.over))
	}
	b.logger.Info("broker configs altered", "configs", next)
	return nil
}
