package spec

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsCurrent regenerates methods_gen.go from the XML of
// the amqp091-go version in go.mod and fails if the checked-in file
// differs: run `go generate ./internal/amqp/spec` and commit the result.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator with go run")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	// Read the generator's source so that go test's result cache, which
	// tracks files the test opens, reruns this test when it changes.
	if _, err := os.ReadFile(filepath.Join("gen", "main.go")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "methods_gen.go")
	cmd := exec.Command(goBin, "run", "./gen", "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./gen: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("methods_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("methods_gen.go is stale: run `go generate ./internal/amqp/spec` and commit the result")
	}
}
