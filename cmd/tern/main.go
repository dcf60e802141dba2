// Command tern is the Tern broker: `tern serve` runs a node. With no
// flags it runs on the embedded default: data under ./data, Kafka on
// :9092, fsync before every acknowledgement.
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
	"syscall"

	"github.com/ternmq/tern/internal/config"
	"github.com/ternmq/tern/internal/server"
)

const usage = `tern — a Kafka-compatible message broker

Usage:
  tern serve [flags]     run a broker node (tern serve --help for flags)
  tern version           print the version

Configuration comes from the embedded default, then a config file
(--config or TERN_CONFIG), then TERN_* environment variables, then flags.
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

func run(args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], environ, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "tern", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "tern: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func serve(args, environ []string, stderr io.Writer) int {
	cfg, err := config.Load(args, environ, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "tern serve: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: server.LogLevel(cfg.LogLevel)}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	node, err := server.Start(cfg, logger)
	if err != nil {
		logger.Error("start failed", "err", err)
		return 1
	}
	logger.Info("tern is ready", "version", version, "kafka", node.KafkaAddr(), "amqp", node.AMQPAddr(), "http", node.HTTPAddr())
	werr := node.Wait(ctx)
	stop()
	if werr != nil {
		logger.Error("listener failed", "err", werr)
	}
	if err := node.Shutdown(); err != nil {
		logger.Error("shutdown", "err", err)
		return 1
	}
	if werr != nil {
		return 1
	}
	return 0
}
