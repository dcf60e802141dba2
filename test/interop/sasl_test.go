package interop_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/testbroker"
)

// startSASLBroker runs a broker with PLAINTEXT (for franz-go's view),
// SASL_PLAINTEXT and SASL_SSL listeners, and the user alice.
func startSASLBroker(t *testing.T) *testbroker.Broker {
	t.Helper()
	b := testbroker.Start(t, testbroker.WithTLS("none"), testbroker.WithKafkaListeners("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"))
	if _, err := b.Node().Broker.PutUser(context.Background(), "alice", "alice-secret", nil); err != nil {
		t.Fatal(err)
	}
	return b
}

// kcatSASLSSL are kcat's flags for SCRAM-SHA-256 over TLS to b.
func kcatSASLSSL(b *testbroker.Broker, user, pass string) []string {
	return []string{
		"-b", b.KafkaAddr("SASL_SSL"),
		"-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=SCRAM-SHA-256",
		"-X", "sasl.username=" + user, "-X", "sasl.password=" + pass,
		"-X", "ssl.ca.location=" + b.CA.CAFile,
	}
}

// TestKcatSASLSSLSCRAM produces keyed messages with kcat over SASL_SSL
// with SCRAM-SHA-256, reads them back the same way, and checks every key
// and value once, in produce order per partition, with franz-go (over
// PLAINTEXT) agreeing on the end offsets. Debian's kcat links librdkafka
// 2.0, whose SCRAM client-final nonce Kafka 4 refuses; Tern accepts it.
func TestKcatSASLSSLSCRAM(t *testing.T) {
	interop(t)
	kcat := needKcat(t)
	b := startSASLBroker(t)
	adm := admin(t, b.KafkaAddr("PLAINTEXT"))
	const topic, parts, n = "kcat-sasl", 2, 200
	createTopic(t, adm, topic, parts)

	want := wantKV("kcat-sasl", 0, n)
	flags := kcatSASLSSL(b, "alice", "alice-secret")
	run(t, 30*time.Second, keyedInput(want, 0, n), kcat, append([]string{"-P", "-t", topic, "-K:"}, flags...)...)
	out := run(t, 30*time.Second, nil, kcat, append([]string{"-C", "-t", topic, "-o", "beginning", "-e", "-f", kcatFormat}, flags...)...)
	byPart := checkExactlyOnce(t, "kcat -C over SASL_SSL", parseKcat(t, out), want)
	checkProduceOrder(t, "kcat -C over SASL_SSL", byPart)
	if got := perPartitionCounts(byPart); !equalCounts(got, endOffsets(t, adm, topic)) {
		t.Fatalf("kcat read per-partition counts %v, franz-go end offsets %v", got, endOffsets(t, adm, topic))
	}
}

// TestKcatSASLWrongPassword: kcat with a wrong SCRAM password fails
// (librdkafka reports the broker's SASL_AUTHENTICATION_FAILED) and
// produces nothing.
func TestKcatSASLWrongPassword(t *testing.T) {
	interop(t)
	kcat := needKcat(t)
	b := startSASLBroker(t)
	adm := admin(t, b.KafkaAddr("PLAINTEXT"))
	createTopic(t, adm, "kcat-sasl-denied", 1)

	p := start(t, 30*time.Second, []byte("k:v\n"), nil, kcat,
		append([]string{"-P", "-t", "kcat-sasl-denied", "-K:", "-X", "message.timeout.ms=5000"}, kcatSASLSSL(b, "alice", "wrong")...)...)
	<-p.done
	if p.err == nil {
		t.Fatalf("kcat with a wrong password succeeded\nstderr:\n%s", tail(p.stderr.String(), 2000))
	}
	if s := p.stderr.String(); !strings.Contains(s, "Authentication failed") {
		t.Fatalf("kcat's error does not name the authentication failure:\n%s", tail(s, 2000))
	}
	if ends := endOffsets(t, adm, "kcat-sasl-denied"); ends[0] != 0 {
		t.Fatalf("a rejected client produced: end offsets %v", ends)
	}
}

// TestConfluentSASLPlaintextSCRAM produces and consumes with
// confluent-kafka over SASL_PLAINTEXT with SCRAM-SHA-512.
func TestConfluentSASLPlaintextSCRAM(t *testing.T) {
	interop(t)
	needPython(t, "confluent_kafka")
	b := startSASLBroker(t)
	adm := admin(t, b.KafkaAddr("PLAINTEXT"))
	const topic, group, n = "ck-sasl", "ck-sasl-g", 100
	createTopic(t, adm, topic, 2)
	sasl := []string{"--sasl", "SCRAM-SHA-512:alice:alice-secret"}
	want := wantKV("ck-sasl", 0, n)
	sent := ckProduce(t, b.KafkaAddr("SASL_PLAINTEXT"), topic, want, map[int32]int64{}, append([]string{"--count", fmt.Sprint(n), "--tag", "ck-sasl"}, sasl...)...)
	ckConsume(t, b.KafkaAddr("SASL_PLAINTEXT"), topic, group, want, sent, sasl...)
}
