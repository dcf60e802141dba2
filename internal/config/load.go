package config

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// setting is one named knob. The same table drives the config file, the
// environment and the command line, so a knob can never be settable in one
// place and silently ignored in another.
type setting struct {
	name  string // dotted name: config file key and flag name
	usage string
	get   func(*Config) string
	set   func(*Config, string) error
}

// EnvName is the environment variable for a dotted setting name:
// log.fsync → TERN_LOG_FSYNC.
func EnvName(name string) string {
	return "TERN_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(name))
}

func settings() []setting {
	return []setting{
		str("data.dir", "directory holding every log of the node", func(c *Config) *string { return &c.DataDir }),
		str("kafka.listen", "Kafka listeners: host:port, or a comma-separated list of PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL://host:port", func(c *Config) *string { return &c.KafkaListen }),
		str("amqp.listen", "AMQP 0-9-1 listener address (host:port; empty disables it)", func(c *Config) *string { return &c.AMQPListen }),
		str("amqp.tls.listen", "AMQP 0-9-1 over TLS listener address (host:port, e.g. :5671; empty disables it)", func(c *Config) *string { return &c.AMQPTLSListen }),
		str("http.listen", "HTTP listener for the web console, the admin API (/api), /metrics, /healthz and /readyz (host:port; empty disables it)", func(c *Config) *string { return &c.HTTPListen }),
		str("http.tls.listen", "HTTPS listener serving the same as http.listen (host:port, e.g. :15671; empty disables it)", func(c *Config) *string { return &c.HTTPTLSListen }),
		str("tls.cert.file", "PEM certificate chain of the TLS listeners (reloaded when the file changes)", func(c *Config) *string { return &c.TLS.CertFile }),
		str("tls.key.file", "PEM private key of tls.cert.file", func(c *Config) *string { return &c.TLS.KeyFile }),
		str("tls.ca.file", "PEM CAs that client certificates must chain to", func(c *Config) *string { return &c.TLS.CAFile }),
		str("tls.client.auth", "client certificates: none, requested or required (mutual TLS; the certificate's CN is the user)", func(c *Config) *string { return &c.TLS.ClientAuth }),
		list("sasl.enabled.mechanisms", "SASL mechanisms of SASL_* Kafka listeners", func(c *Config) *[]string { return &c.SASLMechanisms }),
		dur("connections.max.reauth.ms", "SASL session lifetime on Kafka listeners (KIP-368); 0 never expires", func(c *Config) *time.Duration { return &c.ReauthAfter }),
		integer("max.connections", "most open client connections, all protocols together (0 unlimited)", func(c *Config) *int { return &c.Limits.MaxConnections }),
		integer("max.connections.per.user", "most open connections of one user (0 unlimited)", func(c *Config) *int { return &c.Limits.MaxConnectionsPerUser }),
		i64("max.connection.memory", "bytes of requests and message bodies one connection may have in flight (one alone may exceed it)", func(c *Config) *int64 { return &c.Limits.ConnectionMemory }),
		integer("auth.failures.per.minute", "failed logins one address may make per minute before the next are refused (0 unlimited)", func(c *Config) *int { return &c.Limits.AuthFailuresPerMinute }),
		str("default.user", "administrator created when the data directory has never had users", func(c *Config) *string { return &c.DefaultUser }),
		str("default.pass", "password of the default user", func(c *Config) *string { return &c.DefaultPass }),
		list("loopback.users", "comma-separated users allowed only from loopback", func(c *Config) *[]string { return &c.LoopbackUsers }),
		str("advertised.host", "host advertised to Kafka clients (default: listener host, or localhost)", func(c *Config) *string { return &c.AdvertisedHost }),
		i32("node.id", "broker id reported to clients", func(c *Config) *int32 { return &c.NodeID }),
		str("log.level", "debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }),
		i64("segment.bytes", "default segment.bytes for topics", func(c *Config) *int64 { return &c.Log.SegmentBytes }),
		dur("segment.ms", "default segment.ms for topics (e.g. 168h)", func(c *Config) *time.Duration { return &c.Log.SegmentAge }),
		i64("retention.bytes", "default retention.bytes for topics (-1 unlimited)", func(c *Config) *int64 { return &c.Log.RetentionBytes }),
		dur("retention.ms", "default retention.ms for topics (e.g. 168h; -1ms unlimited)", func(c *Config) *time.Duration { return &c.Log.RetentionAge }),
		str("fsync", "durability policy: always (fsync before ack, group commit), interval or os", func(c *Config) *string { return &c.Log.Fsync }),
		dur("fsync.interval", "fsync period with fsync=interval", func(c *Config) *time.Duration { return &c.Log.FsyncInterval }),
		boolean("auto.create.topics", "create topics on first use, as auto.create.topics.enable", func(c *Config) *bool { return &c.AutoCreateTopics }),
		i32("num.partitions", "partitions of auto-created topics", func(c *Config) *int32 { return &c.DefaultPartitions }),
		i32("max.request.bytes", "largest Kafka request frame accepted", func(c *Config) *int32 { return &c.MaxRequestBytes }),
		i32("message.max.bytes", "largest record batch accepted", func(c *Config) *int32 { return &c.MaxMessageBytes }),
		dur("group.min.session.timeout", "smallest consumer session timeout accepted", func(c *Config) *time.Duration { return &c.Group.MinSessionTimeout }),
		dur("group.max.session.timeout", "largest consumer session timeout accepted", func(c *Config) *time.Duration { return &c.Group.MaxSessionTimeout }),
		dur("group.initial.rebalance.delay", "wait for more members before the first rebalance of an empty group", func(c *Config) *time.Duration { return &c.Group.InitialRebalanceDelay }),
		integer("group.max.size", "most members in one group (0 unlimited)", func(c *Config) *int { return &c.Group.MaxSize }),
		dur("transaction.max.timeout", "largest transaction timeout a producer may ask for (transaction.max.timeout.ms)", func(c *Config) *time.Duration { return &c.Txn.MaxTimeout }),
		dur("transaction.timeout.check.interval", "how often open transactions are checked against their timeouts (transaction.abort.timed.out.transaction.cleanup.interval.ms)", func(c *Config) *time.Duration { return &c.Txn.CheckInterval }),
		dur("group.consumer.session.timeout", "how long a consumer-protocol (KIP-848) member may go without a heartbeat", func(c *Config) *time.Duration { return &c.Group.ConsumerSessionTimeout }),
		dur("group.consumer.heartbeat.interval", "how often consumer-protocol members are told to heartbeat", func(c *Config) *time.Duration { return &c.Group.ConsumerHeartbeatInterval }),
		integer("group.consumer.max.size", "most members in one consumer-protocol group (0 unlimited)", func(c *Config) *int { return &c.Group.ConsumerMaxSize }),
		list("group.consumer.assignors", "server-side assignors consumer-protocol members may choose (uniform, range); the first is the default", func(c *Config) *[]string { return &c.Group.ConsumerAssignors }),
		str("kafka.authorizer", "none (every Kafka request allowed) or acl (checked against ACLs, as Kafka's StandardAuthorizer)", func(c *Config) *string { return &c.Authorizer }),
		principals("super.users", "principals allowed everything with kafka.authorizer=acl, separated by ; (or commas), e.g. User:admin;User:ops", func(c *Config) *[]string { return &c.SuperUsers }),
		boolean("allow.everyone.if.no.acl.found", "with kafka.authorizer=acl, allow actions on resources that no ACL names", func(c *Config) *bool { return &c.AllowEveryoneIfNoACL }),
		integer("amqp.channel.max", "most channels open at once on one AMQP connection (RabbitMQ's channel_max)", func(c *Config) *int { return &c.AMQP.ChannelMax }),
		integer("amqp.frame.max", "largest AMQP frame in bytes, offered to clients in connection.tune (frame_max)", func(c *Config) *int { return &c.AMQP.FrameMax }),
		i64("amqp.max.message.size", "largest AMQP message body in bytes; a larger publish closes its channel (max_message_size)", func(c *Config) *int64 { return &c.AMQP.MaxMessageSize }),
		i64("disk.free.limit", "block publishers below this many free bytes on the data disk (0 off)", func(c *Config) *int64 { return &c.DiskFreeLimit }),
		dur("shutdown.timeout", "how long shutdown waits for in-flight requests", func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
		dur("retention.check.interval", "how often retention runs", func(c *Config) *time.Duration { return &c.RetentionCheckInterval }),
		boolean("log.cleaner.enable", "run the log cleaner, which compacts topics with cleanup.policy=compact and the consumer offsets log", func(c *Config) *bool { return &c.LogCleaner.Enable }),
		i64("log.cleaner.dedupe.buffer.size", "memory of the log cleaner's offset map in bytes (24 bytes a key; larger logs take several passes)", func(c *Config) *int64 { return &c.LogCleaner.DedupeBufferSize }),
		dur("log.cleaner.backoff", "pause of the log cleaner when no log needs cleaning", func(c *Config) *time.Duration { return &c.LogCleaner.Backoff }),
	}
}

// Load builds the configuration from the embedded default, then a config
// file, then TERN_* environment variables, then command-line flags: later
// sources win. The file comes from --config or TERN_CONFIG. args are the
// arguments after the subcommand; environ is os.Environ()-shaped.
func Load(args []string, environ []string, stderr io.Writer) (Config, error) {
	c := Default()
	table := settings()
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", env["TERN_CONFIG"], "config file of key = value lines (keys as the flags below)")
	flagValues := map[string]*string{}
	for _, s := range table {
		flagValues[s.name] = new(string)
		fs.StringVar(flagValues[s.name], s.name, "", fmt.Sprintf("%s (default %q, env %s)", s.usage, s.get(&c), EnvName(s.name)))
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}

	byName := map[string]setting{}
	for _, s := range table {
		byName[s.name] = s
	}
	if *configPath != "" {
		f, err := os.Open(*configPath)
		if err != nil {
			return Config{}, fmt.Errorf("config file: %w", err)
		}
		err = parseFile(f, byName, &c)
		f.Close()
		if err != nil {
			return Config{}, fmt.Errorf("config file %s: %w", *configPath, err)
		}
	}
	for _, s := range table {
		if v, ok := env[EnvName(s.name)]; ok {
			if err := s.set(&c, v); err != nil {
				return Config{}, fmt.Errorf("%s: %w", EnvName(s.name), err)
			}
		}
	}
	var flagErr error
	fs.Visit(func(f *flag.Flag) {
		if s, ok := byName[f.Name]; ok && flagErr == nil {
			if err := s.set(&c, *flagValues[f.Name]); err != nil {
				flagErr = fmt.Errorf("--%s: %w", f.Name, err)
			}
		}
	})
	if flagErr != nil {
		return Config{}, flagErr
	}
	return c, c.Validate()
}

// parseFile reads "key = value" lines; blank lines and lines starting with
// # are ignored, as in Kafka's server.properties.
func parseFile(r io.Reader, byName map[string]setting, c *Config) error {
	sc := bufio.NewScanner(r)
	var errs []error
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("line %d: want key = value", n))
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		s, ok := byName[k]
		if !ok {
			errs = append(errs, fmt.Errorf("line %d: unknown key %q", n, k))
			continue
		}
		if err := s.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %s: %w", n, k, err))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Describe renders every setting with its current value, sorted by name,
// for `tern serve --help` and the startup log.
func Describe(c Config) []string {
	var out []string
	for _, s := range settings() {
		out = append(out, s.name+" = "+s.get(&c))
	}
	sort.Strings(out)
	return out
}

func str(name, usage string, f func(*Config) *string) setting {
	return setting{name, usage,
		func(c *Config) string { return *f(c) },
		func(c *Config, v string) error { *f(c) = v; return nil }}
}

func i32(name, usage string, f func(*Config) *int32) setting {
	return setting{name, usage,
		func(c *Config) string { return strconv.FormatInt(int64(*f(c)), 10) },
		func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 32)
			*f(c) = int32(n)
			return err
		}}
}

