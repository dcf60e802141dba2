// Package interop_test checks Tern against independent Kafka clients from
// Debian, run as subprocesses against a real in-process broker:
//
//   - kcat (librdkafka's command-line client),
//   - kafka-python (python3-kafka),
//   - confluent-kafka-python (python3-confluent-kafka, on librdkafka).
//
// The Python clients run scripts kept in testdata/, which take the
// bootstrap address, topic and counts as flags and print one JSON object on
// stdout; the Go tests check exact contents (keys, values, counts,
// per-partition order), using franz-go (kadm) as the independent view of
// the broker's state where a client cannot show it.
//
// The clients must be installed: scripts/install-test-deps.sh installs them
// from Debian. A missing client fails the test with that advice, unless
// TERN_SKIP_INTEROP=1, which skips every test of this package.
package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ternmq/tern/internal/testbroker"
)

// python is Debian's interpreter: the one that sees python3-kafka and
// python3-confluent-kafka (a pyenv or venv python3 on PATH does not).
const python = "/usr/bin/python3"

const installHint = "run scripts/install-test-deps.sh (or set TERN_SKIP_INTEROP=1 to skip the interop tests)"

// interop marks t parallel and skips it when TERN_SKIP_INTEROP=1.
func interop(t *testing.T) {
	t.Helper()
	if os.Getenv("TERN_SKIP_INTEROP") == "1" {
		t.Skip("TERN_SKIP_INTEROP=1")
	}
	t.Parallel()
}

// needKcat fails the test when kcat is not installed.
func needKcat(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat not found on PATH: %v; %s", err, installHint)
	}
	return p
}

var pyModules sync.Map // module name -> error (nil when importable)

// needPython fails the test when Debian's python3 cannot import module.
func needPython(t *testing.T, module string) {
	t.Helper()
	v, ok := pyModules.Load(module)
	if !ok {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, python, "-c", "import "+module).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%s -c 'import %s': %v\n%s", python, module, err, out)
		}
		v, _ = pyModules.LoadOrStore(module, err)
	}
	if err, _ := v.(error); err != nil {
		t.Fatalf("Python module %s is not available: %v\n%s", module, err, installHint)
	}
}

// protocolErrorMarks are what librdkafka logs when it cannot parse or
// does not accept a broker response. Any of them is a broker bug as far
// as these tests go: the process is stopped at once and the test fails
// with the line, instead of waiting out a timeout.
var protocolErrorMarks = []string{"PROTOERR", "Protocol parse failure", "invalid MessageSetSize"}

// proc is one client subprocess.
type proc struct {
	name   string
	cmd    *exec.Cmd
	cancel context.CancelFunc
	stdout bytes.Buffer
	stderr *watchWriter
	done   chan struct{}
	err    error
}

// start runs name with args, stdin from stdin (may be nil), killed after
// timeout.
func start(t *testing.T, timeout time.Duration, stdin []byte, env []string, name string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	p := &proc{name: name + " " + strings.Join(args, " "), cancel: cancel, done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, name, args...)
	p.cmd.WaitDelay = 5 * time.Second
	p.cmd.Env = append(os.Environ(), env...)
	if stdin != nil {
		p.cmd.Stdin = bytes.NewReader(stdin)
	}
	p.stderr = &watchWriter{onMark: cancel}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", p.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			p.err = fmt.Errorf("timed out after %v (%v)", timeout, p.err)
		}
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() { cancel(); <-p.done })
	return p
}

// wait waits for the process and fails the test if it did not exit 0 or
// logged a protocol error; it returns stdout.
func (p *proc) wait(t *testing.T) string {
	t.Helper()
	<-p.done
	if m := p.stderr.mark(); m != "" {
		t.Fatalf("%s: client reported a protocol error (a broker response it could not parse or accept):\n  %s\nstderr:\n%s", p.name, m, tail(p.stderr.String(), 4000))
	}
	if p.err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", p.name, p.err, tail(p.stdout.String(), 2000), tail(p.stderr.String(), 4000))
	}
	return p.stdout.String()
}

// run is start + wait.
func run(t *testing.T, timeout time.Duration, stdin []byte, name string, args ...string) string {
	t.Helper()
	return start(t, timeout, stdin, nil, name, args...).wait(t)
}

// runPy runs testdata/script with args and decodes its JSON output into v.
func runPy(t *testing.T, timeout time.Duration, v any, script string, args ...string) {
	t.Helper()
	out := run(t, timeout, nil, python, append([]string{filepath.Join("testdata", script)}, args...)...)
	if err := json.Unmarshal([]byte(lastLine(out)), v); err != nil {
		t.Fatalf("%s: decode output: %v\n%s", script, err, tail(out, 2000))
	}
}

// watchWriter collects stderr and calls onMark once when a line holds a
// protocol error mark.
type watchWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	line   []byte
	marked string
	onMark func()
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for _, c := range p {
		if c != '\n' {
			w.line = append(w.line, c)
			continue
		}
		w.checkLine()
		w.line = w.line[:0]
	}
	return len(p), nil
}

