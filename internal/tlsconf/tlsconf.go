package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Files names the PEM files and the client-certificate policy.
type Files struct {
	Cert, Key string
	// CA holds the CAs a client certificate must chain to; empty when
	// ClientAuth is "none".
	CA string
	// ClientAuth is none, requested or required (Kafka's ssl.client.auth).
	ClientAuth string
}

// Reloader serves the current certificate to every new handshake and
// reloads the files when they change. Checks are made on handshakes, at
// most once per CheckEvery, so an idle node does no work and a busy one
// one stat per file per interval.
type Reloader struct {
	files      Files
	logger     *slog.Logger
	checkEvery time.Duration

	cur atomic.Pointer[tls.Config]

	mu        sync.Mutex
	stamps    []stamp
	lastCheck time.Time
}

// stamp identifies one version of a file.
type stamp struct {
	mod  time.Time
	size int64
}

// DefaultCheckEvery is how often handshakes look for renewed files.
const DefaultCheckEvery = 5 * time.Second

// New loads the files; a missing or invalid file is an error here, so a
// node never starts with a broken TLS listener. checkEvery 0 means
// DefaultCheckEvery.
func New(files Files, checkEvery time.Duration, logger *slog.Logger) (*Reloader, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if checkEvery <= 0 {
		checkEvery = DefaultCheckEvery
	}
	r := &Reloader{files: files, logger: logger, checkEvery: checkEvery}
	cfg, stamps, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cur.Store(cfg)
	r.stamps, r.lastCheck = stamps, time.Now()
	return r, nil
}

// ServerConfig is the configuration to hand to tls.NewListener: each
// handshake gets the files' current version.
func (r *Reloader) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			r.maybeReload()
			return r.cur.Load(), nil
		},
	}
}

func (r *Reloader) paths() []string {
	ps := []string{r.files.Cert, r.files.Key}
	if r.files.CA != "" {
		ps = append(ps, r.files.CA)
	}
	return ps
}

// maybeReload reloads the files if one changed since the last load. A
// renewed file that does not load (half written, a key that does not
// match) keeps the previous version and is retried at the next check.
func (r *Reloader) maybeReload() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.lastCheck) < r.checkEvery {
		return
	}
	r.lastCheck = time.Now()
	stamps, err := statAll(r.paths())
	if err == nil && equalStamps(stamps, r.stamps) {
		return
	}
	cfg, stamps, err := r.load()
	if err != nil {
		r.logger.Error("TLS files changed but do not load; serving the previous certificate", "err", err)
		return
	}
	r.cur.Store(cfg)
	r.stamps = stamps
	r.logger.Info("TLS certificate reloaded", "cert", r.files.Cert)
}

func (r *Reloader) load() (*tls.Config, []stamp, error) {
	// Stamps first: a file replaced between the stat and the read is
	// seen as changed at the next check and read again.
	stamps, err := statAll(r.paths())
	if err != nil {
		return nil, nil, err
	}
	cert, err := tls.LoadX509KeyPair(r.files.Cert, r.files.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls certificate %s and key %s: %w", r.files.Cert, r.files.Key, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	switch r.files.ClientAuth {
	case "", "none":
		cfg.ClientAuth = tls.NoClientCert
	case "requested":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	case "required":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return nil, nil, fmt.Errorf("tls client auth %q: want none, requested or required", r.files.ClientAuth)
	}
	if r.files.CA != "" {
		pem, err := os.ReadFile(r.files.CA)
		if err != nil {
			return nil, nil, fmt.Errorf("tls ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("tls ca %s: no PEM certificate in it", r.files.CA)
		}
		cfg.ClientCAs = pool
	} else if cfg.ClientAuth != tls.NoClientCert {
		return nil, nil, errors.New("tls client auth needs a CA file")
	}
	return cfg, stamps, nil
}

func statAll(paths []string) ([]stamp, error) {
	out := make([]stamp, len(paths))
	for i, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		out[i] = stamp{fi.ModTime(), fi.Size()}
	}
	return out, nil
}

func equalStamps(a, b []stamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].mod.Equal(b[i].mod) || a[i].size != b[i].size {
			return false
		}
	}
	return true
}

// Handshake completes the TLS handshake of a connection accepted by a
// TLS listener, within timeout, and returns its state; ok is false for a
// plain connection. Listeners call it before reading the protocol so a
// peer that never finishes the handshake holds no reader for long.
func Handshake(ctx context.Context, nc net.Conn, timeout time.Duration) (tls.ConnectionState, bool, error) {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return tls.ConnectionState{}, false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return tls.ConnectionState{}, true, fmt.Errorf("tls handshake: %w", err)
	}
	return tc.ConnectionState(), true, nil
}

// PeerName is the common name of the peer's verified certificate, the
// user a mutual-TLS client is; ok is false when the peer sent none.
func PeerName(cs tls.ConnectionState) (string, bool) {
	if len(cs.VerifiedChains) == 0 || len(cs.PeerCertificates) == 0 {
		return "", false
	}
	cn := cs.PeerCertificates[0].Subject.CommonName
	return cn, cn != ""
}
