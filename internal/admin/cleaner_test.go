package admin_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/testbroker"
)

// TestCleanerMetrics compacts a topic on a real node and checks what
// /metrics says about it.
func TestCleanerMetrics(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithConfig(func(c *config.Config) { c.LogCleaner.Enable = false }))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic("c"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, map[string]*string{
		"cleanup.policy": kadm.StringPtr("compact"), "segment.bytes": kadm.StringPtr("1024")}, "c"); err != nil {
		t.Fatal(err)
	}
	for v := range 20 {
		var recs []*kgo.Record
		for k := range 10 {
			recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprint("k", k)), Value: []byte(fmt.Sprintf("version %d of key %d", v, k))})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := b.Node().Broker.CompactNow(ctx); n != 1 || err != nil {
		t.Fatalf("CompactNow = %d, %v", n, err)
	}
	mf := scrape(t, "http://"+b.HTTPAddr+"/metrics")
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   func(float64) bool
		what   string
	}{
		{"tern_log_cleaner_passes_total", nil, eq(1), "1"},
		{"tern_log_cleaner_errors_total", nil, eq(0), "0"},
		{"tern_log_cleaner_reclaimed_bytes_total", nil, gt(1000), "> 1000"},
		{"tern_log_cleaner_read_bytes_total", nil, gt(1000), "> 1000"},
		{"tern_log_cleaner_written_bytes_total", nil, gt(0), "> 0"},
		{"tern_log_cleaner_removed_records_total", nil, gt(100), "> 100"},
		{"tern_log_cleaner_dirty_ratio", map[string]string{"log": "c-0"}, gt(0.5), "> 0.5 (as the pass found it)"},
		{"tern_log_cleaner_uncleanable", map[string]string{"log": "c-0"}, eq(0), "0"},
		{"tern_log_cleaner_uncleanable", map[string]string{"log": "__consumer_offsets-0"}, eq(0), "0"},
		{"tern_log_cleaner_uncleanable_logs", nil, eq(0), "0"},
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
}
