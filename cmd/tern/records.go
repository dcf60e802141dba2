package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
)

// Batches of stdin lines sent in one produce request.
const (
	produceBatchRecords = 500
	produceBatchBytes   = 1 << 20
)

func (a *cli) produceCmd() *cobra.Command {
	var (
		value, key, keyDelim string
		headers              []string
		partition            int32
	)
	c := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Write records to a topic, one per stdin line (or --value)",
		Long: `Write records to a topic: one record per line of stdin, or one record
with --value. Each record's partition and offset is printed once it is
durable. Lines are sent in batches; a line is sent as soon as no more input
is waiting, so "tail -f log | tern produce logs" streams.

With -K SEP each line is KEY SEP VALUE (as kcat -K); a line without SEP is a
value with no key. Values that are not UTF-8 are sent as bytes.`,
		Example: `  echo hello | tern produce orders
  printf 'user1:login\nuser2:logout\n' | tern produce events -K:
  tern produce orders --key order-1 --value '{"total":3}' -H source=cli`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.nameCompletion(topicNames),
		RunE: func(cmd *cobra.Command, args []string) error {
			topic := args[0]
			hdrs, err := parseHeaders(headers)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("key") && keyDelim != "" {
				return usageErrorf("--key and --key-delimiter exclude each other")
			}
			if cmd.Flags().Changed("partition") && partition < 0 {
				return usageErrorf("--partition must be 0 or more")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			p := &producer{a: a, c: c, topic: topic, headers: hdrs}
			if cmd.Flags().Changed("partition") {
				p.partition = &partition
			}
			mk := func(line []byte) record {
				var k []byte
				hasKey := cmd.Flags().Changed("key")
				if hasKey {
					k = []byte(key)
				}
				if keyDelim != "" {
					if before, after, ok := bytes.Cut(line, []byte(keyDelim)); ok {
						k, line, hasKey = before, after, true
					}
				}
				r := record{Partition: p.partition, Headers: p.headers}
				if hasKey {
					r.Key, r.KeyEncoding = encodeBytes(k)
				}
				r.Value, r.ValueEncoding = encodeBytes(line)
				return r
			}
			ctx := cmd.Context()
			if cmd.Flags().Changed("value") {
				if err := p.send(ctx, []record{mk([]byte(value))}); err != nil {
					return err
				}
				return p.done()
			}
			in := bufio.NewReaderSize(a.stdin, 64<<10)
			var batch []record
			size := 0
			for {
				line, rerr := in.ReadBytes('\n')
				if rerr != nil && !errors.Is(rerr, io.EOF) {
					return fmt.Errorf("read stdin: %w", rerr)
				}
				line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
				if len(line) > 0 {
					batch = append(batch, mk(line))
					size += len(line)
				}
				// Send when the batch is full, at the end, or when the
				// next read would wait for more input.
				if len(batch) > 0 && (rerr != nil || len(batch) >= produceBatchRecords || size >= produceBatchBytes || in.Buffered() == 0) {
					if err := p.send(ctx, batch); err != nil {
						return err
					}
					batch, size = batch[:0], 0
				}
				if rerr != nil {
					break
				}
			}
			if p.sent == 0 {
				return usageErrorf("no records: stdin was empty (pipe lines into tern produce, or pass --value)")
			}
			return p.done()
		},
	}
	f := c.Flags()
	f.StringVar(&value, "value", "", "produce one record with this value instead of reading stdin")
	f.StringVar(&key, "key", "", "key of every record")
	f.StringVarP(&keyDelim, "key-delimiter", "K", "", "split each line into KEY SEP VALUE at the first SEP (kcat style)")
	f.StringArrayVarP(&headers, "header", "H", nil, "record header key=value (repeatable)")
	f.Int32Var(&partition, "partition", -1, "partition to write to (default: by key hash, round robin without a key)")
	return c
}

// producer sends batches and prints where each record landed.
type producer struct {
	a         *cli
	c         *client
	topic     string
	headers   []header
	partition *int32
	header    bool // the table header is printed
	sent      int
}

func (p *producer) send(ctx context.Context, batch []record) error {
	ans, _, err := p.c.produce(ctx, p.topic, batch)
	if err != nil {
		if p.sent > 0 {
			return fmt.Errorf("after %d records were written: %w", p.sent, err)
		}
		return err
	}
	p.sent += len(batch)
	if p.a.jsonOutput() {
		for _, o := range ans.Offsets {
			fmt.Fprintf(p.a.stdout, "{\"partition\":%d,\"offset\":%d}\n", o.Partition, o.Offset)
		}
		return nil
	}
	// Fixed-width columns rather than a tabwriter: rows are printed as
	// each batch is durable, so later batches must line up without
	// knowing the widths to come.
	var b strings.Builder
	if !p.header {
		b.WriteString("PARTITION  OFFSET\n")
		p.header = true
	}
	for _, o := range ans.Offsets {
		fmt.Fprintf(&b, "%-9d  %d\n", o.Partition, o.Offset)
	}
	_, err = io.WriteString(p.a.stdout, b.String())
	return err
}

