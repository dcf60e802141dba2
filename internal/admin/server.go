package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ternmq/tern/internal/admin/console"
	"github.com/ternmq/tern/internal/progress"
)

// Config is what the HTTP server needs beyond its metrics.
type Config struct {
	Logger *slog.Logger
	// Ready reports whether the node serves clients: /readyz answers 503
	// until it does (during startup recovery) and once shutdown starts.
	Ready func() bool
	// Progress holds the node's long operations (/api/tasks); nil is
	// an empty list.
	Progress *progress.Registry
	// Version is the node's version, for the overview.
	Version string
}

// Server serves the operators' endpoints on one listener.
type Server struct {
	cfg  Config
	http *http.Server
	api  *api
}

// New builds the server; m is the node's metrics.
func New(cfg Config, m *Metrics) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, api: &api{cfg: cfg, started: time.Now()}}
	mux := http.NewServeMux()
	// Liveness: the process answers HTTP. Kubernetes restarts a node
	// that stops answering; nothing here may block on the broker.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	// Readiness: the node has recovered its logs and its listeners
	// accept clients, so a load balancer may send it traffic.
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if cfg.Ready != nil && !cfg.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry(), promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		// A slow scrape must not pile up collectors reading the core.
		MaxRequestsInFlight: 4,
		Timeout:             30 * time.Second,
	}))
	s.api.routes(mux)
	// The web console: its page at /, its assets under /console/. It
	// calls the API above with the operator's credentials.
	mux.Handle("/", console.Handler())
	s.http = &http.Server{
		Handler:           escapedSlashes(mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	return s
}

// Attach starts serving the JSON API from the recovered node; until then
// it answers 503 (but /api/tasks, which shows the recovery's progress).
func (s *Server) Attach(b Backend) { s.api.attach(b) }

// Handler is the server's routes, for tests that serve them elsewhere.
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Serve accepts on ln until Shutdown; it returns nil after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin http: %w", err)
	}
	return nil
}

// Shutdown stops accepting and waits for in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("admin http shutdown: %w", err)
	}
	return nil
}
