package admin

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/message"
)

// Reading and writing a topic's records over HTTP: the console's message
// browser and the CLI's produce and consume. Bytes travel as UTF-8 text
// when they are valid UTF-8, else base64, with an "_encoding" field
// saying which.

const (
	defaultRecordLimit = 100
	maxRecordLimit     = 10000
	maxWait            = 30 * time.Second
)

type headerJSON struct {
	Key           string  `json:"key"`
	Value         *string `json:"value"`
	ValueEncoding string  `json:"value_encoding,omitempty"`
}

type recordJSON struct {
	Partition     *int32       `json:"partition,omitempty"`
	Offset        int64        `json:"offset"`
	Timestamp     int64        `json:"timestamp"`
	Key           *string      `json:"key"`
	KeyEncoding   string       `json:"key_encoding,omitempty"`
	Value         *string      `json:"value"`
	ValueEncoding string       `json:"value_encoding,omitempty"`
	Headers       []headerJSON `json:"headers"`
}

// encodeBytes renders b for JSON: nil stays null.
func encodeBytes(b []byte, forceBase64 bool) (*string, string) {
	if b == nil {
		return nil, ""
	}
	if !forceBase64 && utf8.Valid(b) {
		s := string(b)
		return &s, "utf8"
	}
	s := base64.StdEncoding.EncodeToString(b)
	return &s, "base64"
}

// decodeBytes is encodeBytes' inverse; field names the value in errors.
func decodeBytes(s *string, encoding, field string) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	switch encoding {
	case "", "utf8", "string":
		return []byte(*s), nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(*s)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "%s is not valid base64: %v", field, err)
		}
		return b, nil
	default:
		return nil, errorf(http.StatusBadRequest, "%s encoding %q: use utf8 or base64", field, encoding)
	}
}

type readAnswer struct {
	Records        []recordJSON     `json:"records"`
	NextOffsets    map[string]int64 `json:"next_offsets"`
	HighWatermarks map[string]int64 `json:"high_watermarks"`
}

func (a *api) readRecords(r *http.Request, b *Backend) (int, any, error) {
	br := b.Broker
	name := pathValue(r, "topic")
	t, err := br.Topic(r.Context(), name, false)
	if err != nil {
		return 0, nil, err
	}
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", defaultRecordLimit)
	if err != nil {
		return 0, nil, err
	}
	limit = min(max(limit, 1), maxRecordLimit)
	waitMs, err := queryInt(r, "wait_ms", 0)
	if err != nil {
		return 0, nil, err
	}
	wait := min(time.Duration(max(waitMs, 0))*time.Millisecond, maxWait)
	forceB64 := q.Get("encoding") == "base64"

	var parts []int32
	if s := q.Get("partition"); s != "" {
		p, err := strconv.ParseInt(s, 10, 32)
		if err != nil || p < 0 || int32(p) >= t.Partitions {
			return 0, nil, errorf(http.StatusNotFound, "topic %q has partitions 0 to %d; partition=%s is not one", name, t.Partitions-1, s)
		}
		parts = []int32{int32(p)}
	} else {
		for p := range t.Partitions {
			parts = append(parts, p)
		}
	}
	given, err := parseOffsets(q.Get("offsets"))
	if err != nil {
		return 0, nil, err
	}
	ans := readAnswer{Records: []recordJSON{}, NextOffsets: map[string]int64{}, HighWatermarks: map[string]int64{}}
	req := broker.FetchRequest{MaxWait: wait, MaxBytes: 8 << 20}
	if wait > 0 {
		req.MinBytes = 1
	}
	for _, p := range parts {
		start, hw, _, err := br.PartitionOffsets(name, p)
		if err != nil {
			return 0, nil, err
		}
		from, err := startOffset(br, name, p, start, hw, given, q)
		if err != nil {
			return 0, nil, err
		}
		ans.NextOffsets[strconv.Itoa(int(p))] = from
		ans.HighWatermarks[strconv.Itoa(int(p))] = hw
		req.Partitions = append(req.Partitions, broker.FetchPartition{Topic: name, Partition: p, Offset: from, MaxBytes: 1 << 20})
	}
	results := br.Fetch(r.Context(), req)
	var buf []byte
	for i, res := range results {
		fp := req.Partitions[i]
		key := strconv.Itoa(int(fp.Partition))
		if res.Err != nil {
			res.Records.Release()
			return 0, nil, res.Err
		}
		ans.HighWatermarks[key] = res.HighWatermark
		buf, err = res.Records.AppendTo(buf[:0])
		res.Records.Release()
		if err != nil {
			return 0, nil, err
		}
		next := fp.Offset
		for p := buf; len(p) > 0 && int64(len(ans.Records)) < limit; {
			batch, err := message.ParseHeader(p)
			if err != nil {
				break // a partial batch at the end of the read
			}
			p = p[len(batch.Raw):]
			if batch.Control() {
				next = max(next, batch.LastOffset()+1)
				continue
			}
			recs, err := message.Records(batch, 64<<20)
			if err != nil {
				return 0, nil, err
			}
			for _, rec := range recs {
				if rec.Offset < fp.Offset || rec.Offset >= res.HighWatermark || int64(len(ans.Records)) >= limit {
					continue
				}
				ans.Records = append(ans.Records, toRecordJSON(fp.Partition, rec, forceB64))
				next = rec.Offset + 1
			}
		}
		ans.NextOffsets[key] = next
	}
	return http.StatusOK, ans, nil
}

