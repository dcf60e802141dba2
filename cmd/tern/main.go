// Command tern is the Tern broker and its operator tool.
//
// `tern serve` runs a node; with no flags it runs on the embedded
// default: data under ./data, Kafka on :9092, AMQP on :5672, the admin
// HTTP API on :15672, fsync before every acknowledgement. Every other
// command (topic, produce, consume, group, queue, exchange, binding,
// publish, get, user, permission, vhost, cluster, connection, task) talks to a
// running node over its admin HTTP API (client.go); docs/cli.md is the
// reference.
//
// The command tree is built per call of run, so tests drive the real CLI
// with their own streams and environment and nothing is global except
// the version stamped in at link time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/server"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

// run is the whole program: it parses args, runs the command and returns
// the exit code (0 ok, 1 the command failed, 2 a usage error).
func run(args, environ []string, stdout, stderr io.Writer) int {
	a := &cli{
		environ:  envMap(environ),
		rawEnv:   environ,
		stdin:    os.Stdin,
		stdinTTY: isTerminal(os.Stdin),
		stdout:   stdout,
		stderr:   stderr,
	}
	return a.run(context.Background(), args)
}

// cli is one invocation: its streams, environment and global flags. The
// commands are closures over it.
type cli struct {
	environ map[string]string
	rawEnv  []string
	stdin   io.Reader
	// stdinTTY says whether stdin is a terminal a person can answer a
	// confirmation on.
	stdinTTY       bool
	stdout, stderr io.Writer

	// Global flags; the env fallbacks are resolved in settings.
	server, user, password, format string
	caCert                         string
	timeout                        time.Duration

	api *client // built on first use, closed when run returns
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks a mistake in how the command was called: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// runError marks a failure of a command that was called correctly: exit 1.
type runError struct{ err error }

func (e runError) Error() string { return e.err.Error() }
func (e runError) Unwrap() error { return e.err }

// exitCode ends the program with a code and nothing more printed (serve
// reports its own failures on its logger).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func (a *cli) run(ctx context.Context, args []string) int {
	root := a.newRoot()
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if a.api != nil {
		a.api.close()
	}
	if err == nil {
		return exitOK
	}
	var code exitCode
	var re runError
	switch {
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &re) && !isUsage(err):
		fmt.Fprintf(a.stderr, "tern: %v\n", err)
		return exitError
	default:
		// Flag parsing, argument counts, unknown commands, missing
		// required flags, and usageErrors from the commands themselves.
		fmt.Fprintf(a.stderr, "tern: %v\n", err)
		if cmd != nil {
			fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		return exitUsage
	}
}

func isUsage(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}

const rootLong = `tern — a message broker speaking Kafka and AMQP 0-9-1

"tern serve" runs a node. The other commands talk to a running node over
its admin HTTP API (--server, default http://localhost:15672).

Configuration of a node comes from the embedded default, then a config file
(--config or TERN_CONFIG), then TERN_* environment variables, then flags:
see "tern serve --help".`

func (a *cli) newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "tern",
		Short:         "Tern message broker and operator tool",
		Long:          rootLong,
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
		// No command: print the usage where errors go, and exit 2.
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(a.stderr)
			_ = cmd.Usage()
			return exitCode(exitUsage)
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if a.format != "table" && a.format != "json" {
				return usageErrorf("--format must be table or json, not %q", a.format)
			}
			return nil
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetIn(a.stdin)
	root.SetVersionTemplate("tern {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	pf := root.PersistentFlags()
	pf.StringVar(&a.server, "server", defaultServer, "admin API base URL (env TERN_SERVER)")
	pf.StringVar(&a.user, "user", "guest", "admin API user, an administrator (env TERN_USER)")
	pf.StringVar(&a.password, "password", "guest", "admin API password (env TERN_PASSWORD)")
	pf.StringVar(&a.caCert, "cacert", "", "PEM CA file to trust for an https:// --server (env TERN_CACERT); default: the system's")
	pf.StringVar(&a.format, "format", "table", "output: table for people, json for scripts")
	pf.DurationVar(&a.timeout, "timeout", 30*time.Second, "time limit of each request to the admin API")
	_ = root.RegisterFlagCompletionFunc("format", fixedCompletion("table", "json"))

	root.AddCommand(
		a.serveCmd(),
		a.versionCmd(),
		a.topicCmd(),
		a.produceCmd(),
		a.consumeCmd(),
		a.groupCmd(),
		a.queueCmd(),
		a.exchangeCmd(),
		a.bindingCmd(),
		a.publishCmd(),
		a.getCmd(),
		a.userCmd(),
		a.permissionCmd(),
		a.vhostCmd(),
		a.clusterCmd(),
		a.connectionCmd(),
		a.taskCmd(),
	)
	markRunErrors(root)
	return root
}

// markRunErrors wraps every command's RunE so that its errors exit 1
// unless the command said they are usage errors; errors cobra makes
// itself (flags, argument counts) stay unmarked and exit 2.
func markRunErrors(c *cobra.Command) {
	if fn := c.RunE; fn != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			err := fn(cmd, args)
			var code exitCode
			if err == nil || isUsage(err) || errors.As(err, &code) {
				return err
			}
			return runError{err}
		}
	}
	for _, sub := range c.Commands() {
		markRunErrors(sub)
	}
}

// groupCommand is a command that only holds subcommands: alone it prints
// its help; with an unknown subcommand it is a usage error.
func groupCommand(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	c.AddCommand(subs...)
	return c
}

func (a *cli) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(a.stdout, "tern", version)
			return nil
		},
	}
}

// serveCmd runs a node. Its flags belong to internal/config (a
// flag.FlagSet), so cobra passes the arguments through untouched and
// `tern serve --help` prints config's help.
func (a *cli) serveCmd() *cobra.Command {
	c := &cobra.Command{
		Use:                "serve [flags]",
		Short:              "Run a broker node (tern serve --help for its flags)",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := a.serve(cmd.Context(), args); code != exitOK {
				return exitCode(code)
			}
			return nil
		},
	}
	// `tern help serve` shows the same text as `tern serve --help`.
	c.SetHelpFunc(func(cmd *cobra.Command, _ []string) {
		_, _ = config.Load([]string{"--help"}, a.rawEnv, a.stderr)
	})
	return c
}

func (a *cli) serve(ctx context.Context, args []string) int {
	cfg, err := config.Load(args, a.rawEnv, a.stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "tern serve: %v\n", err)
		return exitUsage
	}
	logger := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: server.LogLevel(cfg.LogLevel)}))
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	node, err := server.Start(cfg, logger, server.WithVersion(version))
	if err != nil {
		logger.Error("start failed", "err", err)
		return exitError
	}
	logger.Info("tern is ready", "version", version, "kafka", node.KafkaAddr(), "amqp", node.AMQPAddr(), "http", node.HTTPAddr())
	werr := node.Wait(ctx)
	stop()
	if werr != nil {
		logger.Error("listener failed", "err", werr)
	}
	if err := node.Shutdown(); err != nil {
		logger.Error("shutdown", "err", err)
		return exitError
	}
	if werr != nil {
		return exitError
	}
	return exitOK
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// isTerminal reports whether f is a character device (a terminal), the
// standard library's way without golang.org/x/term.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
