package tlsconf_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ternmq/tern/internal/tlsconf"
	"github.com/ternmq/tern/internal/tlsconf/tlstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve accepts TLS connections and reports each peer's name.
func serve(t *testing.T, r *tlsconf.Reloader) (addr string, names <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	tln := tls.NewListener(ln, r.ServerConfig())
	ch := make(chan string, 16)
	go func() {
		for {
			nc, err := tln.Accept()
			if err != nil {
				return
			}
			cs, _, err := tlsconf.Handshake(context.Background(), nc, 5*time.Second)
			name, _ := tlsconf.PeerName(cs)
			if err != nil {
				name = "error: " + err.Error()
			}
			ch <- name
			nc.Close()
		}
	}()
	return ln.Addr().String(), ch
}

// served dials and returns the certificate the server presented.
func served(t *testing.T, addr string, cfg *tls.Config) ([]byte, error) {
	t.Helper()
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Handshake(); err != nil {
		return nil, err
	}
	return c.ConnectionState().PeerCertificates[0].Raw, nil
}

func TestReloadServesRenewedCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, dir)
	first := ca.Server("server")
	r, err := tlsconf.New(tlsconf.Files{Cert: first.CertFile, Key: first.KeyFile}, 10*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := serve(t, r)
	client := &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"}
	got, err := served(t, addr, client)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, first.TLS.Certificate[0]) {
		t.Fatal("served a certificate other than the configured one")
	}

	// A half-written renewal (a key that does not match) keeps the old one.
	if err := os.WriteFile(first.KeyFile, []byte("-----BEGIN EC PRIVATE KEY-----\nbroken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if got, err = served(t, addr, client); err != nil || !bytes.Equal(got, first.TLS.Certificate[0]) {
		t.Fatalf("after a broken renewal: err %v, same cert %v", err, bytes.Equal(got, first.TLS.Certificate[0]))
	}

	second := ca.Server("server") // rewrites the same two files
	deadline := time.Now().Add(5 * time.Second)
	for {
		time.Sleep(20 * time.Millisecond)
		got, err = served(t, addr, client)
		if err == nil && bytes.Equal(got, second.TLS.Certificate[0]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("renewed certificate never served (err %v)", err)
		}
	}
}

func TestClientAuth(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, dir)
	srv := ca.Server("server")
	alice := ca.Client("alice")
	other := tlstest.NewCA(t, t.TempDir()).Client("mallory")

	tests := []struct {
		auth     string
		cert     *tls.Certificate
		wantName string // "" when the handshake must fail
		wantErr  bool
	}{
		{"required", &alice.TLS, "alice", false},
		{"required", nil, "", true},
		{"required", &other.TLS, "", true},
		{"requested", nil, "", false},
		{"requested", &alice.TLS, "alice", false},
		{"none", &alice.TLS, "", false},
	}
	for _, tc := range tests {
		name := tc.auth + "/none"
		if tc.cert != nil {
			name = tc.auth + "/" + tc.cert.Leaf.Subject.CommonName
		}
		t.Run(name, func(t *testing.T) {
			r, err := tlsconf.New(tlsconf.Files{Cert: srv.CertFile, Key: srv.KeyFile, CA: ca.CAFile, ClientAuth: tc.auth}, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			addr, names := serve(t, r)
			cfg := &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"}
			if tc.cert != nil {
				cfg.Certificates = []tls.Certificate{*tc.cert}
			}
			c, err := tls.Dial("tcp", addr, cfg)
			if err == nil {
				// TLS 1.3 reports a refused client certificate on the
				// first read, not in the handshake.
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				_, err = c.Read(make([]byte, 1))
				c.Close()
			}
			got := <-names
			if tc.wantErr {
				if len(got) < 6 || got[:6] != "error:" {
					t.Fatalf("server accepted the peer as %q", got)
				}
				return
			}
			if got != tc.wantName {
				t.Fatalf("peer name %q, want %q", got, tc.wantName)
			}
		})
	}
}

func TestNewRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, dir)
	srv := ca.Server("server")
	for name, f := range map[string]tlsconf.Files{
		"missing cert":        {Cert: dir + "/nope.pem", Key: srv.KeyFile},
		"key of another cert": {Cert: srv.CertFile, Key: ca.Client("x").KeyFile},
		"client auth, no CA":  {Cert: srv.CertFile, Key: srv.KeyFile, ClientAuth: "required"},
		"CA file without PEM": {Cert: srv.CertFile, Key: srv.KeyFile, CA: srv.KeyFile, ClientAuth: "required"},
		"unknown client auth": {Cert: srv.CertFile, Key: srv.KeyFile, ClientAuth: "sometimes"},
	} {
		if _, err := tlsconf.New(f, 0, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