func i64(name, usage string, f func(*Config) *int64) setting {
	return setting{name, usage,
		func(c *Config) string { return strconv.FormatInt(*f(c), 10) },
		func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			*f(c) = n
			return err
		}}
}

func integer(name, usage string, f func(*Config) *int) setting {
	return setting{name, usage,
		func(c *Config) string { return strconv.Itoa(*f(c)) },
		func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			*f(c) = n
			return err
		}}
}

func boolean(name, usage string, f func(*Config) *bool) setting {
	return setting{name, usage,
		func(c *Config) string { return strconv.FormatBool(*f(c)) },
		func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			*f(c) = b
			return err
		}}
}

func list(name, usage string, f func(*Config) *[]string) setting {
	return setting{name, usage,
		func(c *Config) string { return strings.Join(*f(c), ",") },
		func(c *Config, v string) error {
			*f(c) = splitTrim(v, ",")
			return nil
		}}
}

// splitTrim splits v at sep and drops blanks around and between items.
func splitTrim(v, sep string) []string {
	var out []string
	for _, s := range strings.Split(v, sep) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// principals is Kafka's super.users list: separated by semicolons, since
// a principal (a TLS subject) may hold commas; without a semicolon, commas
// separate too.
func principals(name, usage string, f func(*Config) *[]string) setting {
	return setting{name, usage,
		func(c *Config) string { return strings.Join(*f(c), ";") },
		func(c *Config, v string) error {
			sep := ";"
			if !strings.Contains(v, ";") {
				sep = ","
			}
			*f(c) = splitTrim(v, sep)
			return nil
		}}
}

// dur accepts Go durations ("30s", "168h") and, for Kafka users, a bare
// integer meaning milliseconds.
func dur(name, usage string, f func(*Config) *time.Duration) setting {
	return setting{name, usage,
		func(c *Config) string { return f(c).String() },
		func(c *Config, v string) error {
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
				*f(c) = time.Duration(ms) * time.Millisecond
				return nil
			}
			d, err := time.ParseDuration(v)
			*f(c) = d
			return err
		}}
}
