package kafka

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/xdg-go/scram"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/storage"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openSASLBroker opens a core with guest (loopback only) and alice.
func openSASLBroker(t testing.TB, failuresPerMinute int, logs *syncBuf) *broker.Broker {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	b, err := broker.Open(broker.Config{
		DataDir: t.TempDir(), NodeID: 1, LogDefaults: storage.DefaultConfig(), DefaultPartitions: 1,
		MaxMessageBytes: 1 << 20, Group: group.DefaultConfig(), DefaultUser: "guest", DefaultPass: "guest",
		LoopbackUsers: []string{"guest"}, LoginFailuresPerMinute: failuresPerMinute, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if _, err := b.PutUser(t.Context(), "alice", "alice-secret", nil); err != nil {
		t.Fatal(err)
	}
	return b
}

// scramLogin runs a whole SCRAM exchange with xdg-go's client. step is
// the exchange step that failed (0 on success).
func scramLogin(t testing.TB, x saslExchange, gen scram.HashGeneratorFcn, user, pass string) (step int, err error) {
	t.Helper()
	cl, err := gen.NewClient(user, pass, "")
	if err != nil {
		t.Fatal(err)
	}
	conv := cl.NewConversation()
	msg, err := conv.Step("")
	if err != nil {
		t.Fatal(err)
	}
	for step = 1; ; step++ {
		reply, done, err := x.step([]byte(msg))
		if err != nil {
			return step, err
		}
		if msg, err = conv.Step(string(reply)); err != nil {
			t.Fatalf("client refused the server's step %d: %v", step, err)
		}
		if done {
			if x.user() != user {
				t.Fatalf("authenticated as %q, want %q", x.user(), user)
			}
			return 0, nil
		}
	}
}

// TestSASLExchangeRules unit-tests the server side of the exchanges where
// a real connection cannot reach: guest (loopback only) is refused from
// elsewhere with every mechanism; an unknown SCRAM user fails at the same
// step, with the same message and a stable salt, as a wrong password;
// failures count toward the per-address limit, past which even the right
// password is refused; and the log names user and address but never a
// password.
func TestSASLExchangeRules(t *testing.T) {
	var logs syncBuf
	b := openSASLBroker(t, 3, &logs)
	env := func(remote string) exchangeEnv {
		return exchangeEnv{b: b, remote: netip.MustParseAddr(remote), fakeKey: []byte("k"), what: "authentication"}
	}
	scrams := map[string]scram.HashGeneratorFcn{"SCRAM-SHA-256": scram.SHA256, "SCRAM-SHA-512": scram.SHA512}

	// guest: fine from loopback, refused from elsewhere.
	if _, done, err := newSASLExchange(env("127.0.0.1"), "PLAIN").step([]byte("\x00guest\x00guest")); !done || err != nil {
		t.Fatalf("guest PLAIN from loopback: %v", err)
	}
	if _, _, err := newSASLExchange(env("10.1.2.3"), "PLAIN").step([]byte("\x00guest\x00guest")); err == nil || !strings.Contains(err.Error(), "may only connect from localhost") {
		t.Fatalf("guest PLAIN from 10.1.2.3: %v", err)
	}
	for mech, gen := range scrams {
		if step, err := scramLogin(t, newSASLExchange(env("::1"), mech), gen, "guest", "guest"); err != nil {
			t.Fatalf("guest %s from ::1: step %d: %v", mech, step, err)
		}
		if _, err := scramLogin(t, newSASLExchange(env("10.1.2.4"), mech), gen, "guest", "guest"); err == nil || !strings.Contains(err.Error(), "may only connect from localhost") {
			t.Fatalf("guest %s from 10.1.2.4: %v", mech, err)
		}
	}

	// An unknown user is indistinguishable from a wrong password.
	for mech, gen := range scrams {
		wrongStep, wrongErr := scramLogin(t, newSASLExchange(env("10.0.0.1"), mech), gen, "alice", "not-it")
		unknownStep, unknownErr := scramLogin(t, newSASLExchange(env("10.0.0.2"), mech), gen, "mallory", "not-it")
		if wrongErr == nil || unknownErr == nil || wrongStep != 2 || unknownStep != 2 || wrongErr.Error() != unknownErr.Error() {
			t.Fatalf("%s: wrong password fails at step %d (%v), unknown user at step %d (%v)", mech, wrongStep, wrongErr, unknownStep, unknownErr)
		}
		salt := func() string {
			reply, _, err := newSASLExchange(env("10.0.0.3"), mech).step([]byte("n,,n=mallory,r=abc"))
			if err != nil {
				t.Fatal(err)
			}
			return scramAttr(string(reply), "s")
		}
		if a, b := salt(), salt(); a != b || a == "" {
			t.Fatalf("%s: an unknown user's salt changes between probes: %q, %q", mech, a, b)
		}
	}

	// Three failures from 10.9.9.9 (an unknown user counts), then even
	// alice's right password is refused there, but not elsewhere.
	guesser := env("10.9.9.9")
	newSASLExchange(guesser, "PLAIN").step([]byte("\x00alice\x00guess-1"))
	scramLogin(t, newSASLExchange(guesser, "SCRAM-SHA-256"), scram.SHA256, "mallory", "guess-2")
	newSASLExchange(guesser, "PLAIN").step([]byte("garbage"))
	for mech, gen := range scrams {
		if step, err := scramLogin(t, newSASLExchange(guesser, mech), gen, "alice", "alice-secret"); step != 1 || !errors.Is(err, tooManyFailures) {
			t.Fatalf("%s past the limit: step %d, %v", mech, step, err)
		}
	}
	if _, _, err := newSASLExchange(guesser, "PLAIN").step([]byte("\x00alice\x00alice-secret")); !errors.Is(err, tooManyFailures) {
		t.Fatalf("PLAIN past the limit: %v", err)
	}
	if step, err := scramLogin(t, newSASLExchange(env("10.9.9.10"), "SCRAM-SHA-512"), scram.SHA512, "alice", "alice-secret"); err != nil {
		t.Fatalf("another address: step %d, %v", step, err)
	}

	out := logs.String()
	for _, secret := range []string{"guess-1", "guess-2", "not-it", "alice-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "user=mallory") || !strings.Contains(out, "remote=10.9.9.9") {
		t.Errorf("the log does not name the failed logins:\n%s", out)
	}
}

// librdkafkaLogin runs SCRAM-SHA-256 as librdkafka before 2.6.1 does:
// its client-final nonce repeats the client nonce before the combined
// one, and the proof is computed over that message.
func librdkafkaLogin(t *testing.T, x saslExchange, user, pass string) error {
	t.Helper()
	const cnonce = "rOprNGfwEbeRWgbNEkqO"
	bare := "n=" + user + ",r=" + cnonce
	first, _, err := x.step([]byte("n,," + bare))
	if err != nil {
		return err
	}
	salt, err := base64.StdEncoding.DecodeString(scramAttr(string(first), "s"))
	if err != nil {
		t.Fatal(err)
	}
	iter, _ := strconv.Atoi(scramAttr(string(first), "i"))
	salted, err := pbkdf2.Key(sha256.New, pass, salt, iter, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	withoutProof := "c=biws,r=" + cnonce + scramAttr(string(first), "r")
	sig := mac(stored[:], bare+","+string(first)+","+withoutProof)
	for i := range clientKey {
		clientKey[i] ^= sig[i]
	}
	final, done, err := x.step([]byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(clientKey)))
	if err != nil {
		return err
	}
	serverSig := mac(mac(salted, "Server Key"), bare+","+string(first)+","+withoutProof)
	if !done || string(final) != "v="+base64.StdEncoding.EncodeToString(serverSig) {
		t.Fatalf("librdkafka-style login: done %v, server-final %q", done, final)
	}
	return nil
}

// TestSCRAMAcceptsLibrdkafkaNonce: the client-final message of librdkafka
// before 2.6.1 authenticates with the right password (and gets a
// server signature it can verify), and fails with a wrong one.
func TestSCRAMAcceptsLibrdkafkaNonce(t *testing.T) {
	b := openSASLBroker(t, 0, nil)
	env := exchangeEnv{b: b, remote: netip.MustParseAddr("127.0.0.1"), fakeKey: []byte("k"), what: "authentication"}
	if err := librdkafkaLogin(t, newSASLExchange(env, "SCRAM-SHA-256"), "alice", "alice-secret"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := librdkafkaLogin(t, newSASLExchange(env, "SCRAM-SHA-256"), "alice", "wrong"); err == nil {
		t.Fatal("a wrong password authenticated")
	}
	if err := librdkafkaLogin(t, newSASLExchange(env, "SCRAM-SHA-256"), "mallory", "alice-secret"); err == nil {
		t.Fatal("an unknown user authenticated")
	}
}
