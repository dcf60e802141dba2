package kafka_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// TestSASLUsersCreatedByAlterUserScramCredentials creates and changes
// users with AlterUserScramCredentials (kadm), checks they log in with
// exactly the mechanisms they have, that DescribeUserScramCredentials
// lists mechanisms and iterations, that a new user exists for AMQP with
// no tags or permissions, and Kafka's error codes for bad changes.
func TestSASLUsersCreatedByAlterUserScramCredentials(t *testing.T) {
	b := startSASL(t)
	ctx := ctxT(t, 60*time.Second)
	admCl := saslClient(t, b, "SASL_PLAINTEXT", plain.Auth{User: "guest", Pass: "guest"}.AsMechanism())
	adm := kadm.NewClient(admCl)

	res, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
		{User: "bob", Mechanism: kadm.ScramSha512, Iterations: 8192, Password: "bob-secret"},
		{User: "carol", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "carol-secret"},
	})
	if err != nil || res.Error() != nil {
		t.Fatalf("upsert: %v %v", err, res.Error())
	}
	login := func(m sasl.Mechanism) error {
		_, err := kadm.NewClient(saslClient(t, b, "SASL_PLAINTEXT", m)).ListTopics(ctx)
		return err
	}
	if err := login(scram.Auth{User: "bob", Pass: "bob-secret"}.AsSha512Mechanism()); err != nil {
		t.Fatalf("bob SCRAM-SHA-512: %v", err)
	}
	if err := login(scram.Auth{User: "bob", Pass: "bob-secret"}.AsSha256Mechanism()); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("bob SCRAM-SHA-256 (no such credential): %v", err)
	}
	if err := login(plain.Auth{User: "bob", Pass: "bob-secret"}.AsMechanism()); err != nil {
		t.Fatalf("bob PLAIN: %v", err)
	}
	if err := login(scram.Auth{User: "carol", Pass: "carol-secret"}.AsSha256Mechanism()); err != nil {
		t.Fatalf("carol SCRAM-SHA-256: %v", err)
	}
	u, err := b.Node().Broker.User("bob")
	if err != nil || len(u.Tags) != 0 {
		t.Fatalf("bob in the user store: %+v %v", u, err)
	}
	if _, ok := b.Node().Broker.PermissionOf("/", "bob"); ok {
		t.Fatal("bob got vhost permissions")
	}

	described, err := adm.DescribeUserSCRAMs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for user, d := range described {
		if d.Err != nil {
			t.Fatalf("describe %s: %v", user, d.Err)
		}
		var s []string
		for _, ci := range d.CredInfos {
			s = append(s, fmt.Sprintf("%s/%d", ci.Mechanism, ci.Iterations))
		}
		got[user] = strings.Join(s, ",")
	}
	want := map[string]string{
		"alice": "SCRAM-SHA-256/4096,SCRAM-SHA-512/4096", "guest": "SCRAM-SHA-256/4096,SCRAM-SHA-512/4096",
		"bob": "SCRAM-SHA-512/8192", "carol": "SCRAM-SHA-256/4096",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("describe all: %v, want %v", got, want)
	}

	// Changing bob's password and deleting carol's only credential.
	res, err = adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: "carol", Mechanism: kadm.ScramSha256}},
		[]kadm.UpsertSCRAM{{User: "bob", Mechanism: kadm.ScramSha512, Iterations: 4096, Password: "new-secret"}})
	if err != nil || res.Error() != nil {
		t.Fatalf("alter: %v %v", err, res.Error())
	}
	if err := login(scram.Auth{User: "bob", Pass: "bob-secret"}.AsSha512Mechanism()); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("bob's old password: %v", err)
	}
	if err := login(scram.Auth{User: "bob", Pass: "new-secret"}.AsSha512Mechanism()); err != nil {
		t.Fatalf("bob's new password: %v", err)
	}
	if err := login(scram.Auth{User: "carol", Pass: "carol-secret"}.AsSha256Mechanism()); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("carol after deletion: %v", err)
	}

	// Kafka's error codes, per user, on the raw request.
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	up := func(name string, mech int8, iter int32) {
		u := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
		u.Name, u.Mechanism, u.Iterations, u.Salt, u.SaltedPassword = name, mech, iter, []byte("salt"), make([]byte, 32)
		req.Upsertions = append(req.Upsertions, u)
	}
	del := func(name string, mech int8) {
		d := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
		d.Name, d.Mechanism = name, mech
		req.Deletions = append(req.Deletions, d)
	}
	up("few", 1, 4095)
	up("many", 2, 16385)
	up("", 1, 4096)
	up("mech", 3, 4096)
	up("twice", 1, 4096)
	up("twice", 2, 4096)
	del("bob", 2) // exists: refused only for being paired with the upsertion
	up("bob", 2, 4096)
	del("dave", 1)
	up("ok", 1, 16384)
	alterResp, err := req.RequestWith(ctx, admCl)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]error{}
	for _, r := range alterResp.Results {
		codes[r.User] = kerr.ErrorForCode(r.ErrorCode)
	}
	wantCodes := map[string]error{
		"few": kerr.UnacceptableCredential, "many": kerr.UnacceptableCredential, "": kerr.UnacceptableCredential,
		"mech": kerr.UnsupportedSaslMechanism, "twice": kerr.DuplicateResource, "bob": kerr.DuplicateResource,
		"dave": kerr.ResourceNotFound, "ok": nil,
	}
	if fmt.Sprint(codes) != fmt.Sprint(wantCodes) {
		t.Fatalf("alter errors: %v, want %v", codes, wantCodes)
	}

	if err := login(scram.Auth{User: "bob", Pass: "new-secret"}.AsSha512Mechanism()); err != nil {
		t.Fatalf("bob after a refused change: %v", err)
	}

	dreq := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
	for _, n := range []string{"bob", "nobody", "bob2", "bob2", "carol"} {
		u := kmsg.NewDescribeUserSCRAMCredentialsRequestUser()
		u.Name = n
		dreq.Users = append(dreq.Users, u)
	}
	dresp, err := dreq.RequestWith(ctx, admCl)
	if err != nil {
		t.Fatal(err)
	}
	codes = map[string]error{}
	for _, r := range dresp.Results {
		codes[r.User] = kerr.ErrorForCode(r.ErrorCode)
	}
	wantCodes = map[string]error{"bob": nil, "nobody": kerr.ResourceNotFound, "bob2": kerr.DuplicateResource, "carol": kerr.ResourceNotFound}
	if fmt.Sprint(codes) != fmt.Sprint(wantCodes) || len(dresp.Results) != 4 {
		t.Fatalf("describe errors: %v (%d results), want %v", codes, len(dresp.Results), wantCodes)
	}
}