func (p *producer) done() error {
	if !p.a.jsonOutput() && p.sent > 1 {
		fmt.Fprintf(p.a.stderr, "%d records written to %q.\n", p.sent, p.topic)
	}
	return nil
}

func parseHeaders(kvs []string) ([]header, error) {
	var hs []header
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--header %q: want key=value", kv)
		}
		val, enc := encodeBytes([]byte(v))
		hs = append(hs, header{Key: k, Value: val, ValueEncoding: enc})
	}
	return hs, nil
}

// encodeBytes carries bytes in a JSON string: as text when it is UTF-8,
// base64 otherwise.
func encodeBytes(b []byte) (*string, string) {
	if utf8.Valid(b) {
		s := string(b)
		return &s, "utf8"
	}
	s := base64.StdEncoding.EncodeToString(b)
	return &s, "base64"
}

// decodeBytes is encodeBytes' inverse; nil stays nil.
func decodeBytes(s *string, enc string) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	if enc == "base64" {
		return base64.StdEncoding.DecodeString(*s)
	}
	return []byte(*s), nil
}

// Consume's long poll while following.
const followWait = 10 * time.Second

func (a *cli) consumeCmd() *cobra.Command {
	var (
		partition                      int32
		from, timestamp                string
		limit                          int
		follow, printKey, printHeaders bool
	)
	c := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Read records from a topic (values one per line, or --format json)",
		Long: `Read records from a topic, from every partition or one, and print each
value on its own line (as kcat does); --print-key and --print-headers put
the key and the headers (k=v,k=v) before the value, tab-separated.
--format json prints one JSON object per record per line, as the admin API
returns it (key, value and header values are UTF-8 or base64 as their
*_encoding field says).

Without --follow, consume stops at the end of the log; with --follow it
waits for new records until interrupted (Ctrl-C) or --limit is reached.`,
		Example: `  tern consume orders
  tern consume orders --partition 0 --from 42 -n 10 --print-key
  tern consume orders --timestamp 2024-05-01T12:00:00Z --format json
  tern consume orders --from end -f`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.nameCompletion(topicNames),
		RunE: func(cmd *cobra.Command, args []string) error {
			topic := args[0]
			isFromSet, isTimestampSet := cmd.Flags().Changed("from"), cmd.Flags().Changed("timestamp")
			q := url.Values{}
			q.Set("encoding", "auto")
			if cmd.Flags().Changed("partition") {
				if partition < 0 {
					return usageErrorf("--partition must be 0 or more")
				}
				q.Set("partition", strconv.Itoa(int(partition)))
			}
			switch {
			case isFromSet && isTimestampSet:
				return usageErrorf("--from and --timestamp exclude each other")
			case isTimestampSet:
				ms, err := parseTime("timestamp", timestamp, time.Now())
				if err != nil {
					return err
				}
				q.Set("timestamp", strconv.FormatInt(ms, 10))
			default:
				switch from {
				case "beginning", "end":
				default:
					if n, err := strconv.ParseInt(from, 10, 64); err != nil || n < 0 {
						return usageErrorf("--from %q: want beginning, end or an offset", from)
					}
				}
				q.Set("offset", from)
			}
			if cmd.Flags().Changed("limit") && limit < 1 {
				return usageErrorf("--limit must be at least 1")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if cmd.Flags().Changed("partition") {
				// Say what is wrong before the first fetch: the API's
				// 404 would not tell a missing topic from a partition.
				td, _, err := c.topic(ctx, topic)
				if err != nil {
					return err
				}
				if int(partition) >= len(td.Partitions) {
					return usageErrorf("topic %q has %s (0 to %d); --partition %d is not one", topic, plural(len(td.Partitions), "partition"), len(td.Partitions)-1, partition)
				}
			}
			if follow {
				var stop context.CancelFunc
				ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
				defer stop()
			}
			cs := consumer{a: a, printKey: printKey, printHeaders: printHeaders, out: bufio.NewWriter(a.stdout)}
			err = cs.run(ctx, c, topic, q, limit, follow)
			if ferr := cs.out.Flush(); err == nil {
				err = ferr
			}
			if follow && ctx.Err() != nil {
				return nil // interrupted: the normal end of --follow
			}
			return err
		},
	}
	f := c.Flags()
	f.Int32Var(&partition, "partition", -1, "read only this partition (default: all)")
	f.StringVar(&from, "from", "beginning", "where to start: beginning, end, or an offset")
	f.StringVar(&timestamp, "timestamp", "", "start at the first record at or after this time: RFC 3339, unix ms, or a duration ago (15m)")
	f.IntVarP(&limit, "limit", "n", 0, "stop after N records")
	f.BoolVarP(&follow, "follow", "f", false, "wait for new records until interrupted")
	f.BoolVar(&printKey, "print-key", false, "print each record's key before its value")
	f.BoolVar(&printHeaders, "print-headers", false, "print each record's headers (k=v,k=v) before its key and value")
	_ = c.RegisterFlagCompletionFunc("from", fixedCompletion("beginning", "end"))
	return c
}

