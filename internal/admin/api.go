package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/netserve"
)

// Backend is what the JSON API serves from once the node has recovered:
// the broker core and what the listeners know of their connections.
type Backend struct {
	Broker *broker.Broker
	// Connections lists each protocol's open connections.
	Connections map[string]func() []netserve.ConnInfo
	// Listeners are the node's protocol listeners, for the overview.
	Listeners []Listener
}

// Listener is one protocol listener of the node.
type Listener struct {
	Protocol string
	Addr     net.Addr
}

// api serves /api/*. Until Attach, every route but /api/tasks answers
// 503: the node is still recovering its logs.
type api struct {
	cfg     Config
	backend atomic.Pointer[Backend]
	started time.Time
	// getChannel numbers the pseudo-channels of basic.get requests made
	// over HTTP, in a range no AMQP connection uses (see queues.go).
	getChannel atomic.Uint64
	// roundRobin spreads keyless records over partitions.
	roundRobin atomic.Uint64
	// patterns lists the registered routes, which the OpenAPI document
	// must describe (a test checks both ways).
	patterns []string
}

// apiError is the JSON error body: a short code and a reason that says
// what to do next.
type apiError struct {
	status int
	Code   string `json:"error"`
	Reason string `json:"reason"`
}

func (e *apiError) Error() string { return e.Reason }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, Code: codeFor(status), Reason: fmt.Sprintf(format, args...)}
}

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusConflict:
		return "conflict"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusGatewayTimeout:
		return "timeout"
	default:
		return "internal_error"
	}
}

// statusOf maps the core's protocol-neutral errors to HTTP statuses, in
// one table as the protocol adapters do for their codes.
func statusOf(err error) int {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae.status
	case errors.Is(err, broker.ErrNotFound), errors.Is(err, broker.ErrUnknownTopicOrPartition),
		errors.Is(err, group.ErrGroupIDNotFound):
		return http.StatusNotFound
	case errors.Is(err, broker.ErrTopicExists), errors.Is(err, broker.ErrPreconditionFailed),
		errors.Is(err, broker.ErrResourceLocked), errors.Is(err, group.ErrNonEmptyGroup),
		errors.Is(err, group.ErrRebalanceInProgress):
		return http.StatusConflict
	case errors.Is(err, broker.ErrInvalidTopic), errors.Is(err, broker.ErrInvalidPartitions),
		errors.Is(err, broker.ErrInvalidConfig), errors.Is(err, broker.ErrInvalidRequest),
		errors.Is(err, broker.ErrInvalidReplicationFactor), errors.Is(err, broker.ErrInvalidRecord),
		errors.Is(err, broker.ErrRecordTooLarge), errors.Is(err, broker.ErrCorruptMessage),
		errors.Is(err, broker.ErrOffsetOutOfRange), errors.Is(err, broker.ErrCommandInvalid),
		errors.Is(err, broker.ErrPolicyViolation), errors.Is(err, broker.ErrTopicDeletionDisabled),
		errors.Is(err, broker.ErrNotSupported), errors.Is(err, group.ErrInvalidGroupID):
		return http.StatusBadRequest
	case errors.Is(err, broker.ErrAccessRefused):
		return http.StatusForbidden
	case errors.Is(err, broker.ErrClosed), errors.Is(err, group.ErrCoordinatorNotAvailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, broker.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	default:
		return http.StatusInternalServerError
	}
}

// handler is an API route: it returns the value to encode (nil for 204)
// and its status, or an error.
type handler func(r *http.Request, b *Backend) (status int, v any, err error)

// route registers an authenticated API route.
func (a *api) route(mux *http.ServeMux, pattern string, h handler) {
	a.patterns = append(a.patterns, pattern)
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		b := a.backend.Load()
		if b == nil {
			a.fail(w, r, errorf(http.StatusServiceUnavailable, "the node is still recovering its logs; watch /api/tasks and retry once /readyz answers ready"))
			return
		}
		if err := a.authorize(r, b.Broker); err != nil {
			a.fail(w, r, err)
			return
		}
		status, v, err := h(r, b)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.reply(w, status, v)
	})
}

