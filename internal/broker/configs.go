package broker

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ternmq/tern/internal/storage"
)

// topicConfigDef describes one topic config: its Kafka name, the broker
// config that supplies its default, and how a value is checked. Configs
// Tern stores but does not act on yet are accepted so existing tooling
// that sets them keeps working; docs/kafka.md lists which those are.
type topicConfigDef struct {
	name      string
	brokerKey string // the broker-level default's name, e.g. log.retention.ms
	check     func(string) error
	fallback  string // default when no broker setting supplies one
}

func checkLong(min int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer: %q", v)
		}
		if n < min {
			return fmt.Errorf("must be at least %d", min)
		}
		return nil
	}
}

func checkOneOf(opts ...string) func(string) error {
	return func(v string) error {
		for _, part := range strings.Split(v, ",") {
			ok := false
			for _, o := range opts {
				ok = ok || strings.TrimSpace(part) == o
			}
			if !ok {
				return fmt.Errorf("%q is not one of %v", v, opts)
			}
		}
		return nil
	}
}

func checkAny(string) error { return nil }

// checkRatio accepts a number within [0, 1], as Kafka's
// min.cleanable.dirty.ratio.
func checkRatio(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return fmt.Errorf("not a number: %q", v)
	}
	if f < 0 || f > 1 {
		return fmt.Errorf("must be between 0 and 1")
	}
	return nil
}

// topicConfigDefs is every topic config Tern accepts, in one table.
var topicConfigDefs = []topicConfigDef{
	{name: "retention.ms", brokerKey: "log.retention.ms", check: checkLong(-1)},
	{name: "retention.bytes", brokerKey: "log.retention.bytes", check: checkLong(-1)},
	{name: "segment.bytes", brokerKey: "log.segment.bytes", check: checkLong(14)},
	{name: "segment.ms", brokerKey: "log.roll.ms", check: checkLong(1)},
	{name: "fsync.policy", brokerKey: "log.fsync.policy", check: checkOneOf("always", "interval", "os")},
	{name: "fsync.interval.ms", brokerKey: "log.fsync.interval.ms", check: checkLong(1)},
	{name: "max.message.bytes", brokerKey: "message.max.bytes", check: checkLong(0)},
	{name: "message.timestamp.type", brokerKey: "log.message.timestamp.type", check: checkOneOf("CreateTime", "LogAppendTime"), fallback: "CreateTime"},
	// cleanup.policy is a list: delete, compact, or both (compact,delete
	// in either order). Compaction: internal/compact, via compaction.go.
	{name: "cleanup.policy", brokerKey: "log.cleanup.policy", check: checkOneOf("delete", "compact"), fallback: "delete"},
	{name: "delete.retention.ms", brokerKey: "log.cleaner.delete.retention.ms", check: checkLong(0), fallback: "86400000"},
	{name: "min.compaction.lag.ms", brokerKey: "log.cleaner.min.compaction.lag.ms", check: checkLong(0), fallback: "0"},
	{name: "max.compaction.lag.ms", brokerKey: "log.cleaner.max.compaction.lag.ms", check: checkLong(1), fallback: "9223372036854775807"},
	{name: "min.cleanable.dirty.ratio", brokerKey: "log.cleaner.min.cleanable.ratio", check: checkRatio, fallback: "0.5"},
	// Accepted and reported, no effect yet (replication and compression
	// conversion come in later issues).
	{name: "compression.type", brokerKey: "compression.type", check: checkOneOf("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"), fallback: "producer"},
	{name: "min.insync.replicas", brokerKey: "min.insync.replicas", check: checkLong(1), fallback: "1"},
	{name: "unclean.leader.election.enable", brokerKey: "unclean.leader.election.enable", check: checkOneOf("true", "false"), fallback: "false"},
	{name: "message.timestamp.before.max.ms", brokerKey: "log.message.timestamp.before.max.ms", check: checkLong(0), fallback: "9223372036854775807"},
	{name: "message.timestamp.after.max.ms", brokerKey: "log.message.timestamp.after.max.ms", check: checkLong(0), fallback: "9223372036854775807"},
	{name: "flush.messages", brokerKey: "log.flush.interval.messages", check: checkLong(1), fallback: "9223372036854775807"},
	{name: "flush.ms", brokerKey: "log.flush.interval.ms", check: checkLong(0), fallback: "9223372036854775807"},
	{name: "index.interval.bytes", brokerKey: "log.index.interval.bytes", check: checkLong(0), fallback: "4096"},
	{name: "segment.index.bytes", brokerKey: "log.index.size.max.bytes", check: checkLong(4), fallback: "10485760"},
	{name: "segment.jitter.ms", brokerKey: "log.roll.jitter.ms", check: checkLong(0), fallback: "0"},
	{name: "file.delete.delay.ms", brokerKey: "log.segment.delete.delay.ms", check: checkLong(0), fallback: "60000"},
	{name: "preallocate", brokerKey: "log.preallocate", check: checkOneOf("true", "false"), fallback: "false"},
	{name: "local.retention.ms", brokerKey: "log.local.retention.ms", check: checkLong(-2), fallback: "-2"},
	{name: "local.retention.bytes", brokerKey: "log.local.retention.bytes", check: checkLong(-2), fallback: "-2"},
	{name: "message.downconversion.enable", brokerKey: "log.message.downconversion.enable", check: checkOneOf("true", "false"), fallback: "true"},
	{name: "follower.replication.throttled.replicas", brokerKey: "", check: checkAny, fallback: ""},
	{name: "leader.replication.throttled.replicas", brokerKey: "", check: checkAny, fallback: ""},
}