// consumer prints the records of successive fetches.
type consumer struct {
	a                      *cli
	printKey, printHeaders bool
	out                    *bufio.Writer
	n                      int
}

// consumePerRequest is the most records asked for in one fetch.
const consumePerRequest = 500

func (cs *consumer) run(ctx context.Context, c *client, topic string, q url.Values, limit int, follow bool) error {
	var wait time.Duration
	if follow {
		wait = followWait
		q.Set("wait_ms", strconv.FormatInt(wait.Milliseconds(), 10))
	}
	var prev map[string]int64
	for {
		n := consumePerRequest
		if limit > 0 && limit-cs.n < n {
			n = limit - cs.n
		}
		q.Set("limit", strconv.Itoa(n))
		ans, err := c.fetch(ctx, topic, q, wait)
		if err != nil {
			return err
		}
		for _, raw := range ans.Records {
			if err := cs.print(raw); err != nil {
				return err
			}
			cs.n++
			if limit > 0 && cs.n >= limit {
				return nil
			}
		}
		if err := cs.out.Flush(); err != nil {
			return err
		}
		if len(ans.NextOffsets) == 0 {
			if !follow {
				return nil // no partitions
			}
			continue
		}
		if !follow && (caughtUp(ans) || (len(ans.Records) == 0 && sameOffsets(prev, ans.NextOffsets))) {
			return nil
		}
		prev = ans.NextOffsets
		// Continue each partition where this answer ended.
		q.Del("offset")
		q.Del("timestamp")
		q.Set("offsets", offsetsParam(ans.NextOffsets))
	}
}

// caughtUp reports whether every partition's next offset has reached its
// high watermark.
func caughtUp(ans fetchAnswer) bool {
	for p, next := range ans.NextOffsets {
		if hw, ok := ans.HighWatermarks[p]; !ok || next < hw {
			return false
		}
	}
	return true
}

func sameOffsets(a, b map[string]int64) bool {
	if a == nil || len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// offsetsParam renders next offsets as the API's offsets= parameter:
// "0:12,1:40", by partition.
func offsetsParam(m map[string]int64) string {
	type po struct {
		p int
		s string
		o int64
	}
	list := make([]po, 0, len(m))
	for k, v := range m {
		n, _ := strconv.Atoi(k)
		list = append(list, po{n, k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].p < list[j].p })
	parts := make([]string, len(list))
	for i, x := range list {
		parts[i] = x.s + ":" + strconv.FormatInt(x.o, 10)
	}
	return strings.Join(parts, ",")
}

func (cs *consumer) print(raw json.RawMessage) error {
	if cs.a.jsonOutput() {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return fmt.Errorf("unexpected record from the admin API: %w", err)
		}
		buf.WriteByte('\n')
		_, err := cs.out.Write(buf.Bytes())
		return err
	}
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("unexpected record from the admin API: %w", err)
	}
	if cs.printHeaders {
		for i, h := range r.Headers {
			if i > 0 {
				cs.out.WriteByte(',')
			}
			v, err := decodeBytes(h.Value, h.ValueEncoding)
			if err != nil {
				return fmt.Errorf("header %q: %w", h.Key, err)
			}
			cs.out.WriteString(h.Key)
			cs.out.WriteByte('=')
			cs.out.Write(v)
		}
		cs.out.WriteByte('\t')
	}
	if cs.printKey {
		k, err := decodeBytes(r.Key, r.KeyEncoding)
		if err != nil {
			return fmt.Errorf("key at offset %d: %w", r.Offset, err)
		}
		cs.out.Write(k)
		cs.out.WriteByte('\t')
	}
	v, err := decodeBytes(r.Value, r.ValueEncoding)
	if err != nil {
		return fmt.Errorf("value at offset %d: %w", r.Offset, err)
	}
	cs.out.Write(v)
	return cs.out.WriteByte('\n')
}