func toRecordJSON(part int32, rec message.Record, forceB64 bool) recordJSON {
	rj := recordJSON{Partition: &part, Offset: rec.Offset, Timestamp: rec.Timestamp, Headers: []headerJSON{}}
	rj.Key, rj.KeyEncoding = encodeBytes(rec.Key, forceB64)
	rj.Value, rj.ValueEncoding = encodeBytes(rec.Value, forceB64)
	for _, h := range rec.Headers {
		hj := headerJSON{Key: h.Key}
		hj.Value, hj.ValueEncoding = encodeBytes(h.Value, forceB64)
		rj.Headers = append(rj.Headers, hj)
	}
	return rj
}

// parseOffsets reads "0:12,1:40", the per-partition continuation the
// previous answer's next_offsets gave.
func parseOffsets(s string) (map[int32]int64, error) {
	out := map[int32]int64{}
	if s == "" {
		return out, nil
	}
	for _, pair := range strings.Split(s, ",") {
		ps, os, ok := strings.Cut(pair, ":")
		p, err1 := strconv.ParseInt(ps, 10, 32)
		o, err2 := strconv.ParseInt(os, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, errorf(http.StatusBadRequest, "offsets=%q: write partition:offset pairs, as in offsets=0:12,1:40", s)
		}
		out[int32(p)] = o
	}
	return out, nil
}

// startOffset resolves where to read a partition from, clamped to what
// the log holds: a browser asking for an offset retention removed starts
// at the oldest record rather than failing.
func startOffset(br *broker.Broker, topic string, p int32, start, hw int64, given map[int32]int64, q url.Values) (int64, error) {
	clamp := func(o int64) int64 { return min(max(o, start), hw) }
	if o, ok := given[p]; ok {
		return clamp(o), nil
	}
	if ts := q.Get("timestamp"); ts != "" {
		ms, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return 0, errorf(http.StatusBadRequest, "timestamp=%q: give Unix milliseconds", ts)
		}
		o, _, err := br.OffsetForTimestamp(topic, p, ms)
		if err != nil {
			return 0, err
		}
		if o < 0 {
			return hw, nil
		}
		return clamp(o), nil
	}
	switch s := q.Get("offset"); s {
	case "", "beginning", "earliest":
		return start, nil
	case "end", "latest":
		return hw, nil
	default:
		o, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, errorf(http.StatusBadRequest, "offset=%q: give a number, beginning or end", s)
		}
		if o < 0 { // -N: the last N records
			return clamp(hw + o), nil
		}
		return clamp(o), nil
	}
}