func topicConfigDef1(name string) (topicConfigDef, bool) {
	for _, d := range topicConfigDefs {
		if d.name == name {
			return d, true
		}
	}
	return topicConfigDef{}, false
}

// brokerConfigKeys maps the broker-level settings Tern derives topic
// defaults from to their current values, as Kafka names them.
func (b *Broker) brokerConfigs() map[string]string {
	d := b.logDefaults()
	m := map[string]string{
		"log.retention.ms":           strconv.FormatInt(durMs(d.RetentionAge), 10),
		"log.retention.bytes":        strconv.FormatInt(d.RetentionBytes, 10),
		"log.segment.bytes":          strconv.FormatInt(d.SegmentBytes, 10),
		"log.roll.ms":                strconv.FormatInt(durMs(d.SegmentAge), 10),
		"log.fsync.policy":           d.Sync.String(),
		"log.fsync.interval.ms":      strconv.FormatInt(durMs(d.SyncInterval), 10),
		"message.max.bytes":          strconv.FormatInt(int64(b.cfg.MaxMessageBytes), 10),
		"num.partitions":             strconv.FormatInt(int64(b.cfg.DefaultPartitions), 10),
		"auto.create.topics.enable":  strconv.FormatBool(b.cfg.AutoCreateTopics),
		"default.replication.factor": "1",
		"broker.id":                  strconv.FormatInt(int64(b.cfg.NodeID), 10),
		"node.id":                    strconv.FormatInt(int64(b.cfg.NodeID), 10),
		"log.dirs":                   b.cfg.DataDir,
	}
	b.cleanerConfigs(m)
	b.mu.RLock()
	for k, v := range b.brokerOverrides {
		m[k] = v
	}
	b.mu.RUnlock()
	return m
}

// dynamicBrokerConfigs are the broker configs AlterConfigs may change at
// runtime; each becomes the default of topics without their own value.
var dynamicBrokerConfigs = map[string]func(string) error{
	"log.retention.ms":           checkLong(-1),
	"log.retention.bytes":        checkLong(-1),
	"log.segment.bytes":          checkLong(14),
	"log.roll.ms":                checkLong(1),
	"log.fsync.policy":           checkOneOf("always", "interval", "os"),
	"log.fsync.interval.ms":      checkLong(1),
	"message.max.bytes":          checkLong(0),
	"log.message.timestamp.type": checkOneOf("CreateTime", "LogAppendTime"),
	"log.cleanup.policy":         checkOneOf("delete", "compact"),
	// Kafka's cluster-wide log.cleaner.* defaults of the topic configs.
	"log.cleaner.delete.retention.ms":   checkLong(0),
	"log.cleaner.min.compaction.lag.ms": checkLong(0),
	"log.cleaner.max.compaction.lag.ms": checkLong(1),
	"log.cleaner.min.cleanable.ratio":   checkRatio,
}

func durMs(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return d.Milliseconds()
}

// ConfigEntry is one resolved config value and where it came from.
type ConfigEntry struct {
	Name      string
	Value     string
	Source    ConfigSource
	ReadOnly  bool
	Sensitive bool
}

// ConfigSource says where a value comes from, in Kafka's terms.
type ConfigSource int8

