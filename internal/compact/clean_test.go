package compact

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/message"
	"github.com/ternmq/tern/internal/storage"
)

// TestCleanKeepsLatestPerKey writes many versions of many keys with
// tombstones, cleans, and reads the whole log back: one record per key,
// the latest, at its original offset; tombstones until delete.retention.ms
// after the pass that first kept them, then nothing of their keys.
func TestCleanKeepsLatestPerKey(t *testing.T) {
	clock := newClock()
	l := openLog(t, t.TempDir(), testConfig(), storage.Options{Now: clock.Now})
	want := workload(t, l, 50, 20, 7, 9, clock.Now().UnixMilli())
	seal(t, l)
	original := map[int64]logRecord{}
	for _, r := range readLog(t, l) {
		original[r.Offset] = r
	}
	sizeBefore := l.Size()
	c := newCleaner(t, l, clock, 0)

	if n := cleanOnce(t, c); n != 1 {
		t.Fatalf("cleaned %d logs, want 1", n)
	}
	recs := readLog(t, l)
	checkCompacted(t, recs)
	sameState(t, latest(recs), want)
	for _, r := range recs {
		o := original[r.Offset]
		if string(o.Key) != string(r.Key) || string(o.Value) != string(r.Value) || (o.Value == nil) != (r.Value == nil) || o.Timestamp != r.Timestamp {
			t.Fatalf("record at %d changed: %q=%q, was %q=%q", r.Offset, r.Key, r.Value, o.Key, o.Value)
		}
	}
	if l.Size() >= sizeBefore/5 {
		t.Fatalf("log is %d bytes after cleaning, was %d", l.Size(), sizeBefore)
	}
	st := c.Stats()
	if st.Passes != 1 || st.RecordsRemoved != int64(50*20-50) || st.BytesRead <= st.BytesWritten || len(st.Logs) != 1 || st.Logs[0].Uncleanable {
		t.Fatalf("stats %+v", st)
	}

	// Nothing dirty: no pass.
	if n := cleanOnce(t, c); n != 0 {
		t.Fatalf("a clean log was cleaned again (%d)", n)
	}
	// Tombstones stay until their horizon, then go; values stay.
	clock.Advance(time.Hour - time.Millisecond)
	if n := cleanOnce(t, c); n != 0 {
		t.Fatal("cleaned before the delete horizon")
	}
	clock.Advance(time.Millisecond)
	if n := cleanOnce(t, c); n != 1 {
		t.Fatal("tombstones past their horizon did not make the log due")
	}
	recs = readLog(t, l)
	checkCompacted(t, recs)
	for k, v := range want {
		if v == "" {
			delete(want, k)
		}
	}
	sameState(t, latest(recs), want)
	if n := cleanOnce(t, c); n != 0 {
		t.Fatal("cleaned again with no tombstone left")
	}

	// New versions after cleaning: the next pass maps only them.
	for k := range want {
		appendRecs(t, l, plainBatch, rec(k, k+"-new", clock.Now().UnixMilli()))
		want[k] = k + "-new"
	}
	seal(t, l)
	cleanOnce(t, c)
	recs = readLog(t, l)
	checkCompacted(t, recs)
	sameState(t, latest(recs), want)
}

// TestSmallOffsetMapCleansInPasses gives the cleaner a map of nine keys
// for fifty: each pass cleans the part of the dirty section the map
// covers, and passes go on until the log is fully compacted.
func TestSmallOffsetMapCleansInPasses(t *testing.T) {
	clock := newClock()
	l := openLog(t, t.TempDir(), testConfig(), storage.Options{Now: clock.Now})
	want := workload(t, l, 50, 6, 5, 0, clock.Now().UnixMilli())
	seal(t, l)
	c := newCleaner(t, l, clock, 10*slotBytes)
	if c.omap != nil || newOffsetMap(10*slotBytes).capacity() != 9 {
		t.Fatal("unexpected map capacity")
	}
	passes := 0
	prev := int64(-1)
	for cleanOnce(t, c) > 0 {
		passes++
		ck, _ := l.CleanerOffset()
		if ck <= prev {
			t.Fatalf("pass %d: cleaner offset %d after %d", passes, ck, prev)
		}
		prev = ck
		sameState(t, latest(readLog(t, l)), want) // never a lost key
		if passes > 100 {
			t.Fatal("no end to the passes")
		}
	}
	if passes < 50*6/9 {
		t.Fatalf("%d passes: the map held more keys than its size allows", passes)
	}
	recs := readLog(t, l)
	checkCompacted(t, recs)
	sameState(t, latest(recs), want)
}

