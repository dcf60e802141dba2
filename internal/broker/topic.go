package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/ternmq/tern/internal/progress"
	"github.com/ternmq/tern/internal/storage"
)

// Topic is a named set of partition logs with its config overrides.
type Topic struct {
	Name       string
	ID         [16]byte
	configs    map[string]string // overrides only; guarded by Broker.mu
	partitions []*partition      // guarded by Broker.mu; grows only
}

// TopicInfo is a snapshot of a topic for Metadata and admin answers.
type TopicInfo struct {
	Name       string
	ID         [16]byte
	Partitions int32
	// Internal: the topic of a stream queue of a vhost other than "/"
	// (IsStreamTopic), which Kafka clients see as an internal topic.
	Internal bool
}

// maxTopicNameLen is Kafka's limit (249), which keeps <topic>-<partition>
// directory names under common filesystem limits.
const maxTopicNameLen = 249

// ValidateTopicName applies Kafka's rules: 1-249 of [a-zA-Z0-9._-], not
// "." or "..".
func ValidateTopicName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > maxTopicNameLen {
		return fmt.Errorf("%w: %q", ErrInvalidTopic, name)
	}
	for _, c := range name {
		if !topicNameChar(c) {
			return fmt.Errorf("%w: %q contains %q", ErrInvalidTopic, name, c)
		}
	}
	if name == metaDirName[:len(metaDirName)-2] || name == groupsDirName[:len(groupsDirName)-2] {
		return fmt.Errorf("%w: %q is reserved", ErrInvalidTopic, name)
	}
	return nil
}

// topicNameChar reports whether c may appear in a topic name.
func topicNameChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

func (b *Broker) partitionDir(topic string, p int32) string {
	return filepath.Join(b.cfg.DataDir, topic+"-"+strconv.Itoa(int(p)))
}

