package archtest

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/ternmq/tern"

type pkg struct {
	ImportPath string
	Dir        string
	Imports    []string
	GoFiles    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func rel(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, module), "/") }

// allowed lists, per package (prefix match on the path inside the
// module), which of our packages it may import. The layering is the
// design brief's (docs/architecture.md): adapters over the core, the core
// over storage, storage over nothing of ours.
var allowed = []struct {
	from string
	to   []string
}{
	{"internal/storage/vfs", nil},
	{"internal/storage", []string{"internal/storage/vfs"}},
	{"internal/message", nil},
	{"internal/config", nil},
	{"internal/netserve", nil},
	{"internal/broker/group", nil},
	{"internal/broker/txn", nil},
	{"internal/broker/queue", nil},
	{"internal/broker/exchange", nil},
	{"internal/progress", nil},
	{"internal/tlsconf", nil},
	{"internal/tlsconf/tlstest", nil},
	// The log cleaner decodes records to compact storage's logs: it sits
	// beside storage (decision 0001), over it and message, under the core.
	{"internal/compact", []string{"internal/storage", "internal/message"}},
	{"internal/broker", []string{"internal/broker/", "internal/message", "internal/storage", "internal/progress", "internal/compact"}},
	{"internal/kafka", []string{"internal/broker", "internal/message", "internal/storage", "internal/netserve", "internal/tlsconf"}},
	{"internal/amqp/spec", nil},
	// The admin API encodes AMQP properties and Kafka record batches for
	// its publish, get and browse endpoints: it uses the leaf codecs,
	// never the protocol adapters.
	{"internal/admin", []string{"internal/broker", "internal/message", "internal/amqp/spec", "internal/progress", "internal/netserve", "internal/admin/"}},
	{"internal/amqp", []string{"internal/amqp/spec", "internal/broker", "internal/message", "internal/netserve", "internal/tlsconf"}},
	{"internal/server", []string{"internal/"}},
	{"internal/testbroker", []string{"internal/config", "internal/server", "internal/kafka", "internal/tlsconf/tlstest"}},
	{"internal/archtest", nil},
	{"cmd/tern", []string{"internal/config", "internal/server"}},
	{"cmd/ternbench", nil},
	{"test/", []string{"internal/testbroker", "internal/config", "internal/tlsconf/tlstest"}},
}

// TestImportRules fails when a package imports one of ours that its layer
// may not: storage knowing a protocol, the core importing an adapter, or
// adapters importing each other.
func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		from := rel(p.ImportPath)
		var rule []string
		found := false
		for _, a := range allowed {
			if from == a.from || strings.HasPrefix(from, a.from+"/") || (strings.HasSuffix(a.from, "/") && strings.HasPrefix(from, a.from)) {
				rule, found = a.to, true
				break
			}
		}
		if !found {
			t.Errorf("package %s has no import rule in archtest: add one", from)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			to := rel(imp)
			ok := false
			for _, r := range rule {
				ok = ok || to == r || strings.HasPrefix(to, strings.TrimSuffix(r, "/")+"/")
			}
			if !ok {
				t.Errorf("%s imports %s, which its layer may not", from, to)
			}
		}
	}
}

// TestCoreImportsNoWireTypes keeps protocol encodings out of the core and
// the storage engine.
func TestCoreImportsNoWireTypes(t *testing.T) {
	for _, p := range listPackages(t) {
		from := rel(p.ImportPath)
		if !strings.HasPrefix(from, "internal/broker") && !strings.HasPrefix(from, "internal/storage") && from != "internal/message" && from != "internal/compact" {
			continue
		}
		for _, imp := range p.Imports {
			if strings.Contains(imp, "franz-go") || strings.Contains(imp, "amqp") {
				t.Errorf("%s imports wire package %s", from, imp)
			}
		}
	}
}

// TestForbiddenCalls keeps logging on log/slog and output off stdout in
// library code: no log.Print*, fmt.Print*, or the global Prometheus
// registry outside main packages and tests.
func TestForbiddenCalls(t *testing.T) {
	forbidden := map[string]map[string]bool{
		"log":        {"Print": true, "Printf": true, "Println": true, "Fatal": true, "Fatalf": true, "Panic": true, "Panicf": true},
		"fmt":        {"Print": true, "Printf": true, "Println": true},
		"prometheus": {"MustRegister": true, "Register": true, "DefaultRegisterer": true},
	}
	for _, p := range listPackages(t) {
		from := rel(p.ImportPath)
		if strings.HasPrefix(from, "cmd/") || strings.HasPrefix(from, "test/") {
			continue
		}
		for _, f := range p.GoFiles {
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				id, ok := sel.X.(*ast.Ident)
				if ok && forbidden[id.Name][sel.Sel.Name] {
					t.Errorf("%s: %s.%s in library code; use log/slog or return the value", fset.Position(sel.Pos()), id.Name, sel.Sel.Name)
				}
				return true
			})
		}
	}
}