// TestProducerLastBatchStaysAsHeader: batches cleaning empties go, except
// each idempotent producer's last, whose header (record count 0, same
// last offset delta and sequence) stays for deduplication after restart.
func TestProducerLastBatchStaysAsHeader(t *testing.T) {
	clock := newClock()
	l := openLog(t, t.TempDir(), testConfig(), storage.Options{Now: clock.Now})
	ts := clock.Now().UnixMilli()
	p7 := func(seq int32) message.BatchOptions {
		return message.BatchOptions{ProducerID: 7, ProducerEpoch: 2, BaseSequence: seq}
	}
	first := appendRecs(t, l, p7(0), rec("a", "1", ts), rec("b", "1", ts))
	last := appendRecs(t, l, p7(2), rec("a", "2", ts), rec("b", "2", ts), rec("c", "2", ts))
	appendRecs(t, l, plainBatch, rec("a", "3", ts), rec("b", "3", ts), rec("c", "3", ts))
	seal(t, l)
	cleanOnce(t, newCleaner(t, l, clock, 0))

	var headers []storage.BatchHeader
	if err := l.ScanHeaders(0, func(h storage.BatchHeader) bool { headers = append(headers, h); return true }); err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		if h.BaseOffset == first {
			t.Fatal("producer 7's emptied first batch was kept")
		}
	}
	h := headers[0]
	if h.BaseOffset != last || h.RecordCount != 0 || h.LastOffsetDelta != 2 || h.ProducerID != 7 || h.ProducerEpoch != 2 || h.BaseSequence != 2 {
		t.Fatalf("producer 7's last batch kept as %+v, want an empty header at %d", h, last)
	}
	sameState(t, latest(readLog(t, l)), map[string]string{"a": "3", "b": "3", "c": "3"})
}

// TestTransactionalBatchesKeptAsTheyAre: until the cleaner knows aborted
// transactions, transactional and control batches are never rewritten and
// never shadow older records.
func TestTransactionalBatchesKeptAsTheyAre(t *testing.T) {
	clock := newClock()
	l := openLog(t, t.TempDir(), testConfig(), storage.Options{Now: clock.Now})
	ts := clock.Now().UnixMilli()
	txn := message.BatchOptions{ProducerID: 9, ProducerEpoch: 0, BaseSequence: 0, Transactional: true}
	appendRecs(t, l, plainBatch, rec("a", "committed", ts), rec("b", "old", ts))
	txOff := appendRecs(t, l, txn, rec("a", "maybe-aborted", ts), rec("b", "tx", ts))
	marker := message.BatchOptions{ProducerID: 9, ProducerEpoch: 0, BaseSequence: -1, Transactional: true, Control: true}
	appendRecs(t, l, marker, message.Record{Key: []byte{0, 0, 0, 1}, Value: []byte{0, 0, 0, 0, 0, 0}, Timestamp: ts})
	appendRecs(t, l, plainBatch, rec("b", "new", ts))
	seal(t, l)
	raw := func(off int64) string {
		s, err := l.Read(off, 1, l.EndOffset())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Release()
		b, _ := s.AppendTo(nil)
		h, _ := storage.ParseBatchHeader(b)
		return string(b[:h.Size()])
	}
	txBefore, markerBefore := raw(txOff), raw(txOff+2)
	cleanOnce(t, newCleaner(t, l, clock, 0))

	if raw(txOff) != txBefore || raw(txOff+2) != markerBefore {
		t.Fatal("a transactional or control batch was rewritten")
	}
	var got []string
	for _, r := range readLog(t, l) {
		if r.Key[0] != '~' && !r.batch.Control() {
			got = append(got, string(r.Key)+"="+string(r.Value))
		}
	}
	if want := "a=committed a=maybe-aborted b=tx b=new"; strings.Join(got, " ") != want {
		t.Fatalf("records after cleaning: %v, want %s", got, want)
	}
}

