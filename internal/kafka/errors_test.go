package kafka

import (
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// TestErrorCodesTable checks every core sentinel in the table maps to its
// code even when wrapped, that no code is the catch-all, and that nil and
// unknown errors map to 0 and UNKNOWN_SERVER_ERROR.
func TestErrorCodesTable(t *testing.T) {
	seen := map[error]bool{}
	for _, e := range errorCodes {
		if seen[e.err] {
			t.Errorf("%v listed twice", e.err)
		}
		seen[e.err] = true
		wrapped := fmt.Errorf("context: %w", e.err)
		if got := errCode(wrapped); got != e.code.Code {
			t.Errorf("%v → %v, want %v", e.err, kerr.ErrorForCode(got), e.code)
		}
	}
	if errCode(nil) != 0 {
		t.Error("nil error has a code")
	}
	if errCode(errors.New("surprise")) != kerr.UnknownServerError.Code {
		t.Error("an unlisted error must be UNKNOWN_SERVER_ERROR")
	}
}
