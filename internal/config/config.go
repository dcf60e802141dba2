package config

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Config is everything a Tern node needs to start. The zero value is not
// useful: start from Default and override.
type Config struct {
	// DataDir holds every log of the node: topics, the metadata log and
	// the group log. Default "./data".
	DataDir string
	// KafkaListen is the Kafka protocol listener address. Default ":9092".
	KafkaListen string
	// AMQPListen is the AMQP 0-9-1 listener address. Default ":5672".
	// Empty disables AMQP.
	AMQPListen string
	// HTTPListen is the operators' HTTP listener: the web console (/),
	// the admin API (/api), health (/healthz, /readyz) and Prometheus
	// metrics (/metrics). Default ":15672", RabbitMQ's management port.
	// Empty disables it.
	HTTPListen string
	// DefaultUser and DefaultPass are the administrator created when the
	// data directory has never had users,
	// RabbitMQ's guest/guest by default.
	DefaultUser string
	DefaultPass string
	// LoopbackUsers may only connect from loopback addresses, as
	// RabbitMQ's loopback_users (default: guest).
	LoopbackUsers []string
	// AdvertisedHost is the host clients are told to connect to in
	// Metadata responses. Empty means the listener's host, or "localhost"
	// when the listener binds every interface.
	AdvertisedHost string
	// NodeID is this broker's id in Metadata responses. Default 1.
	NodeID int32
	// LogLevel is one of debug, info, warn, error. Default info.
	LogLevel string

	// Log holds the broker defaults for every topic; topics override them
	// with their own configs (CreateTopics, AlterConfigs).
	Log LogDefaults

	// AutoCreateTopics creates a topic on first Metadata or Produce, as
	// Kafka's auto.create.topics.enable. Default true.
	AutoCreateTopics bool
	// DefaultPartitions is num.partitions for auto-created topics. Default 1.
	DefaultPartitions int32

	// MaxRequestBytes caps a Kafka request frame (socket.request.max.bytes).
	// Default 100 MiB, as Kafka.
	MaxRequestBytes int32
	// MaxMessageBytes caps one record batch (message.max.bytes). Default 1 MiB + overhead, as Kafka.
	MaxMessageBytes int32

	// Group holds consumer-group coordinator settings.
	Group GroupConfig

	// AMQP holds the AMQP 0-9-1 listener's limits.
	AMQP AMQPLimits

	// DiskFreeLimit blocks publishers while the data directory's disk has
	// fewer free bytes (RabbitMQ's disk_free_limit). Default 50 MB; 0 off.
	DiskFreeLimit int64

	// ShutdownTimeout bounds the drain of in-flight requests at shutdown.
	ShutdownTimeout time.Duration
	// RetentionCheckInterval is how often retention runs
	// (log.retention.check.interval.ms). Default 5 minutes.
	RetentionCheckInterval time.Duration
}

// LogDefaults are the broker-wide defaults for topic logs, named after the
// Kafka topic configs they default.
type LogDefaults struct {
	SegmentBytes   int64         // segment.bytes
	SegmentAge     time.Duration // segment.ms
	RetentionBytes int64         // retention.bytes; -1 unlimited
	RetentionAge   time.Duration // retention.ms; negative unlimited
	// Fsync is the durability policy: "always" acknowledges only after
	// fsync (group commit), "interval" fsyncs every FsyncInterval, "os"
	// leaves flushing to the kernel.
	Fsync         string
	FsyncInterval time.Duration
}

// AMQPLimits are RabbitMQ's per-connection limits, with its defaults.
type AMQPLimits struct {
	ChannelMax     int   // amqp.channel.max: channels open at once per connection (channel_max, 2047)
	FrameMax       int   // amqp.frame.max: largest frame in bytes (frame_max, 131072)
	MaxMessageSize int64 // amqp.max.message.size: largest message body (max_message_size, 128 MiB)
}

// GroupConfig mirrors Kafka's group.* broker settings.
type GroupConfig struct {
	MinSessionTimeout     time.Duration // group.min.session.timeout.ms
	MaxSessionTimeout     time.Duration // group.max.session.timeout.ms
	InitialRebalanceDelay time.Duration // group.initial.rebalance.delay.ms
	MaxSize               int           // group.max.size; 0 unlimited
}