// Config sources, numbered as Kafka's DescribeConfigs reports them.
const (
	SourceTopic         ConfigSource = 1
	SourceDynamicBroker ConfigSource = 3
	SourceStaticBroker  ConfigSource = 4
	SourceDefault       ConfigSource = 5
)

// resolveTopicConfigs merges topic overrides over broker defaults.
func (b *Broker) resolveTopicConfigs(overrides map[string]string) []ConfigEntry {
	brokerVals := b.brokerConfigs()
	b.mu.RLock()
	dynamic := make(map[string]bool, len(b.brokerOverrides))
	for k := range b.brokerOverrides {
		dynamic[k] = true
	}
	b.mu.RUnlock()
	out := make([]ConfigEntry, 0, len(topicConfigDefs))
	for _, d := range topicConfigDefs {
		e := ConfigEntry{Name: d.name}
		switch v, ok := overrides[d.name]; {
		case ok:
			e.Value, e.Source = v, SourceTopic
		case dynamic[d.brokerKey]:
			e.Value, e.Source = brokerVals[d.brokerKey], SourceDynamicBroker
		case brokerVals[d.brokerKey] != "":
			e.Value, e.Source = brokerVals[d.brokerKey], SourceStaticBroker
		default:
			e.Value, e.Source = d.fallback, SourceDefault
		}
		out = append(out, e)
	}
	return out
}

// validateTopicConfigs checks overrides against the table; unknown names
// are rejected as Kafka does.
func validateTopicConfigs(overrides map[string]string) error {
	for k, v := range overrides {
		d, ok := topicConfigDef1(k)
		if !ok {
			return fmt.Errorf("%w: unknown topic config %q", ErrInvalidConfig, k)
		}
		if err := d.check(v); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidConfig, k, err)
		}
	}
	return nil
}

// storageConfig turns resolved topic configs into the log's tunables.
func storageConfig(entries []ConfigEntry) storage.Config {
	c := storage.DefaultConfig()
	for _, e := range entries {
		n, _ := strconv.ParseInt(e.Value, 10, 64)
		switch e.Name {
		case "retention.ms":
			c.RetentionAge = msDur(n)
		case "retention.bytes":
			c.RetentionBytes = n
		case "segment.bytes":
			c.SegmentBytes = n
		case "segment.ms":
			c.SegmentAge = msDur(n)
		case "fsync.policy":
			if p, err := storage.ParseSyncPolicy(e.Value); err == nil {
				c.Sync = p
			}
		case "fsync.interval.ms":
			c.SyncInterval = msDur(n)
		case "index.interval.bytes":
			if n > 0 {
				c.IndexIntervalBytes = int(n)
			}
		case "cleanup.policy":
			c.Cleanup = cleanupPolicy(e.Value)
		case "min.cleanable.dirty.ratio":
			if f, err := strconv.ParseFloat(e.Value, 64); err == nil && f >= 0 && f <= 1 {
				c.MinCleanableRatio = f
			}
		case "min.compaction.lag.ms":
			c.MinCompactionLag = max(msDur(n), 0)
		case "max.compaction.lag.ms":
			if n > 0 {
				c.MaxCompactionLag = msDur(n)
			}
		case "delete.retention.ms":
			c.DeleteRetention = max(msDur(n), 0)
		}
	}
	// A compacted segment can only be cleaned once sealed: Kafka rolls
	// segments by max.compaction.lag.ms too, so the lag is honoured on an
	// idle topic (LogConfig.maxSegmentMs).
	if c.Cleanup.Compact() {
		c.SegmentAge = min(c.SegmentAge, c.MaxCompactionLag)
	}
	return c
}

// cleanupPolicy parses cleanup.policy's list ("compact,delete" in any
// order and spacing).
func cleanupPolicy(v string) storage.CleanupPolicy {
	var p storage.CleanupPolicy
	for _, part := range strings.Split(v, ",") {
		switch strings.TrimSpace(part) {
		case "delete":
			p |= storage.CleanupDelete
		case "compact":
			p |= storage.CleanupCompact
		}
	}
	return p
}

// msDur converts Kafka milliseconds; negative is "unlimited" (-1), and
// values past what a Duration holds (Long.MAX_VALUE, Kafka's "never")
// saturate.
func msDur(ms int64) time.Duration {
	if ms < 0 {
		return -1
	}
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

func configValue(entries []ConfigEntry, name string) string {
	for _, e := range entries {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