// loadCatalog replays the metadata log into memory, then opens the logs
// of the topics that exist at its end. Directories of topics deleted in
// the log are removed here, finishing a delete a crash interrupted.
// recovery counts each partition and queue opened: opening a log runs its
// crash recovery, the long part of a start.
func (b *Broker) loadCatalog(recovery *progress.Task) error {
	type state struct {
		id         [16]byte
		partitions int32
		configs    map[string]string
	}
	topics := map[string]*state{}
	deleted := map[string]int32{} // topic → most partitions it had
	amqp := newAMQPReplay()
	err := b.meta.replay(func(r metaRecord) error {
		switch r.Type {
		case metaCreateTopic:
			var id [16]byte
			hex.Decode(id[:], []byte(r.TopicID))
			topics[r.Topic] = &state{id: id, partitions: r.Partitions, configs: r.Configs}
		case metaDeleteTopic:
			if t, ok := topics[r.Topic]; ok {
				deleted[r.Topic] = max(deleted[r.Topic], t.partitions)
			}
			delete(topics, r.Topic)
		case metaPartitions:
			if t, ok := topics[r.Topic]; ok {
				t.partitions = r.Partitions
			}
		case metaTopicConfigs:
			if t, ok := topics[r.Topic]; ok {
				t.configs = r.Configs
			}
		case metaBrokerConfigs:
			b.brokerOverrides = r.Configs
			if b.brokerOverrides == nil {
				b.brokerOverrides = map[string]string{}
			}
		case metaProducerIDs:
			b.nextProducerID, b.producerIDEnd = r.NextProducerID, r.NextProducerID
		case metaAMQPTopology, metaAMQPQueue, metaAMQPQueueDelete, metaVHost:
			return amqp.apply(r)
		case metaVHostDelete:
			b.users.dropVHost(r.VHost)
			return amqp.apply(r)
		case metaUser, metaUserDelete, metaPermission, metaPermissionDelete:
			b.users.replay(r)
		case metaACLCreate, metaACLDelete:
			b.acls.replay(r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for name, n := range deleted {
		if _, live := topics[name]; live {
			continue
		}
		for p := int32(0); p < n; p++ {
			if err := os.RemoveAll(b.partitionDir(name, p)); err != nil {
				return fmt.Errorf("finish deleting %s: %w", name, err)
			}
		}
	}
	names := make([]string, 0, len(topics))
	total := int64(amqp.queueLogs())
	for n, s := range topics {
		names = append(names, n)
		total += int64(s.partitions)
	}
	sort.Strings(names)
	recovery.SetTotal(total)
	for _, name := range names {
		s := topics[name]
		t := &Topic{Name: name, ID: s.id, configs: s.configs}
		if t.configs == nil {
			t.configs = map[string]string{}
		}
		cfg := b.resolveTopicConfigs(t.configs)
		for p := int32(0); p < s.partitions; p++ {
			part, err := b.openPartition(t, p, cfg)
			if err != nil {
				return err
			}
			t.partitions = append(t.partitions, part)
			recovery.Add(1)
		}
		b.topics[name] = t
	}
	if err := b.loadAMQP(amqp, recovery); err != nil {
		return err
	}
	b.logger.Info("catalog loaded", "topics", len(b.topics), "vhosts", len(b.vhosts))
	return nil
}

// CreateTopicRequest asks for a new topic.
type CreateTopicRequest struct {
	Name              string
	Partitions        int32 // -1: the broker default
	ReplicationFactor int16 // -1: the broker default; only 1 is possible on one node
	Configs           map[string]string
	ValidateOnly      bool
}

// CreateTopic creates a topic durably: the metadata record is fsynced
// before any partition exists, so a crash leaves either no topic or one
// whose logs are created on the next start.
func (b *Broker) CreateTopic(ctx context.Context, r CreateTopicRequest) (TopicInfo, error) {
	b.cfgMu.Lock()
	defer b.cfgMu.Unlock()
	if err := ValidateTopicName(r.Name); err != nil {
		return TopicInfo{}, err
	}
	if r.Partitions == -1 {
		r.Partitions = b.cfg.DefaultPartitions
	}
	if r.Partitions < 1 || r.Partitions > 100_000 {
		return TopicInfo{}, fmt.Errorf("%w: %d", ErrInvalidPartitions, r.Partitions)
	}
	if r.ReplicationFactor != -1 && r.ReplicationFactor != 1 {
		return TopicInfo{}, fmt.Errorf("%w: %d (this cluster has 1 broker)", ErrInvalidReplicationFactor, r.ReplicationFactor)
	}
	if err := validateTopicConfigs(r.Configs); err != nil {
		return TopicInfo{}, err
	}
	if err := b.enter(); err != nil {
		return TopicInfo{}, err
	}
	defer b.leave()
	configs := maps.Clone(r.Configs)
	if configs == nil {
		configs = map[string]string{}
	}
	cfg := b.resolveTopicConfigs(configs)

	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.topics[r.Name]; ok {
		return TopicInfo{}, fmt.Errorf("%w: %s", ErrTopicExists, r.Name)
	}
	t := &Topic{Name: r.Name, configs: configs}
	if r.ValidateOnly {
		return TopicInfo{Name: r.Name, Partitions: r.Partitions}, nil
	}
	if _, err := rand.Read(t.ID[:]); err != nil {
		return TopicInfo{}, fmt.Errorf("topic id: %w", err)
	}
	if err := b.meta.append(ctx, metaRecord{Type: metaCreateTopic, Topic: r.Name, TopicID: hex.EncodeToString(t.ID[:]), Partitions: r.Partitions, Configs: configs}); err != nil {
		return TopicInfo{}, err
	}
	for p := int32(0); p < r.Partitions; p++ {
		// A directory left by an older topic of the same name whose
		// delete was interrupted must not leak into this one.
		if err := os.RemoveAll(b.partitionDir(r.Name, p)); err != nil {
			return TopicInfo{}, fmt.Errorf("%w: %w", ErrStorage, err)
		}
		part, err := b.openPartition(t, p, cfg)
		if err != nil {
			return TopicInfo{}, err
		}
		t.partitions = append(t.partitions, part)
	}
	b.topics[r.Name] = t
	b.logger.Info("topic created", "topic", r.Name, "partitions", r.Partitions)
	return t.info(), nil
}

func (t *Topic) info() TopicInfo {
	return TopicInfo{Name: t.Name, ID: t.ID, Partitions: int32(len(t.partitions)), Internal: IsStreamTopic(t.Name)}
}

func (b *Broker) openPartition(t *Topic, p int32, entries []ConfigEntry) (*partition, error) {
	l, err := storage.Open(b.partitionDir(t.Name, p), storageConfig(entries), b.storageOptions())
	if err != nil {
		return nil, fmt.Errorf("%w: open %s-%d: %w", ErrStorage, t.Name, p, err)
	}
	part, err := newPartition(t.Name, p, l, b.logger)
	if err != nil {
		return nil, err
	}
	part.settings.Store(resolveSettings(entries))
	return part, nil
}

// DeleteTopic removes a topic and its data.
func (b *Broker) DeleteTopic(ctx context.Context, name string) error {
	_, err := b.deleteTopic(ctx, name, nil)
	return err
}

// deleteTopic removes a topic and its data; given an id, only if the
// topic of that name still has it (a stream queue deletes the topic it
// created, not one made since under the same name): otherwise it reports
// false and no error.
func (b *Broker) deleteTopic(ctx context.Context, name string, id *[16]byte) (bool, error) {
	b.cfgMu.Lock()
	defer b.cfgMu.Unlock()
	if err := b.enter(); err != nil {
		return false, err
	}
	defer b.leave()
	b.mu.Lock()
	t, ok := b.topics[name]
	if !ok {
		b.mu.Unlock()
		return false, fmt.Errorf("%w: %s", ErrUnknownTopicOrPartition, name)
	}
	if id != nil && t.ID != *id {
		b.mu.Unlock()
		return false, nil
	}
	if err := b.meta.append(ctx, metaRecord{Type: metaDeleteTopic, Topic: name}); err != nil {
		b.mu.Unlock()
		return false, err
	}
	delete(b.topics, name)
	b.mu.Unlock()
	// Sizes first: a deleted log reports none. Removing a large topic's
	// files can take long enough that operators want to see it move.
	sizes := make([]int64, len(t.partitions))
	var total int64
	for i, p := range t.partitions {
		sizes[i] = p.log.Size()
		total += sizes[i]
	}
	task := b.cfg.Progress.Start("delete_topic", name, "bytes", total)
	var errs []error
	for i, p := range t.partitions {
		errs = append(errs, p.delete())
		task.Add(sizes[i])
	}
	err := errors.Join(errs...)
	task.Finish(err)
	b.logger.Info("topic deleted", "topic", name, "partitions", len(t.partitions))
	return true, err
}

// DeleteTopicByID deletes the topic with the given id (DeleteTopics v6+).
func (b *Broker) DeleteTopicByID(ctx context.Context, id [16]byte) (string, error) {
	b.mu.RLock()
	name := ""
	for _, t := range b.topics {
		if t.ID == id {
			name = t.Name
		}
	}
	b.mu.RUnlock()
	if name == "" {
		return "", ErrUnknownTopicID
	}
	return name, b.DeleteTopic(ctx, name)
}

// ErrUnknownTopicID is returned for a topic id no topic has.
var ErrUnknownTopicID = errors.New("unknown topic id")

// CreatePartitions grows a topic to total partitions.
func (b *Broker) CreatePartitions(ctx context.Context, name string, total int32, validateOnly bool) error {
	b.cfgMu.Lock()
	defer b.cfgMu.Unlock()
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	t, configs, err := b.topicOverrides(name)
	if err != nil {
		return err
	}
	cfg := b.resolveTopicConfigs(configs)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.topics[name] != t {
		return fmt.Errorf("%w: %s", ErrUnknownTopicOrPartition, name)
	}
	cur := int32(len(t.partitions))
	if total <= cur || total > 100_000 {
		return fmt.Errorf("%w: topic %s has %d partitions, asked for %d", ErrInvalidPartitions, name, cur, total)
	}
	if validateOnly {
		return nil
	}
	if err := b.meta.append(ctx, metaRecord{Type: metaPartitions, Topic: name, Partitions: total}); err != nil {
		return err
	}
	for p := cur; p < total; p++ {
		if err := os.RemoveAll(b.partitionDir(name, p)); err != nil {
			return fmt.Errorf("%w: %w", ErrStorage, err)
		}
		part, err := b.openPartition(t, p, cfg)
		if err != nil {
			return err
		}
		t.partitions = append(t.partitions, part)
	}
	b.logger.Info("partitions added", "topic", name, "from", cur, "to", total)
	return nil
}

// Topics lists every topic, sorted by name.
func (b *Broker) Topics() []TopicInfo {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]TopicInfo, 0, len(b.topics))
	for _, t := range b.topics {
		out = append(out, t.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Topic describes one topic; with autoCreate and the broker's
// auto.create.topics.enable, a missing topic is created first.
func (b *Broker) Topic(ctx context.Context, name string, autoCreate bool) (TopicInfo, error) {
	b.mu.RLock()
	t, ok := b.topics[name]
	var info TopicInfo
	if ok {
		info = t.info()
	}
	b.mu.RUnlock()
	if ok {
		return info, nil
	}
	if !autoCreate || !b.cfg.AutoCreateTopics {
		return TopicInfo{}, fmt.Errorf("%w: %s", ErrUnknownTopicOrPartition, name)
	}
	info, err := b.CreateTopic(ctx, CreateTopicRequest{Name: name, Partitions: -1, ReplicationFactor: -1})
	if errors.Is(err, ErrTopicExists) {
		return b.Topic(ctx, name, false)
	}
	return info, err
}

// AutoCreateTopics reports auto.create.topics.enable: whether Topic with
// autoCreate creates a missing topic.
func (b *Broker) AutoCreateTopics() bool { return b.cfg.AutoCreateTopics }

// TopicByID resolves a topic id (Fetch v13+, Metadata v10+).
func (b *Broker) TopicByID(id [16]byte) (TopicInfo, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, t := range b.topics {
		if t.ID == id {
			return t.info(), true
		}
	}
	return TopicInfo{}, false
}

// partition returns the partition, or ErrUnknownTopicOrPartition.
func (b *Broker) partition(topic string, p int32) (*partition, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	t, ok := b.topics[topic]
	if !ok || p < 0 || int(p) >= len(t.partitions) {
		return nil, fmt.Errorf("%w: %s-%d", ErrUnknownTopicOrPartition, topic, p)
	}
	return t.partitions[p], nil
}
