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
	// KafkaListen is the Kafka listeners, Kafka's `listeners`: a
	// host:port (PLAINTEXT), or a comma-separated list of
	// SECURITY://host:port where SECURITY is PLAINTEXT, SSL,
	// SASL_PLAINTEXT or SASL_SSL. Default ":9092".
	KafkaListen string
	// AMQPListen is the AMQP 0-9-1 listener address. Default ":5672".
	// Empty disables it.
	AMQPListen string
	// AMQPTLSListen is the AMQP 0-9-1 over TLS (amqps) listener address,
	// RabbitMQ's 5671 by convention. Empty (the default) disables it.
	AMQPTLSListen string
	// HTTPListen is the operators' HTTP listener: the web console (/),
	// the admin API (/api), health (/healthz, /readyz) and Prometheus
	// metrics (/metrics). Default ":15672", RabbitMQ's management port.
	// Empty disables it.
	HTTPListen string
	// HTTPTLSListen serves the same as HTTPListen over HTTPS. Empty (the
	// default) disables it.
	HTTPTLSListen string
	// TLS is the certificate of every TLS listener.
	TLS TLSConfig
	// SASLMechanisms are the SASL mechanisms offered on SASL_* Kafka
	// listeners (sasl.enabled.mechanisms).
	SASLMechanisms []string
	// ReauthAfter is Kafka's connections.max.reauth.ms (KIP-368): a SASL
	// session lasts this long, after which the client must authenticate
	// again or be disconnected. Zero (the default) never expires one.
	ReauthAfter time.Duration
	// Limits bound what clients can take.
	Limits Limits
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
	// Txn holds transaction coordinator settings.
	Txn TxnConfig

	// Authorizer is kafka.authorizer: "none" lets every Kafka request
	// through, as a Kafka broker without authorizer.class.name; "acl"
	// checks each against the ACLs clients manage with CreateAcls, as
	// Kafka's StandardAuthorizer. Default none.
	Authorizer string
	// SuperUsers are principals allowed everything (super.users, e.g.
	// User:admin); users tagged administrator are super users as well.
	SuperUsers []string
	// AllowEveryoneIfNoACL allows actions on resources no ACL names
	// (allow.everyone.if.no.acl.found). Default false.
	AllowEveryoneIfNoACL bool
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
	// LogCleaner configures log compaction: topics whose cleanup.policy
	// includes compact, and the consumer offsets log.
	LogCleaner LogCleanerConfig
}

// LogCleanerConfig mirrors Kafka's log.cleaner.* broker settings.
type LogCleanerConfig struct {
	// Enable runs the background cleaner (log.cleaner.enable). Default
	// true; without it compacted logs are never cleaned.
	Enable bool
	// DedupeBufferSize is the memory of the cleaner's offset map
	// (log.cleaner.dedupe.buffer.size): about 1.25 million keys per pass
	// at the default 32 MiB; a log with more keys is cleaned over several
	// passes.
	DedupeBufferSize int64
	// Backoff is the pause between passes that found nothing to clean
	// (log.cleaner.backoff.ms). Default 15s.
	Backoff time.Duration
}

// TLSConfig names the PEM files of the TLS listeners. The files are
// watched: a renewed certificate is served to new connections without a
// restart.
type TLSConfig struct {
	CertFile string // tls.cert.file: the certificate chain
	KeyFile  string // tls.key.file: its private key
	// CAFile holds the CAs client certificates must chain to; needed
	// when ClientAuth is not "none".
	CAFile string
	// ClientAuth is Kafka's ssl.client.auth: none, requested (verified
	// when presented) or required (mutual TLS).
	ClientAuth string
}

// Limits are the resource limits per node and per client.
type Limits struct {
	// MaxConnections caps the open client connections of every protocol
	// together; 0 is unlimited.
	MaxConnections int
	// MaxConnectionsPerUser caps one user's open connections; 0 is
	// unlimited.
	MaxConnectionsPerUser int
	// ConnectionMemory bounds the client data one connection may have
	// buffered in the broker: Kafka requests read but not yet answered,
	// AMQP message bodies being received. One request or message alone
	// may exceed it (up to max.request.bytes or the AMQP message size
	// cap), so a client is never stuck.
	ConnectionMemory int64
	// AuthFailuresPerMinute is how many failed logins one address may
	// make in a minute before its further attempts are refused
	// unchecked until the minute passes; 0 is unlimited.
	AuthFailuresPerMinute int
}

