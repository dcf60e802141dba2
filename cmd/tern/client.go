package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

const defaultServer = "http://localhost:15672"

// client speaks Tern's admin HTTP API (/work/notes/api-contract.md,
// served by internal/admin). Each call takes a context and is limited by
// the --timeout; errors wrap an *apiError for answers the server gave and
// a *reachError when there was no answer.
type client struct {
	base     *url.URL
	user     string
	password string
	// passwordFrom names where the password came from, for the 401 hint.
	passwordFrom string
	timeout      time.Duration
	http         *http.Client
	transport    *http.Transport
}

// apiError is a non-2xx answer. Code and Reason come from the API's error
// body {"error","reason"}; JSON says the body had that shape (a plain-text
// 404 means the route does not exist, not the object).
type apiError struct {
	Method, Path string
	Status       int
	Code, Reason string
	JSON         bool
}

func (e *apiError) Error() string {
	msg := e.Reason
	if msg == "" {
		msg = e.Code
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s (HTTP %d from %s %s)", msg, e.Status, e.Method, e.Path)
}

// reachError is a request that got no answer.
type reachError struct{ err error }

func (e *reachError) Error() string { return e.err.Error() }
func (e *reachError) Unwrap() error { return e.err }

// client returns the invocation's API client, built from the global flags and
// the environment on first use.
func (a *cli) client(cmd *cobra.Command) (*client, error) {
	if a.api != nil {
		return a.api, nil
	}
	// The root's own flag objects: a command's local flag of the same
	// name (user create --password) shadows them and never sets them.
	flags := cmd.Root().PersistentFlags()
	pick := func(flagName, env, val string) (string, string) {
		if f := flags.Lookup(flagName); f != nil && f.Changed {
			return val, "--" + flagName
		}
		if v, ok := a.environ[env]; ok && v != "" {
			return v, env
		}
		return val, "the default"
	}
	server, _ := pick("server", "TERN_SERVER", a.server)
	user, _ := pick("user", "TERN_USER", a.user)
	password, from := pick("password", "TERN_PASSWORD", a.password)
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	base, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, usageErrorf("--server %q is not an http(s) URL like %s", server, defaultServer)
	}
	if a.timeout <= 0 {
		return nil, usageErrorf("--timeout must be positive")
	}
	caFile, caFrom := pick("cacert", "TERN_CACERT", a.caCert)
	var tlsCfg *tls.Config
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, usageErrorf("%s: %v", caFrom, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usageErrorf("%s: %s holds no PEM certificate", caFrom, caFile)
		}
		tlsCfg = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	tr := &http.Transport{
		TLSClientConfig:     tlsCfg,
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	a.api = &client{
		base:         base,
		user:         user,
		password:     password,
		passwordFrom: from,
		timeout:      a.timeout,
		transport:    tr,
		http:         &http.Client{Transport: tr},
	}
	return a.api, nil
}

func (c *client) close() { c.transport.CloseIdleConnections() }

// server is the base URL as given, for messages.
func (c *client) server() string { return c.base.String() }

// path joins escaped segments: path("topics", name) = /api/topics/<name>.
func path(segments ...string) string {
	var b strings.Builder
	b.WriteString("/api")
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// request is one call: method, path under the base, query, JSON body.
type request struct {
	method string
	path   string
	query  url.Values
	body   any
	// wait extends the time limit for long polls.
	wait time.Duration
}

// do sends r and decodes a 2xx answer's JSON body into out (when out is
// not nil and there is a body). It returns the status code.
func (c *client) do(ctx context.Context, r request, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout+r.wait)
	defer cancel()
	u := *c.base
	// r.path is escaped ("/" inside a name is %2F); Path must be its
	// unescaped form for url.URL to keep the escaping as given.
	u.RawPath = c.base.EscapedPath() + r.path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return 0, fmt.Errorf("bad path %q: %w", u.RawPath, err)
	}
	u.Path = p
	if r.query != nil {
		u.RawQuery = r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return 0, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.SetBasicAuth(c.user, c.password)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tern-cli/"+version)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, c.explainTransport(ctx, r, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, c.explainTransport(ctx, r, err)
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, c.explainStatus(r, resp.StatusCode, data)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if raw, ok := out.(*json.RawMessage); ok {
			*raw = append((*raw)[:0], data...)
		} else if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: unexpected answer from %s: %w", r.method, r.path, c.server(), err)
		}
	}
	return resp.StatusCode, nil
}

// get decodes a GET's JSON answer into out and also returns it raw, for
// --format json.
func (c *client) get(ctx context.Context, p string, query url.Values, out any) (json.RawMessage, error) {
	var raw json.RawMessage
	if _, err := c.do(ctx, request{method: http.MethodGet, path: p, query: query}, &raw); err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("GET %s: unexpected answer from %s: %w", p, c.server(), err)
		}
	}
	return raw, nil
}

