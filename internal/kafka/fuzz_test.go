package kafka

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/storage"
)

// seedFrame is a request body (after the size prefix) as a client sends it.
func seedFrame(req kmsg.Request, version int16) []byte {
	req.SetVersion(version)
	b := kbin.AppendInt16(nil, req.Key())
	b = kbin.AppendInt16(b, version)
	b = kbin.AppendInt32(b, 1)
	id := "fuzz"
	b = kbin.AppendNullableString(b, &id)
	if req.IsFlexible() {
		b = append(b, 0)
	}
	return req.AppendTo(b)
}

// FuzzRequest feeds arbitrary request frames through header decoding, body
// decoding and, when they decode, the handler against a real broker core.
// Nothing may panic or hang; an undecodable frame must be refused.
func FuzzRequest(f *testing.F) {
	md := kmsg.NewPtrMetadataRequest()
	f.Add(seedFrame(md, 12))
	f.Add(seedFrame(kmsg.NewPtrApiVersionsRequest(), 3))
	prod := kmsg.NewPtrProduceRequest()
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = "fuzz"
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Records = []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 49, 0, 0, 0, 0, 2}
	pt.Partitions = append(pt.Partitions, pp)
	prod.Topics = append(prod.Topics, pt)
	prod.Acks = -1
	f.Add(seedFrame(prod, 9))
	fetch := kmsg.NewPtrFetchRequest()
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "fuzz"
	ft.Partitions = append(ft.Partitions, kmsg.NewFetchRequestTopicPartition())
	fetch.Topics = append(fetch.Topics, ft)
	f.Add(seedFrame(fetch, 12))
	ct := kmsg.NewPtrCreateTopicsRequest()
	ctt := kmsg.NewCreateTopicsRequestTopic()
	ctt.Topic, ctt.NumPartitions, ctt.ReplicationFactor = "t", 2, 1
	ct.Topics = append(ct.Topics, ctt)
	f.Add(seedFrame(ct, 7))
	f.Add(seedFrame(kmsg.NewPtrListGroupsRequest(), 4))
	f.Add(seedFrame(kmsg.NewPtrDescribeConfigsRequest(), 4))
	f.Add([]byte{0, 18, 0, 99, 0, 0, 0, 1, 255, 255})

	dir := f.TempDir()
	b, err := broker.Open(broker.Config{
		DataDir: dir, NodeID: 1, LogDefaults: storage.DefaultConfig(), AutoCreateTopics: true,
		DefaultPartitions: 1, MaxMessageBytes: 1 << 20, Group: group.DefaultConfig(),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { b.Close() })
	s := NewServer(Config{AdvertisedHost: "localhost", AdvertisedPort: 9092}, b)

	f.Fuzz(func(t *testing.T, body []byte) {
		client, srv := net.Pipe()
		defer client.Close()
		go io.Copy(io.Discard, client)
		c := newConn(s, srv)
		go c.writeLoop()
		defer func() {
			close(c.queue)
			c.cancel()
			srv.Close()
		}()
		r, err := c.decode(body)
		if err != nil || r == nil {
			return
		}
		if tr, ok := r.kreq.(kmsg.TimeoutRequest); ok && tr.Timeout() > 0 {
			return // avoid slow waits on random timeouts
		}
		if fr, ok := r.kreq.(*kmsg.FetchRequest); ok {
			fr.MaxWaitMillis = 0
		}
		if jr, ok := r.kreq.(*kmsg.JoinGroupRequest); ok {
			jr.RebalanceTimeoutMillis, jr.SessionTimeoutMillis = 10, 10
		}
		c.queue <- r
		c.dispatch(r)
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s v%d never answered", kmsg.NameForKey(r.key), r.version)
		}
	})
}

func TestSpliceHolesFlexibleAndNot(t *testing.T) {
	var nonce [12]byte
	copy(nonce[:], "abcdefghijkl")
	for _, flexible := range []bool{false, true} {
		m := spliceMarker(nonce, 0)
		var buf []byte
		buf = append(buf, 1, 2, 3)
		if flexible {
			buf = kbin.AppendCompactNullableBytes(buf, m)
		} else {
			buf = kbin.AppendNullableBytes(buf, m)
		}
		buf = append(buf, 9)
		holes, err := findHoles(buf, nonce, []storage.Slice{{}}, flexible)
		if err != nil {
			t.Fatal(err)
		}
		h := holes[0]
		if h.start != 3 || h.end != len(buf)-1 {
			t.Fatalf("flexible=%v: hole [%d,%d) in %d bytes", flexible, h.start, h.end, len(buf))
		}
		want := 4
		if flexible {
			want = 1
		}
		if len(h.prefix) != want {
			t.Fatalf("flexible=%v: prefix %x", flexible, h.prefix)
		}
		if !flexible && binary.BigEndian.Uint32(h.prefix) != 0 {
			t.Fatalf("length prefix %x for empty slice", h.prefix)
		}
	}
}

// FuzzSASLExchange feeds arbitrary client messages to the server side of
// each mechanism (PLAIN parsing, SCRAM client-first and client-final,
// librdkafka's nonce shape). Nothing may panic, and nothing may
// authenticate without the right password: PLAIN succeeds only for
// alice's exact password (authzid empty or alice), SCRAM never, since a
// proof needs the server's fresh nonce.
func FuzzSASLExchange(f *testing.F) {
	f.Add(uint8(0), []byte("\x00alice\x00alice-secret"), []byte(nil))
	f.Add(uint8(0), []byte("alice\x00alice\x00alice-secret"), []byte(nil))
	f.Add(uint8(0), []byte("\x00alice\x00alice-secre"), []byte(nil))
	f.Add(uint8(0), []byte("bob\x00alice\x00alice-secret"), []byte(nil))
	f.Add(uint8(0), []byte("\x00alice\x00alice-secret\x00"), []byte(nil))
	f.Add(uint8(1), []byte("n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL"), []byte("c=biws,r=fyko+d2lbbFgONRv9qkxdawLfyko+d2lbbFgONRv9qkxdawL,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="))
	f.Add(uint8(2), []byte("n,a=alice,n=alice,r=abc,ext=1"), []byte("c=bixhPWFsaWNlLA==,r=abcabc,p=AAAA"))
	f.Add(uint8(1), []byte("n,,n=mallory,r=x"), []byte("c=biws,r=x,p="))
	f.Add(uint8(2), []byte("p=tls-unique,,n=alice,r=x"), []byte("c=biws"))
	f.Add(uint8(1), []byte("n,,n=al=2Cice,r=x"), []byte(","))
	b := openSASLBroker(f, 0, nil)
	mechs := []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}
	f.Fuzz(func(t *testing.T, mech uint8, first, second []byte) {
		m := mechs[int(mech)%len(mechs)]
		x := newSASLExchange(exchangeEnv{b: b, remote: netip.MustParseAddr("10.0.0.1"), fakeKey: []byte("k"), what: "authentication"}, m)
		_, done, err := x.step(first)
		if err == nil && !done {
			_, done, err = x.step(second)
		}
		if !done {
			return
		}
		if err != nil {
			t.Fatalf("%s: done with an error: %v", m, err)
		}
		parts := bytes.Split(first, []byte{0})
		if m != "PLAIN" || len(parts) != 3 || (len(parts[0]) > 0 && string(parts[0]) != "alice") ||
			string(parts[1]) != "alice" || string(parts[2]) != "alice-secret" || x.user() != "alice" {
			t.Fatalf("%s authenticated %q with %q / %q", m, x.user(), first, second)
		}
	})
}