// Default returns the embedded default: a useful single-node broker with
// data under ./data, Kafka on :9092 and fsync before every acknowledgement.
func Default() Config {
	return Config{
		DataDir:       "./data",
		KafkaListen:   ":9092",
		AMQPListen:    ":5672",
		HTTPListen:    ":15672",
		DefaultUser:   "guest",
		DefaultPass:   "guest",
		LoopbackUsers: []string{"guest"},
		NodeID:        1,
		LogLevel:      "info",
		Log: LogDefaults{
			SegmentBytes:   1 << 30,
			SegmentAge:     7 * 24 * time.Hour,
			RetentionBytes: -1,
			RetentionAge:   7 * 24 * time.Hour,
			Fsync:          "always",
			FsyncInterval:  time.Second,
		},
		AutoCreateTopics:  true,
		DefaultPartitions: 1,
		MaxRequestBytes:   100 << 20,
		MaxMessageBytes:   1048588,
		Group: GroupConfig{
			MinSessionTimeout:     6 * time.Second,
			MaxSessionTimeout:     30 * time.Minute,
			InitialRebalanceDelay: 3 * time.Second,
		},
		AMQP:                   AMQPLimits{ChannelMax: 2047, FrameMax: 131072, MaxMessageSize: 128 << 20},
		DiskFreeLimit:          50_000_000,
		ShutdownTimeout:        10 * time.Second,
		RetentionCheckInterval: 5 * time.Minute,
	}
}

// Validate reports every problem in c at once, so an operator fixes a
// config file in one pass.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.DataDir == "" {
		bad("data_dir must not be empty")
	}
	if _, _, err := net.SplitHostPort(c.KafkaListen); err != nil {
		bad("kafka_listen %q: %w", c.KafkaListen, err)
	}
	if c.AMQPListen != "" {
		if _, _, err := net.SplitHostPort(c.AMQPListen); err != nil {
			bad("amqp_listen %q: %w", c.AMQPListen, err)
		}
	}
	if c.HTTPListen != "" {
		if _, _, err := net.SplitHostPort(c.HTTPListen); err != nil {
			bad("http_listen %q: %w", c.HTTPListen, err)
		}
	}
	if c.DefaultUser == "" {
		bad("default_user must not be empty")
	}
	if c.NodeID < 0 {
		bad("node_id must be >= 0, got %d", c.NodeID)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level must be debug, info, warn or error, got %q", c.LogLevel)
	}
	switch c.Log.Fsync {
	case "always", "interval", "os":
	default:
		bad("log.fsync must be always, interval or os, got %q", c.Log.Fsync)
	}
	if c.Log.Fsync == "interval" && c.Log.FsyncInterval <= 0 {
		bad("log.fsync_interval must be positive with fsync=interval")
	}
	if c.Log.SegmentBytes < 14 {
		bad("log.segment_bytes must be at least 14, got %d", c.Log.SegmentBytes)
	}
	if c.Log.SegmentAge <= 0 {
		bad("log.segment_age must be positive")
	}
	if c.DefaultPartitions < 1 {
		bad("default_partitions must be >= 1, got %d", c.DefaultPartitions)
	}
	if c.MaxRequestBytes < 1024 {
		bad("max_request_bytes must be at least 1024, got %d", c.MaxRequestBytes)
	}
	if c.MaxMessageBytes < 64 || c.MaxMessageBytes > c.MaxRequestBytes {
		bad("max_message_bytes must be between 64 and max_request_bytes, got %d", c.MaxMessageBytes)
	}
	if c.Group.MinSessionTimeout <= 0 || c.Group.MaxSessionTimeout < c.Group.MinSessionTimeout {
		bad("group session timeouts must satisfy 0 < min <= max")
	}
	if c.Group.InitialRebalanceDelay < 0 {
		bad("group.initial_rebalance_delay must not be negative")
	}
	if c.AMQP.ChannelMax < 1 || c.AMQP.ChannelMax > 65535 {
		bad("amqp.channel.max must be between 1 and 65535, got %d", c.AMQP.ChannelMax)
	}
	if c.AMQP.FrameMax < 4096 || c.AMQP.FrameMax > 1<<30 {
		bad("amqp.frame.max must be between 4096 and 1073741824, got %d", c.AMQP.FrameMax)
	}
	if c.AMQP.MaxMessageSize < 1 || c.AMQP.MaxMessageSize > 512<<20 {
		bad("amqp.max.message.size must be between 1 and 536870912 (512 MiB, RabbitMQ's limit), got %d", c.AMQP.MaxMessageSize)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown_timeout must be positive")
	}
	if c.RetentionCheckInterval <= 0 {
		bad("retention_check_interval must be positive")
	}
	return errors.Join(errs...)
}
