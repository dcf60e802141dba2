package kafka_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// broker, connection, long poll and client must be gone by the end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