// Security protocols of a Kafka listener, as Kafka names them.
const (
	Plaintext     = "PLAINTEXT"
	SSL           = "SSL"
	SASLPlaintext = "SASL_PLAINTEXT"
	SASLSSL       = "SASL_SSL"
)

// KafkaListener is one Kafka listener: an address and its security
// protocol.
type KafkaListener struct {
	Security string
	Addr     string
}

// TLS reports whether the listener speaks TLS.
func (l KafkaListener) TLS() bool { return l.Security == SSL || l.Security == SASLSSL }

// SASL reports whether clients must authenticate with SASL.
func (l KafkaListener) SASL() bool { return l.Security == SASLPlaintext || l.Security == SASLSSL }

// KafkaListeners parses KafkaListen.
func (c Config) KafkaListeners() ([]KafkaListener, error) {
	var out []KafkaListener
	for _, part := range strings.Split(c.KafkaListen, ",") {
		part = strings.TrimSpace(part)
		l := KafkaListener{Security: Plaintext, Addr: part}
		if sec, addr, ok := strings.Cut(part, "://"); ok {
			l = KafkaListener{Security: strings.ToUpper(sec), Addr: addr}
		}
		switch l.Security {
		case Plaintext, SSL, SASLPlaintext, SASLSSL:
		default:
			return nil, fmt.Errorf("listener %q: security protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL", part)
		}
		if _, _, err := net.SplitHostPort(l.Addr); err != nil {
			return nil, fmt.Errorf("listener %q: %w", part, err)
		}
		for _, o := range out {
			if o.Addr == l.Addr && !strings.HasSuffix(l.Addr, ":0") {
				return nil, fmt.Errorf("listener %q: address used twice", part)
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// TLSNeeded reports whether any listener speaks TLS.
func (c Config) TLSNeeded() bool {
	ls, _ := c.KafkaListeners()
	for _, l := range ls {
		if l.TLS() {
			return true
		}
	}
	return c.AMQPTLSListen != "" || c.HTTPTLSListen != ""
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

	// Consumer-protocol groups (KIP-848).
	ConsumerSessionTimeout    time.Duration // group.consumer.session.timeout.ms
	ConsumerHeartbeatInterval time.Duration // group.consumer.heartbeat.interval.ms
	ConsumerMaxSize           int           // group.consumer.max.size; 0 unlimited
	ConsumerAssignors         []string      // group.consumer.assignors: uniform, range; the first is the default
}

// TxnConfig mirrors Kafka's transaction coordinator settings.
type TxnConfig struct {
	MaxTimeout    time.Duration // transaction.max.timeout.ms
	CheckInterval time.Duration // transaction.abort.timed.out.transaction.cleanup.interval.ms
}

// Default returns the embedded default: a useful single-node broker with
// data under ./data, Kafka on :9092 and fsync before every acknowledgement.
func Default() Config {
	return Config{
		DataDir:        "./data",
		KafkaListen:    ":9092",
		AMQPListen:     ":5672",
		HTTPListen:     ":15672",
		TLS:            TLSConfig{ClientAuth: "none"},
		SASLMechanisms: []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"},
		Limits:         Limits{AuthFailuresPerMinute: 30, ConnectionMemory: 100 << 20},
		DefaultUser:    "guest",
		DefaultPass:    "guest",
		LoopbackUsers:  []string{"guest"},
		NodeID:         1,
		LogLevel:       "info",
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
		Txn:               TxnConfig{MaxTimeout: 15 * time.Minute, CheckInterval: 10 * time.Second},
		Group: GroupConfig{
			MinSessionTimeout:     6 * time.Second,
			MaxSessionTimeout:     30 * time.Minute,
			InitialRebalanceDelay: 3 * time.Second,

			ConsumerSessionTimeout:    45 * time.Second,
			ConsumerHeartbeatInterval: 5 * time.Second,
			ConsumerAssignors:         []string{"uniform", "range"},
		},
		Authorizer:             "none",
		AMQP:                   AMQPLimits{ChannelMax: 2047, FrameMax: 131072, MaxMessageSize: 128 << 20},
		DiskFreeLimit:          50_000_000,
		ShutdownTimeout:        10 * time.Second,
		RetentionCheckInterval: 5 * time.Minute,
		LogCleaner:             LogCleanerConfig{Enable: true, DedupeBufferSize: 32 << 20, Backoff: 15 * time.Second},
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
	if _, err := c.KafkaListeners(); err != nil {
		bad("kafka_listen: %w", err)
	}
	for name, addr := range map[string]string{"amqp_listen": c.AMQPListen, "amqp_tls_listen": c.AMQPTLSListen, "http_listen": c.HTTPListen, "http_tls_listen": c.HTTPTLSListen} {
		if addr != "" {
			if _, _, err := net.SplitHostPort(addr); err != nil {
				bad("%s %q: %w", name, addr, err)
			}
		}
	}
	switch c.TLS.ClientAuth {
	case "none", "requested", "required":
	default:
		bad("tls.client.auth must be none, requested or required, got %q", c.TLS.ClientAuth)
	}
	if c.TLSNeeded() && (c.TLS.CertFile == "" || c.TLS.KeyFile == "") {
		bad("a TLS listener needs tls.cert.file and tls.key.file")
	}
	if c.TLS.ClientAuth != "none" && c.TLS.CAFile == "" {
		bad("tls.client.auth=%s needs tls.ca.file", c.TLS.ClientAuth)
	}
	for _, m := range c.SASLMechanisms {
		switch m {
		case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		default:
			bad("sasl.enabled.mechanisms: unknown mechanism %q (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)", m)
		}
	}
	if c.ReauthAfter < 0 {
		bad("connections.max.reauth.ms must not be negative")
	}
	if c.Limits.MaxConnections < 0 || c.Limits.MaxConnectionsPerUser < 0 || c.Limits.AuthFailuresPerMinute < 0 || c.Limits.ConnectionMemory < 0 {
		bad("limits must not be negative")
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
	if c.Txn.MaxTimeout <= 0 || c.Txn.CheckInterval <= 0 {
		bad("transaction.max.timeout and transaction.timeout.check.interval must be positive")
	}
	if c.Group.InitialRebalanceDelay < 0 {
		bad("group.initial_rebalance_delay must not be negative")
	}
	if c.Group.ConsumerHeartbeatInterval <= 0 || c.Group.ConsumerSessionTimeout <= c.Group.ConsumerHeartbeatInterval {
		bad("group.consumer.heartbeat.interval must be positive and below group.consumer.session.timeout")
	}
	if c.Group.ConsumerMaxSize < 0 {
		bad("group.consumer.max.size must not be negative")
	}
	if len(c.Group.ConsumerAssignors) == 0 {
		bad("group.consumer.assignors must name at least one assignor (uniform, range)")
	}
	for _, a := range c.Group.ConsumerAssignors {
		if a != "uniform" && a != "range" {
			bad("group.consumer.assignors: unknown assignor %q (uniform, range)", a)
		}
	}
	switch c.Authorizer {
	case "none", "acl":
	default:
		bad("kafka.authorizer must be none or acl, got %q", c.Authorizer)
	}
	for _, p := range c.SuperUsers {
		if !strings.Contains(p, ":") {
			bad("super.users: %q is not a principal (want Type:name, e.g. User:admin)", p)
		}
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
	if c.LogCleaner.DedupeBufferSize < 1<<20 {
		bad("log.cleaner.dedupe.buffer.size must be at least 1048576 (1 MiB), got %d", c.LogCleaner.DedupeBufferSize)
	}
	if c.LogCleaner.Backoff <= 0 {
		bad("log.cleaner.backoff must be positive")
	}
	return errors.Join(errs...)
}
