// Package server assembles a Tern node: it turns the node configuration
// into the broker core's configuration, opens the core (which recovers
// every log), starts the protocol listeners, and shuts them down in order:
// stop accepting, drain in-flight requests, close the logs cleanly.
//
// It is the only package besides cmd/tern that sees every layer; the
// layers themselves import downward only (docs/architecture.md).
package server