// TestKeylessRecordsAreDropped: records without a key (written before the
// topic became compacted) go, as Kafka's cleaner drops them.
func TestKeylessRecordsAreDropped(t *testing.T) {
	clock := newClock()
	l := openLog(t, t.TempDir(), testConfig(), storage.Options{Now: clock.Now})
	ts := clock.Now().UnixMilli()
	appendRecs(t, l, plainBatch, message.Record{Value: []byte("no key"), Timestamp: ts}, rec("k", "v", ts))
	seal(t, l)
	cleanOnce(t, newCleaner(t, l, clock, 0))
	for _, r := range readLog(t, l) {
		if r.Key == nil {
			t.Fatalf("keyless record at %d survived cleaning", r.Offset)
		}
	}
}

// TestCompressedBatchesStayCompressed: a batch that loses records is
// written back with its own codec.
func TestCompressedBatchesStayCompressed(t *testing.T) {
	clock := newClock()
	l := openLog(t, t.TempDir(), testConfig(), storage.Options{Now: clock.Now})
	ts := clock.Now().UnixMilli()
	var recs []message.Record
	for i := range 40 {
		recs = append(recs, rec("k"+string(rune('a'+i%20)), strings.Repeat("value ", 20)+string(rune('a'+i)), ts))
	}
	appendRecs(t, l, plainBatch, rec("z", "first", ts))
	raw := zstdBatch(t, message.EncodeBatch(recs, plainBatch))
	if _, err := l.Append(raw, 0); err != nil {
		t.Fatal(err)
	}
	seal(t, l)
	cleanOnce(t, newCleaner(t, l, clock, 0))
	got := readLog(t, l)
	n := 0
	for _, r := range got {
		if r.Key[0] == 'k' {
			n++
			if r.batch.Codec() != message.CodecZstd || r.batch.RecordCount != 20 || r.batch.LastOffsetDelta != 39 {
				t.Fatalf("rewritten batch: codec %d, %d records, last delta %d", r.batch.Codec(), r.batch.RecordCount, r.batch.LastOffsetDelta)
			}
		}
	}
	if n != 20 {
		t.Fatalf("%d keys left, want 20", n)
	}
}

// TestCorruptSegmentMarksLogUncleanable: a pass that meets damage logs
// it, stops cleaning that log until restart, and the log keeps serving.
func TestCorruptSegmentMarksLogUncleanable(t *testing.T) {
	clock := newClock()
	dir := t.TempDir()
	l := openLog(t, dir, testConfig(), storage.Options{Now: clock.Now})
	workload(t, l, 10, 10, 5, 0, clock.Now().UnixMilli())
	seal(t, l)
	sealed, _ := l.SealedSegments()
	// Flip a byte of a record inside the second sealed segment: its CRC
	// no longer matches (the open file sees the change).
	f, err := os.OpenFile(filepath.Join(dir, "00000000000000000000.log"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff}, sealed[0].Bytes-3); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c := newCleaner(t, l, clock, 0)
	n, err := c.CleanOnce(context.Background())
	if n != 0 || err == nil || !errors.Is(err, storage.ErrCorrupt) {
		t.Fatalf("CleanOnce = %d, %v; want a corruption error", n, err)
	}
	if st := c.Stats(); st.Errors != 1 || len(st.Logs) != 1 || !st.Logs[0].Uncleanable {
		t.Fatalf("stats after the error: %+v", st)
	}
	if n, err := c.CleanOnce(context.Background()); n != 0 || err != nil {
		t.Fatalf("an uncleanable log was tried again: %d %v", n, err)
	}
	if _, err := l.Append(message.EncodeBatch([]message.Record{rec("x", "y", 1)}, plainBatch), 0); err != nil {
		t.Fatalf("append after a failed clean: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.cleaned")); len(m) != 0 {
		t.Fatalf("the failed pass left %v", m)
	}
}

