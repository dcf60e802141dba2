package config

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	if d := Default(); d.Log.Fsync != "always" || d.KafkaListen != ":9092" || d.DataDir != "./data" {
		t.Fatalf("default drifted from the README: %+v", d)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.Log.Fsync = "sometimes"
	c.DefaultPartitions = 0
	c.KafkaListen = "nope"
	err := c.Validate()
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"log.fsync", "default_partitions", "kafka_listen"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tern.conf")
	content := "# comment\nfsync = interval\nnum.partitions = 3\nretention.ms = 60000\ndata.dir = /from/file\n"
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     []string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{
			name: "default only",
			check: func(t *testing.T, c Config) {
				if c.Log.Fsync != "always" {
					t.Errorf("fsync = %q", c.Log.Fsync)
				}
			},
		},
		{
			name: "file overrides default",
			args: []string{"--config", file},
			check: func(t *testing.T, c Config) {
				if c.Log.Fsync != "interval" || c.DefaultPartitions != 3 || c.Log.RetentionAge != time.Minute {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "env overrides file",
			args: []string{"--config", file},
			env:  []string{"TERN_NUM_PARTITIONS=5", "TERN_DATA_DIR=/from/env"},
			check: func(t *testing.T, c Config) {
				if c.DefaultPartitions != 5 || c.DataDir != "/from/env" || c.Log.Fsync != "interval" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "flag overrides env",
			args: []string{"--config", file, "--num.partitions", "7"},
			env:  []string{"TERN_NUM_PARTITIONS=5", "TERN_CONFIG=/does/not/matter"},
			check: func(t *testing.T, c Config) {
				if c.DefaultPartitions != 7 {
					t.Errorf("partitions = %d", c.DefaultPartitions)
				}
			},
		},
		{
			name:    "bad value names the variable",
			env:     []string{"TERN_NUM_PARTITIONS=many"},
			wantErr: "TERN_NUM_PARTITIONS",
		},
		{
			name:    "invalid result is rejected",
			args:    []string{"--fsync", "never"},
			wantErr: "log.fsync",
		},
		{
			name:    "missing config file",
			args:    []string{"--config", filepath.Join(dir, "absent")},
			wantErr: "config file",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			c, err := Load(tc.args, tc.env, &stderr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want mention of %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestParseFileRejectsUnknownKeys(t *testing.T) {
	byName := map[string]setting{}
	for _, s := range settings() {
		byName[s.name] = s
	}
	c := Default()
	err := parseFile(strings.NewReader("fsync = os\nbogus = 1\nnot a pair\n"), byName, &c)
	if err == nil || !strings.Contains(err.Error(), "bogus") || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v", err)
	}
	if c.Log.Fsync != "os" {
		t.Errorf("valid line before the error was not applied")
	}
}

func TestKafkaListeners(t *testing.T) {
	tests := []struct {
		in      string
		want    []KafkaListener
		wantErr string
	}{
		{in: ":9092", want: []KafkaListener{{Plaintext, ":9092"}}},
		{in: "PLAINTEXT://:9092, sasl_ssl://0.0.0.0:9094", want: []KafkaListener{{Plaintext, ":9092"}, {SASLSSL, "0.0.0.0:9094"}}},
		{in: "SSL://[::1]:9093,SASL_PLAINTEXT://:9095", want: []KafkaListener{{SSL, "[::1]:9093"}, {SASLPlaintext, ":9095"}}},
		{in: "TLS://:9093", wantErr: "security protocol"},
		{in: "SSL://nope", wantErr: "missing port"},
		{in: ":9092,SSL://:9092", wantErr: "used twice"},
		{in: "", wantErr: "missing port"},
	}
	for _, tc := range tests {
		got, err := Config{KafkaListen: tc.in}.KafkaListeners()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestValidateSecurity(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{"TLS listener without a certificate", func(c *Config) { c.KafkaListen = "SASL_SSL://:9094" }, "tls.cert.file"},
		{"amqps without a certificate", func(c *Config) { c.AMQPTLSListen = ":5671" }, "tls.cert.file"},
		{"client auth without a CA", func(c *Config) { c.TLS = TLSConfig{CertFile: "c", KeyFile: "k", ClientAuth: "required"} }, "tls.ca.file"},
		{"unknown client auth", func(c *Config) { c.TLS.ClientAuth = "maybe" }, "tls.client.auth"},
		{"unknown mechanism", func(c *Config) { c.SASLMechanisms = []string{"GSSAPI"} }, "GSSAPI"},
		{"negative limit", func(c *Config) { c.Limits.MaxConnections = -1 }, "limits"},
		{"certificate given", func(c *Config) {
			c.KafkaListen = "SASL_SSL://:9094"
			c.TLS = TLSConfig{CertFile: "c", KeyFile: "k", CAFile: "ca", ClientAuth: "requested"}
		}, ""},
	}
	for _, tc := range tests {
		c := Default()
		tc.mod(&c)
		err := c.Validate()
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

// TestAuthorizerSettings covers kafka.authorizer, super.users (Kafka's
// semicolons, or commas) and allow.everyone.if.no.acl.found.
func TestAuthorizerSettings(t *testing.T) {
	c, err := Load(nil, nil, io.Discard)
	if err != nil || c.Authorizer != "none" || c.SuperUsers != nil || c.AllowEveryoneIfNoACL {
		t.Fatalf("defaults: %v %q %v %v", err, c.Authorizer, c.SuperUsers, c.AllowEveryoneIfNoACL)
	}
	c, err = Load([]string{"--kafka.authorizer", "acl", "--super.users", "User:admin; User:CN=ops,O=acme", "--allow.everyone.if.no.acl.found", "true"}, nil, io.Discard)
	if err != nil || c.Authorizer != "acl" || !c.AllowEveryoneIfNoACL || strings.Join(c.SuperUsers, "|") != "User:admin|User:CN=ops,O=acme" {
		t.Fatalf("acl: %v %q %q %v", err, c.Authorizer, c.SuperUsers, c.AllowEveryoneIfNoACL)
	}
	c, err = Load(nil, []string{"TERN_SUPER_USERS=User:a,User:b"}, io.Discard)
	if err != nil || strings.Join(c.SuperUsers, "|") != "User:a|User:b" {
		t.Fatalf("comma list: %v %q", err, c.SuperUsers)
	}
	if _, err := Load([]string{"--kafka.authorizer", "simple"}, nil, io.Discard); err == nil || !strings.Contains(err.Error(), "kafka.authorizer") {
		t.Fatalf("unknown authorizer: %v", err)
	}
	if _, err := Load([]string{"--super.users", "admin"}, nil, io.Discard); err == nil || !strings.Contains(err.Error(), "super.users") {
		t.Fatalf("principal without a type: %v", err)
	}
}

// TestAMQPLimits checks RabbitMQ's defaults for the AMQP listener's
// limits, that they load like every other setting, and their bounds.
func TestAMQPLimits(t *testing.T) {
	d := Default().AMQP
	if d.ChannelMax != 2047 || d.FrameMax != 131072 || d.MaxMessageSize != 128<<20 {
		t.Fatalf("defaults %+v, want RabbitMQ's 2047, 131072, 128 MiB", d)
	}
	c, err := Load([]string{"--amqp.channel.max", "16", "--amqp.frame.max", "8192"},
		[]string{"TERN_AMQP_MAX_MESSAGE_SIZE=1048576"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.AMQP.ChannelMax != 16 || c.AMQP.FrameMax != 8192 || c.AMQP.MaxMessageSize != 1<<20 {
		t.Fatalf("loaded %+v", c.AMQP)
	}
	bad := Default()
	bad.AMQP = AMQPLimits{ChannelMax: 0, FrameMax: 4095, MaxMessageSize: 512<<20 + 1}
	err = bad.Validate()
	for _, want := range []string{"amqp.channel.max", "amqp.frame.max", "amqp.max.message.size"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

func TestConsumerGroupSettings(t *testing.T) {
	d := Default().Group
	if d.ConsumerSessionTimeout != 45*time.Second || d.ConsumerHeartbeatInterval != 5*time.Second ||
		!slices.Equal(d.ConsumerAssignors, []string{"uniform", "range"}) {
		t.Fatalf("defaults %+v, want Kafka's 45s, 5s, uniform,range", d)
	}
	c, err := Load([]string{"--group.consumer.heartbeat.interval", "200ms", "--group.consumer.assignors", "range,uniform"},
		[]string{"TERN_GROUP_CONSUMER_SESSION_TIMEOUT=3s", "TERN_GROUP_CONSUMER_MAX_SIZE=7"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if g := c.Group; g.ConsumerHeartbeatInterval != 200*time.Millisecond || g.ConsumerSessionTimeout != 3*time.Second ||
		g.ConsumerMaxSize != 7 || !slices.Equal(g.ConsumerAssignors, []string{"range", "uniform"}) {
		t.Fatalf("loaded %+v", g)
	}
	for _, tc := range []struct {
		name string
		mod  func(*GroupConfig)
		want string
	}{
		{"interval above session", func(g *GroupConfig) { g.ConsumerHeartbeatInterval = time.Minute }, "group.consumer.heartbeat.interval"},
		{"negative size", func(g *GroupConfig) { g.ConsumerMaxSize = -1 }, "group.consumer.max.size"},
		{"unknown assignor", func(g *GroupConfig) { g.ConsumerAssignors = []string{"sticky"} }, `unknown assignor "sticky"`},
		{"no assignor", func(g *GroupConfig) { g.ConsumerAssignors = nil }, "at least one assignor"},
	} {
		c := Default()
		tc.mod(&c.Group)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v does not mention %s", tc.name, err, tc.want)
		}
	}
}
