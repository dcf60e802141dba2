package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind: the
// CLI's HTTP connections, consume --follow's long poll, serve's node.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