// TestCleaningDoesNotStopAppendsOrReads runs passes while a writer
// appends new versions and a reader replays the log from the start: no
// error, and every replay sees every key (under -race, no data race).
func TestCleaningDoesNotStopAppendsOrReads(t *testing.T) {
	clock := newClock()
	l := openLog(t, t.TempDir(), testConfig(), storage.Options{Now: clock.Now})
	want := workload(t, l, 20, 3, 4, 0, clock.Now().UnixMilli())
	c := newCleaner(t, l, clock, 0)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer cancel()
		for range 400 {
			if _, err := l.Append(message.EncodeBatch([]message.Record{rec("key-000", "w", 1), rec("new", "x", 2)}, plainBatch), 0); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			got := latest(readLog(t, l))
			for k := range want {
				if _, ok := got[k]; !ok {
					t.Errorf("a replay during cleaning lost key %q", k)
					return
				}
			}
		}
	}()
	for ctx.Err() == nil {
		if _, err := c.CleanOnce(context.Background()); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	if c.Stats().Passes == 0 {
		t.Fatal("no pass cleaned anything")
	}
}

func TestRunCleansAndStops(t *testing.T) {
	clock := newClock()
	l := openLog(t, t.TempDir(), testConfig(), storage.Options{Now: clock.Now})
	workload(t, l, 10, 5, 5, 0, clock.Now().UnixMilli())
	seal(t, l)
	c := New(Config{Backoff: time.Hour, Now: clock.Now})
	defer c.Close()
	c.Register(Target{Name: "t-0", Log: l, Settings: func() Settings { return SettingsOf(l.Config(), -1) }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for c.Stats().Passes == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if c.Stats().Passes != 1 {
		t.Fatalf("Run made %d passes, want 1", c.Stats().Passes)
	}
	checkCompacted(t, readLog(t, l))
}

func TestSourcesAndPolicy(t *testing.T) {
	clock := newClock()
	cfg := testConfig()
	l := openLog(t, t.TempDir(), cfg, storage.Options{Now: clock.Now})
	workload(t, l, 10, 5, 5, 0, clock.Now().UnixMilli())
	seal(t, l)
	c := New(Config{Now: clock.Now})
	defer c.Close()
	compact := false
	stop := c.RegisterSource(func() []Target {
		return []Target{{Name: "src-0", Log: l, Settings: func() Settings {
			s := SettingsOf(l.Config(), -1)
			s.Compact = compact
			return s
		}}}
	})
	if n := cleanOnce(t, c); n != 0 || len(c.Stats().Logs) != 0 {
		t.Fatal("a log whose policy is not compact was considered")
	}
	compact = true
	if n := cleanOnce(t, c); n != 1 {
		t.Fatal("switching the policy to compact did not clean the log")
	}
	stop()
	if cleanOnce(t, c); len(c.Stats().Logs) != 0 {
		t.Fatal("an unregistered source's log is still reported")
	}
}

// TestCompactionLagsOnALog: min.compaction.lag.ms holds young segments
// back, max.compaction.lag.ms forces a clean the dirty ratio would not.
func TestCompactionLagsOnALog(t *testing.T) {
	tests := []struct {
		name string
		set  func(*storage.Config)
	}{
		{"min lag", func(c *storage.Config) { c.MinCompactionLag = time.Hour }},
		{"max lag", func(c *storage.Config) { c.MinCleanableRatio, c.MaxCompactionLag = 1, time.Hour }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			cfg := testConfig()
			tt.set(&cfg)
			l := openLog(t, t.TempDir(), cfg, storage.Options{Now: clock.Now})
			want := workload(t, l, 20, 5, 5, 0, clock.Now().UnixMilli())
			// The seal records are stamped with the clock too, or the min
			// lag would hold the active segment's predecessor back forever.
			appendRecs(t, l, plainBatch, message.Record{Key: []byte("~seal"), Value: make([]byte, segmentBytes), Timestamp: clock.Now().UnixMilli()})
			appendRecs(t, l, plainBatch, message.Record{Key: []byte("~seal"), Value: make([]byte, segmentBytes), Timestamp: clock.Now().UnixMilli()})
			c := newCleaner(t, l, clock, 0)
			if n := cleanOnce(t, c); n != 0 {
				t.Fatal("cleaned before the lag passed")
			}
			clock.Advance(59 * time.Minute)
			if n := cleanOnce(t, c); n != 0 {
				t.Fatal("cleaned before the lag passed")
			}
			clock.Advance(2 * time.Minute)
			if n := cleanOnce(t, c); n != 1 {
				t.Fatal("not cleaned once the lag passed")
			}
			recs := readLog(t, l)
			checkCompacted(t, recs)
			sameState(t, latest(recs), want)
		})
	}
}
