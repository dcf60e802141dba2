package compact

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: Run's
// loop, a log's flusher, a compression encoder.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
