package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/ternmq/tern/internal/admin"
	"github.com/ternmq/tern/internal/testbroker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestMetricsEndToEnd drives a real node with franz-go and amqp091-go and
// checks that /metrics reports exactly what the clients did.
func TestMetricsEndToEnd(t *testing.T) {
	b := testbroker.Start(t)
	base := "http://" + b.HTTPAddr
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, base+path); code != http.StatusOK {
			t.Fatalf("GET %s = %d %q, want 200", path, code, body)
		}
	}

	// Kafka: 10 records stamped two minutes ago, a group that commits
	// after the first 4.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic("m"),
		kgo.ConsumerGroup("g"), kgo.ConsumeTopics("m"), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	stamped := time.Now().Add(-120 * time.Second)
	for i := range 10 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte{byte(i)}, Timestamp: stamped}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var got []*kgo.Record
	for len(got) < 10 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		got = append(got, fs.Records()...)
	}
	if err := cl.CommitRecords(ctx, got[3]); err != nil { // commits offset 4
		t.Fatal(err)
	}

	// AMQP: 5 persistent messages confirmed, 2 taken with basic.get, 1 acked.
	conn, err := amqp.Dial(b.AMQPURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("q", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", "q", false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte("hello")})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := dc.WaitContext(ctx); err != nil || !ok {
			t.Fatalf("confirm: %v %v", ok, err)
		}
	}
	first, ok, err := ch.Get("q", false)
	if err != nil || !ok {
		t.Fatalf("basic.get: %v %v", ok, err)
	}
	if _, ok, err := ch.Get("q", false); err != nil || !ok {
		t.Fatalf("basic.get: %v %v", ok, err)
	}
	if err := first.Ack(false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the oldest ready message ages

	mf := scrape(t, base+"/metrics")
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   func(float64) bool
		what   string
	}{
		{"tern_partition_produced_records_total", map[string]string{"topic": "m", "partition": "0"}, eq(10), "10"},
		{"tern_partition_high_watermark", map[string]string{"topic": "m", "partition": "0"}, eq(10), "10"},
		{"tern_partition_produced_bytes_total", map[string]string{"topic": "m"}, gt(10 * 61), "> 10 batch headers"},
		{"tern_partition_fetched_bytes_total", map[string]string{"topic": "m"}, gt(0), "> 0"},
		{"tern_partition_size_bytes", map[string]string{"topic": "m"}, gt(0), "> 0"},
		{"tern_group_lag_messages", map[string]string{"group": "g", "topic": "m", "partition": "0"}, eq(6), "6"},
		{"tern_group_lag_seconds", map[string]string{"group": "g", "topic": "m", "partition": "0"}, within(119.9, 150), "≈ 120 s (records stamped 2 min ago)"},
		{"tern_group_committed_offset", map[string]string{"group": "g", "topic": "m"}, eq(4), "4"},
		{"tern_queue_messages_ready", map[string]string{"vhost": "/", "queue": "q"}, eq(3), "3"},
		{"tern_queue_messages_unacked", map[string]string{"queue": "q"}, eq(1), "1"},
		{"tern_queue_published_total", map[string]string{"queue": "q"}, eq(5), "5"},
		{"tern_queue_delivered_total", map[string]string{"queue": "q"}, eq(2), "2"},
		{"tern_queue_acked_total", map[string]string{"queue": "q"}, eq(1), "1"},
		{"tern_queue_head_age_seconds", map[string]string{"queue": "q"}, gt(0.015), "> 15 ms"},
		{"tern_queue_consumers", map[string]string{"queue": "q"}, eq(0), "0"},
		{"tern_connections", map[string]string{"protocol": "amqp"}, eq(1), "1"},
		{"tern_connections", map[string]string{"protocol": "kafka"}, gt(0), "> 0"},
		{"tern_disk_free_bytes", nil, gt(0), "> 0"},
		{"tern_fsync_duration_seconds", nil, gt(0), "> 0 fsyncs"},
		{"tern_kafka_request_duration_seconds", map[string]string{"api": "Produce"}, gt(9), "≥ 10 Produce requests"},
		{"tern_kafka_request_duration_seconds", map[string]string{"api": "OffsetCommit"}, eq(1), "1 OffsetCommit"},
		{"process_resident_memory_bytes", nil, gt(1 << 20), "> 1 MiB"},
		{"go_goroutines", nil, gt(0), "> 0"},
	} {
		v, found := value(mf, c.name, c.labels)
		if !found {
			t.Errorf("%s%v: no such series", c.name, c.labels)
			continue
		}
		if !c.want(v) {
			t.Errorf("%s%v = %v, want %s", c.name, c.labels, v, c.what)
		}
	}
	checkDashboard(t, "../../deploy/grafana/tern-dashboard.json", mf)

	// Caught up: no lag, in messages or in time.
	if err := cl.CommitRecords(ctx, got[9]); err != nil { // commits offset 10
		t.Fatal(err)
	}
	mf = scrape(t, base+"/metrics")
	for _, name := range []string{"tern_group_lag_messages", "tern_group_lag_seconds"} {
		if v, found := value(mf, name, map[string]string{"group": "g", "topic": "m", "partition": "0"}); !found || v != 0 {
			t.Errorf("%s once caught up = %v (found %v), want 0", name, v, found)
		}
	}
}

// checkDashboard fails when the Grafana dashboard queries a metric the
// node does not export, so renaming a metric cannot silently blank a panel.
func checkDashboard(t *testing.T, path string, mf map[string]*dto.MetricFamily) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(dash.Panels) == 0 {
		t.Fatalf("%s: no panels", path)
	}
	name := regexp.MustCompile(`\b(?:tern|process|go)_[a-z_]+\b`)
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q: no query", p.Title)
		}
		for _, q := range p.Targets {
			for _, n := range name.FindAllString(q.Expr, -1) {
				base := n
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if b, ok := strings.CutSuffix(n, suffix); ok && mf[b] != nil && mf[b].GetType() == dto.MetricType_HISTOGRAM {
						base = b
					}
				}
				if mf[base] == nil {
					t.Errorf("panel %q queries %s, which the node does not export", p.Title, n)
				}
			}
		}
	}
}

// TestEndpoints covers the answers that do not need traffic: readiness
// false, unknown paths and methods.
func TestEndpoints(t *testing.T) {
	ready := false
	s := admin.New(admin.Config{Ready: func() bool { return ready }}, admin.NewMetrics())
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for _, c := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/healthz", 200, "ok"},
		{"GET", "/readyz", 503, "not ready"},
		{"GET", "/nosuch", 404, ""},
		{"POST", "/metrics", 405, ""},
		{"GET", "/metrics", 200, "go_goroutines"},
	} {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(body), c.body) {
			t.Errorf("%s %s = %d %q, want %d containing %q", c.method, c.path, resp.StatusCode, body, c.code, c.body)
		}
	}
	ready = true
	if code, _ := get(t, ts.URL+"/readyz"); code != 200 {
		t.Errorf("readyz once ready = %d, want 200", code)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	mf, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mf
}

// value finds the first series of name whose labels include want; for a
// histogram it is the sample count.
func value(mf map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := mf[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

func eq(w float64) func(float64) bool { return func(v float64) bool { return v == w } }
func gt(w float64) func(float64) bool { return func(v float64) bool { return v > w } }
func within(lo, hi float64) func(float64) bool {
	return func(v float64) bool { return v >= lo && v <= hi }
}