// getAs is get for the many reads that decode the whole answer into one
// value: it returns the value and the raw answer.
func getAs[T any](ctx context.Context, c *client, p string) (T, json.RawMessage, error) {
	var out T
	raw, err := c.get(ctx, p, nil, &out)
	return out, raw, err
}

// sendAs is send for an answer decoded as T, the twin of getAs.
func sendAs[T any](ctx context.Context, c *client, method, p string, body any) (T, json.RawMessage, error) {
	var out T
	raw, _, err := c.send(ctx, method, p, nil, body)
	if err != nil {
		return out, nil, err
	}
	err = decodeAnswer(raw, &out)
	return out, raw, err
}

// send makes a request with a JSON body and returns the raw answer (nil
// for 204) and the status.
func (c *client) send(ctx context.Context, method, p string, query url.Values, body any) (json.RawMessage, int, error) {
	var raw json.RawMessage
	status, err := c.do(ctx, request{method: method, path: p, query: query, body: body}, &raw)
	return raw, status, err
}

func (c *client) explainTransport(ctx context.Context, r request, err error) error {
	// The URL is in the message already; keep the network's words.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s %s: interrupted: %w", r.method, r.path, err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &reachError{fmt.Errorf("Tern's admin API at %s did not answer %s %s within %s (raise --timeout, or check the node with \"tern cluster status\"): %w",
			c.server(), r.method, r.path, c.timeout+r.wait, err)}
	case errors.As(err, new(x509.UnknownAuthorityError)) || errors.As(err, new(*tls.CertificateVerificationError)):
		return &reachError{fmt.Errorf("Tern's admin API at %s has a certificate this machine does not trust (pass its CA file with --cacert or TERN_CACERT): %w", c.server(), err)}
	case errors.Is(err, syscall.ECONNREFUSED) || isDNSError(err):
		return &reachError{fmt.Errorf("cannot reach Tern's admin API at %s (is \"tern serve\" running? set --server or TERN_SERVER): %w", c.server(), err)}
	default:
		return &reachError{fmt.Errorf("cannot talk to Tern's admin API at %s (check --server or TERN_SERVER): %w", c.server(), err)}
	}
}

func isDNSError(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func (c *client) explainStatus(r request, status int, data []byte) error {
	e := &apiError{Method: r.method, Path: r.path, Status: status}
	var body struct {
		Error  string `json:"error"`
		Reason string `json:"reason"`
	}
	if json.Unmarshal(data, &body) == nil && (body.Error != "" || body.Reason != "") {
		e.Code, e.Reason, e.JSON = body.Error, body.Reason, true
	} else {
		e.Reason = strings.TrimSpace(string(data))
		if len(e.Reason) > 200 {
			e.Reason = e.Reason[:200] + "…"
		}
	}
	switch {
	case status == http.StatusUnauthorized:
		return fmt.Errorf("Tern's admin API at %s refused user %q: wrong user or password (the password came from %s); pass an administrator's credentials with --user and --password, or TERN_USER and TERN_PASSWORD: %w",
			c.server(), c.user, c.passwordFrom, e)
	case status == http.StatusForbidden:
		return fmt.Errorf("user %q may not use Tern's admin API at %s: it needs the \"administrator\" tag (tern user create NAME --password P --tags administrator), or pass another user with --user/--password: %w",
			c.user, c.server(), e)
	case status == http.StatusNotFound && (!e.JSON || strings.HasPrefix(e.Reason, "no API endpoint")):
		return fmt.Errorf("%s does not serve %s %s: is it a Tern node with the admin API (check --server)? %w", c.server(), r.method, r.path, e)
	case status == http.StatusMethodNotAllowed:
		return fmt.Errorf("%s does not support %s %s: is it an older Tern node? %w", c.server(), r.method, r.path, e)
	}
	return e
}

// statusOf returns the HTTP status of an API error in err's chain, or 0.
func statusOf(err error) int {
	var e *apiError
	if errors.As(err, &e) && e.JSON {
		return e.Status
	}
	return 0
}

// notFound rewrites a 404 about an object into words that say what to do
// next: `topic "x" not found (list topics with "tern topic list")`. The
// API's reason is kept when it speaks of something else (a vhost).
func notFound(err error, kind, name, list string) error {
	var e *apiError
	if statusOf(err) != http.StatusNotFound || (errors.As(err, &e) && strings.HasPrefix(e.Reason, "no API endpoint")) {
		return err
	}
	msg := fmt.Sprintf("%s %q not found (list %ss with %q)", kind, name, kind, list)
	if e.Reason != "" && !strings.Contains(e.Reason, name) {
		msg += "; the server said: " + e.Reason
	}
	return &friendlyError{msg: msg, err: err}
}

// friendlyError replaces an error's text and keeps it in the chain.
type friendlyError struct {
	msg string
	err error
}

func (e *friendlyError) Error() string { return e.msg }
func (e *friendlyError) Unwrap() error { return e.err }
