package interop_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/testbroker"
)

type pikaTLSResult struct {
	Body   *string `json:"body"`
	Error  string  `json:"error"`
	Detail string  `json:"detail"`
}

// TestPikaOverTLS: pika (python3-pika) on amqps, verifying the broker's
// certificate against the test CA, with a password, with a wrong
// password, and with EXTERNAL and a client certificate naming a user —
// and naming none.
func TestPikaOverTLS(t *testing.T) {
	interop(t)
	needPython(t, "pika")
	b := testbroker.Start(t, testbroker.WithTLS("requested"))
	createUser(t, b, "carol", "unused")
	_, port, _ := net.SplitHostPort(b.AMQPSAddr)
	carol := b.CA.Client("carol")
	nobody := b.CA.Client("nobody")
	tests := []struct {
		name      string
		args      []string
		wantBody  string
		wantError string
	}{
		{"password", []string{"--user", "guest", "--password", "guest"}, "over tls", ""},
		{"wrong password", []string{"--user", "guest", "--password", "nope"}, "", "ProbableAuthenticationError"},
		{"external", []string{"--external", "--cert", carol.CertFile, "--key", carol.KeyFile}, "over tls", ""},
		{"external, unknown user", []string{"--external", "--cert", nobody.CertFile, "--key", nobody.KeyFile}, "", "ProbableAuthenticationError"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r pikaTLSResult
			args := append([]string{"--port", port, "--ca", b.CA.CAFile, "--queue", fmt.Sprintf("pika-tls-%d", i)}, tc.args...)
			runPy(t, 60*time.Second, &r, "pika_tls.py", args...)
			if tc.wantError != "" {
				if r.Error != tc.wantError {
					t.Fatalf("got %+v, want the error %s", r, tc.wantError)
				}
				return
			}
			if r.Error != "" || r.Body == nil || *r.Body != tc.wantBody {
				t.Fatalf("got %+v, want body %q", r, tc.wantBody)
			}
		})
	}
}

// createUser makes a user with every permission on "/" through the admin
// API, as an operator would.
func createUser(t *testing.T, b *testbroker.Broker, name, password string) {
	t.Helper()
	for _, req := range []struct{ path, body string }{
		{"/api/users/" + name, fmt.Sprintf(`{"password":%q,"tags":""}`, password)},
		{"/api/permissions/%2F/" + name, `{"configure":".*","write":".*","read":".*"}`},
	} {
		r, err := http.NewRequest(http.MethodPut, "http://"+b.HTTPAddr+req.path, bytes.NewBufferString(req.body))
		if err != nil {
			t.Fatal(err)
		}
		r.SetBasicAuth("guest", "guest")
		r.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("PUT %s: %s", req.path, resp.Status)
		}
	}
}