// authorize applies RabbitMQ's rule for its management API: HTTP basic
// auth of a user tagged administrator, loopback-only users from loopback.
func (a *api) authorize(r *http.Request, b *broker.Broker) error {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return errorf(http.StatusUnauthorized, "the admin API needs HTTP basic auth of an administrator (default guest/guest from localhost)")
	}
	remote, _ := netip.ParseAddrPort(r.RemoteAddr)
	u, err := b.Authenticate(user, pass, remote.Addr())
	if errors.Is(err, broker.ErrAccessRefused) {
		return errorf(http.StatusForbidden, "user %q may only connect from localhost; create another administrator with 'tern user create'", user)
	}
	if err != nil {
		return errorf(http.StatusUnauthorized, "login failed for user %q: check the user name and password", user)
	}
	if !u.IsAdmin() {
		return errorf(http.StatusForbidden, "user %q is not an administrator; give it the administrator tag ('tern user create %s --tags administrator')", user, user)
	}
	return nil
}

func (a *api) reply(w http.ResponseWriter, status int, v any) {
	if c, ok := v.(created); ok {
		w.Header().Set("Location", c.location)
		v = c.body
	}
	if v == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		a.cfg.Logger.Debug("write api answer", "err", err)
	}
}

func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: status, Code: codeFor(status), Reason: err.Error()}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="tern"`)
	}
	if status >= 500 {
		a.cfg.Logger.Warn("admin api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	a.reply(w, status, ae)
}

// maxBody bounds a request body; record and message payloads go through
// the API too, so it matches Kafka's default message size with headroom.
const maxBody = 16 << 20

// decode reads a JSON request body into v; an empty body leaves v as is.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "reading the request body: %v", err)
	}
	if len(body) > maxBody {
		return errorf(http.StatusRequestEntityTooLarge, "the request body is over %d bytes", maxBody)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errorf(http.StatusBadRequest, "the request body is not the JSON this endpoint takes: %v", err)
	}
	return nil
}

// queryInt reads an integer query parameter, def when absent.
func queryInt(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, "query parameter %s=%q is not an integer", name, s)
	}
	return v, nil
}

func queryBool(r *http.Request, name string) bool {
	v, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return v
}

// unixMs renders a time as Unix milliseconds, 0 for the zero time.
func unixMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// routes registers every API route on mux.
func (a *api) routes(mux *http.ServeMux) {
	a.overviewRoutes(mux)
	a.topicRoutes(mux)
	a.groupRoutes(mux)
	a.queueRoutes(mux)
	a.exchangeRoutes(mux)
	a.bindingRoutes(mux)
	a.userRoutes(mux)
	a.vhostRoutes(mux)
	// The OpenAPI document of these routes, open to all (see openapi.go).
	a.patterns = append(a.patterns, "GET /api/openapi.json")
	mux.HandleFunc("GET /api/openapi.json", serveOpenAPI)
	// Anything else under /api is an unknown endpoint, answered in the
	// API's error shape rather than the console's page.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, errorf(http.StatusNotFound, "no API endpoint %s %s; the endpoints are listed at /api/openapi.json", r.Method, r.URL.Path))
	})
}

// attach makes the API serve from b.
func (a *api) attach(b Backend) { a.backend.Store(&b) }

// slashSentinel stands in for an escaped slash inside a path segment.
// RabbitMQ's paths name the default vhost "/" as %2F; Go's ServeMux
// matches the unescaped path, where that slash would split the segment,
// so escapedSlashes swaps it for NUL (which no name may contain) before
// routing, and pathValue swaps it back.
const slashSentinel = "\x00"

func escapedSlashes(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if raw := r.URL.RawPath; raw != "" && strings.Contains(strings.ToUpper(raw), "%2F") {
			r2 := r.Clone(r.Context())
			for _, esc := range []string{"%2F", "%2f"} {
				raw = strings.ReplaceAll(raw, esc, "%00")
			}
			if p, err := url.PathUnescape(raw); err == nil {
				r2.URL.Path, r2.URL.RawPath = p, raw
				r = r2
			}
		}
		h.ServeHTTP(w, r)
	})
}

// pathValue is r.PathValue with escaped slashes restored.
func pathValue(r *http.Request, name string) string {
	return strings.ReplaceAll(r.PathValue(name), slashSentinel, "/")
}