func (w *watchWriter) checkLine() {
	if w.marked != "" {
		return
	}
	for _, m := range protocolErrorMarks {
		if bytes.Contains(w.line, []byte(m)) {
			w.marked = string(w.line)
			if w.onMark != nil {
				w.onMark()
			}
			return
		}
	}
}

func (w *watchWriter) mark() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.marked == "" && len(w.line) > 0 {
		w.checkLine()
	}
	return w.marked
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// ---- broker side ----

func startBroker(t *testing.T) *testbroker.Broker {
	t.Helper()
	return testbroker.Start(t)
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func admin(t *testing.T, addr string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func createTopic(t *testing.T, adm *kadm.Client, topic string, partitions int32) {
	t.Helper()
	resp, err := adm.CreateTopic(ctxT(t, 15*time.Second), partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// committed returns the group's committed offset of every partition of
// topic, by franz-go's OffsetFetch.
func committed(t *testing.T, adm *kadm.Client, group, topic string) map[int32]int64 {
	t.Helper()
	resps, err := adm.FetchOffsets(ctxT(t, 15*time.Second), group)
	if err != nil {
		t.Fatalf("fetch offsets of group %s: %v", group, err)
	}
	if err := resps.Error(); err != nil {
		t.Fatalf("fetch offsets of group %s: %v", group, err)
	}
	out := map[int32]int64{}
	for p, o := range resps[topic] {
		out[p] = o.At
	}
	return out
}

// endOffsets returns the high watermark of every partition of topic.
func endOffsets(t *testing.T, adm *kadm.Client, topic string) map[int32]int64 {
	t.Helper()
	l, err := adm.ListEndOffsets(ctxT(t, 15*time.Second), topic)
	if err != nil {
		t.Fatalf("list end offsets %s: %v", topic, err)
	}
	out := map[int32]int64{}
	for p, o := range l[topic] {
		if o.Err != nil {
			t.Fatalf("end offset %s-%d: %v", topic, p, o.Err)
		}
		out[p] = o.Offset
	}
	return out
}

// ---- records ----

// rec is one record as a client saw it.
type rec struct {
	Key       string `json:"k"`
	Value     string `json:"v"`
	Partition int32  `json:"p"`
	Offset    int64  `json:"o"`
}

// wantKV is the expected set of key=>value of messages [from, from+n):
// key k<i>, value v<i>-<tag>.
func wantKV(tag string, from, n int) map[string]string {
	m := make(map[string]string, n)
	for i := from; i < from+n; i++ {
		m[fmt.Sprintf("k%d", i)] = fmt.Sprintf("v%d-%s", i, tag)
	}
	return m
}

// checkExactlyOnce checks that recs are exactly want (each key once, with
// its value), and that within each partition offsets strictly increase.
// It returns the records grouped by partition in the order seen.
func checkExactlyOnce(t *testing.T, who string, recs []rec, want map[string]string) map[int32][]rec {
	t.Helper()
	seen := map[string]int{}
	var dups, bad []string
	byPart := map[int32][]rec{}
	for _, r := range recs {
		seen[r.Key]++
		if seen[r.Key] == 2 {
			dups = append(dups, r.Key)
		}
		if w, ok := want[r.Key]; !ok || w != r.Value {
			bad = append(bad, fmt.Sprintf("%s=%q (want %q, in set %v) at %d@%d", r.Key, r.Value, w, ok, r.Partition, r.Offset))
		}
		if prev := byPart[r.Partition]; len(prev) > 0 && r.Offset <= prev[len(prev)-1].Offset {
			t.Errorf("%s: partition %d: offset %d seen after %d (key %s after %s)", who, r.Partition, r.Offset, prev[len(prev)-1].Offset, r.Key, prev[len(prev)-1].Key)
		}
		byPart[r.Partition] = append(byPart[r.Partition], r)
	}
	var missing []string
	for k := range want {
		if seen[k] == 0 {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(dups) > 0 || len(bad) > 0 || len(missing) > 0 {
		t.Fatalf("%s: got %d records, want %d distinct: %d duplicated %v, %d unexpected %v, %d missing %v",
			who, len(recs), len(want), len(dups), head(dups), len(bad), head(bad), len(missing), head(missing))
	}
	return byPart
}

func head(s []string) []string {
	if len(s) > 10 {
		return append(s[:10:10], "...")
	}
	return s
}

// checkContiguous checks that each partition's records have offsets
// from..from+n-1 in order, as they must when a topic holds only them.
func checkContiguous(t *testing.T, who string, byPart map[int32][]rec, from map[int32]int64) {
	t.Helper()
	for p, rs := range byPart {
		for i, r := range rs {
			if want := from[p] + int64(i); r.Offset != want {
				t.Fatalf("%s: partition %d record %d (%s) at offset %d, want %d", who, p, i, r.Key, r.Offset, want)
			}
		}
	}
}

// perPartitionCounts is len of each partition's records.
func perPartitionCounts(byPart map[int32][]rec) map[int32]int64 {
	out := map[int32]int64{}
	for p, rs := range byPart {
		out[p] = int64(len(rs))
	}
	return out
}

func equalCounts(a, b map[int32]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