// TestSCRAMCredentialsNeedAnAdministrator: without kafka.authorizer,
// Kafka would let anyone alter credentials, but Tern's users are also its
// AMQP and admin API users: an anonymous client and a plain user are
// refused, an administrator is not, and a refused change changes nothing.
func TestSCRAMCredentialsNeedAnAdministrator(t *testing.T) {
	b := startSASL(t)
	ctx := ctxT(t, 30*time.Second)
	// kadm salts an upsertion in place: a fresh one per call.
	takeover := func() []kadm.UpsertSCRAM {
		return []kadm.UpsertSCRAM{{User: "guest", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "pwned"}}
	}
	for name, adm := range map[string]*kadm.Client{
		"anonymous": kadm.NewClient(newClient(t, b.KafkaAddr("PLAINTEXT"))),
		"alice":     kadm.NewClient(saslClient(t, b, "SASL_PLAINTEXT", plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism())),
	} {
		res, err := adm.AlterUserSCRAMs(ctx, nil, takeover())
		// kadm reports a per-user error as the call's error or in the map.
		if !errors.Is(err, kerr.ClusterAuthorizationFailed) && !errors.Is(res["guest"].Err, kerr.ClusterAuthorizationFailed) {
			t.Fatalf("%s alters guest's credential: %v %+v, want CLUSTER_AUTHORIZATION_FAILED", name, err, res)
		}
		if _, err := adm.DescribeUserSCRAMs(ctx); !errors.Is(err, kerr.ClusterAuthorizationFailed) {
			t.Fatalf("%s describes credentials: %v, want CLUSTER_AUTHORIZATION_FAILED", name, err)
		}
	}
	core := b.Node().Broker
	if _, err := core.Authenticate("guest", "pwned", netip.MustParseAddr("127.0.0.1")); err == nil {
		t.Fatal("a refused AlterUserScramCredentials changed guest's password")
	}
	admin := kadm.NewClient(saslClient(t, b, "SASL_PLAINTEXT", plain.Auth{User: "guest", Pass: "guest"}.AsMechanism()))
	if _, err := admin.DescribeUserSCRAMs(ctx); err != nil {
		t.Fatalf("the administrator describes credentials: %v", err)
	}
}