type produceRecord struct {
	Partition     *int32       `json:"partition"`
	Key           *string      `json:"key"`
	KeyEncoding   string       `json:"key_encoding"`
	Value         *string      `json:"value"`
	ValueEncoding string       `json:"value_encoding"`
	Headers       []headerJSON `json:"headers"`
	Timestamp     int64        `json:"timestamp"`
}

type producedOffset struct {
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
}

func (a *api) produceRecords(r *http.Request, b *Backend) (int, any, error) {
	br := b.Broker
	name := pathValue(r, "topic")
	var req struct {
		Records []produceRecord `json:"records"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if len(req.Records) == 0 {
		return 0, nil, errorf(http.StatusBadRequest, `no records: send {"records": [{"key": "k", "value": "v"}]}`)
	}
	t, err := br.Topic(r.Context(), name, false)
	if err != nil {
		return 0, nil, err
	}
	// Group by partition, remembering each record's place in its batch.
	type slot struct {
		part  int32
		index int
	}
	batches := map[int32][]message.Record{}
	slots := make([]slot, len(req.Records))
	now := time.Now().UnixMilli()
	for i, pr := range req.Records {
		rec := message.Record{Timestamp: pr.Timestamp}
		if rec.Timestamp == 0 {
			rec.Timestamp = now
		}
		if rec.Key, err = decodeBytes(pr.Key, pr.KeyEncoding, "key"); err != nil {
			return 0, nil, err
		}
		if rec.Value, err = decodeBytes(pr.Value, pr.ValueEncoding, "value"); err != nil {
			return 0, nil, err
		}
		for _, h := range pr.Headers {
			v, err := decodeBytes(h.Value, h.ValueEncoding, "header "+h.Key)
			if err != nil {
				return 0, nil, err
			}
			rec.Headers = append(rec.Headers, message.Header{Key: h.Key, Value: v})
		}
		var part int32
		switch {
		case pr.Partition != nil:
			part = *pr.Partition
			if part < 0 || part >= t.Partitions {
				return 0, nil, errorf(http.StatusBadRequest, "record %d: topic %q has partitions 0 to %d", i, name, t.Partitions-1)
			}
		case rec.Key != nil:
			part = keyPartition(rec.Key, t.Partitions)
		default:
			part = int32(a.roundRobin.Add(1) % uint64(t.Partitions))
		}
		slots[i] = slot{part, len(batches[part])}
		batches[part] = append(batches[part], rec)
	}
	// Append to every partition first, then wait: the partitions' fsyncs
	// overlap instead of queueing one behind another. The answer comes
	// only once every record is as durable as the topic's fsync policy
	// makes a Kafka producer's acks=all.
	base := map[int32]int64{}
	var waits []func() error
	for part, recs := range batches {
		raw := message.EncodeBatch(recs, message.BatchOptions{ProducerID: -1, BaseSequence: -1})
		res, wait, perr := br.Produce(r.Context(), name, part, raw)
		if perr != nil {
			err = perr
			break
		}
		base[part] = res.BaseOffset
		waits = append(waits, wait)
	}
	for _, wait := range waits {
		err = errors.Join(err, wait())
	}
	if err != nil {
		return 0, nil, err
	}
	out := make([]producedOffset, len(slots))
	for i, s := range slots {
		out[i] = producedOffset{Partition: s.part, Offset: base[s.part] + int64(s.index)}
	}
	return http.StatusOK, map[string]any{"offsets": out}, nil
}

// keyPartition is Kafka's default partitioner for keyed records: murmur2
// of the key, made positive, modulo the partition count, so a key lands
// where the Java client and franz-go would put it.
func keyPartition(key []byte, partitions int32) int32 {
	return int32(uint32(murmur2(key))&0x7fffffff) % partitions
}

// murmur2 is the 32-bit MurmurHash2 with Kafka's seed.
func murmur2(data []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	n := len(data)
	h := seed ^ uint32(n)
	for i := 0; i+4 <= n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := n &^ 3
	switch n % 4 {
	case 3:
		h ^= uint32(data[tail+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[tail+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[tail])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}
