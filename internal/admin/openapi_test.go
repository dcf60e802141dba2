package admin_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ternmq/tern/internal/admin"
	"github.com/ternmq/tern/internal/testbroker"
)

// The OpenAPI document (openapi.json, served at /api/openapi.json) must
// describe exactly the routes the API registers. These tests keep the two
// in step: adding, removing or renaming a route without the document (or
// the other way round) fails here.

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// loadOpenAPI reads the document as written in the source tree.
func loadOpenAPI(t *testing.T) ([]byte, map[string]any) {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return raw, doc
}

// oaObject is v as a JSON object, or fails the test naming where.
func oaObject(t *testing.T, v any, where string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: want a JSON object, have %T", where, v)
	}
	return m
}

// oaDuplicateKeys finds keys repeated within one object, which
// encoding/json would silently collapse (a hand-edited path written twice
// would hide its first version).
func oaDuplicateKeys(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k := kt.(string)
				if seen[k] {
					return fmt.Errorf("key %q appears twice in %s", k, path)
				}
				seen[k] = true
				if err := walk(path + "/" + k); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(fmt.Sprintf("%s/%d", path, i)); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	if err := walk("#"); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("data after the document: %v", err)
	}
	return nil
}

func TestOpenAPIDocument(t *testing.T) {
	raw, doc := loadOpenAPI(t)
	if err := oaDuplicateKeys(raw); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if v, _ := doc["openapi"].(string); !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(v) {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	info := oaObject(t, doc["info"], "info")
	for _, k := range []string{"title", "version", "description"} {
		if s, _ := info[k].(string); s == "" {
			t.Errorf("info.%s is empty", k)
		}
	}
	comps := oaObject(t, doc["components"], "components")
	schemes := oaObject(t, comps["securitySchemes"], "components.securitySchemes")
	basic := oaObject(t, schemes["basicAuth"], "components.securitySchemes.basicAuth")
	if basic["type"] != "http" || basic["scheme"] != "basic" {
		t.Errorf("basicAuth = %v, want HTTP basic", basic)
	}
	for _, name := range []string{"Error", "Topic", "TopicDetail", "Record", "ReadAnswer", "Group", "GroupDetail", "Queue", "Exchange", "Binding", "User", "Permission", "Overview"} {
		if _, ok := oaObject(t, comps["schemas"], "components.schemas")[name]; !ok {
			t.Errorf("components.schemas has no %s", name)
		}
	}
}

// resolveOpenAPIRef follows a local reference ("#/components/...").
func resolveOpenAPIRef(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("%q is not a reference inside the document", ref)
	}
	var cur any = doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q: %q is not inside an object", ref, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%q: no %q", ref, tok)
		}
	}
	return cur, nil
}

// deref is v, or what it refers to when it is a {"$ref": ...}.
func deref(t *testing.T, doc map[string]any, v any, where string) map[string]any {
	t.Helper()
	m := oaObject(t, v, where)
	if ref, ok := m["$ref"].(string); ok {
		r, err := resolveOpenAPIRef(doc, ref)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		return oaObject(t, r, ref)
	}
	return m
}

func TestOpenAPIRoutes(t *testing.T) {
	_, doc := loadOpenAPI(t)
	registered := map[string]bool{}
	for _, p := range admin.RoutePatterns() {
		method, path, ok := strings.Cut(p, " ")
		if !ok || method != strings.ToUpper(method) || !strings.HasPrefix(path, "/api/") {
			t.Errorf("route pattern %q is not \"METHOD /api/...\"; the OpenAPI document cannot describe it", p)
			continue
		}
		if registered[p] {
			t.Errorf("route %q registered twice", p)
		}
		registered[p] = true
	}
	if len(registered) == 0 {
		t.Fatal("admin.RoutePatterns() is empty")
	}

	documented := map[string]bool{}
	opIDs := map[string]string{}
	paramName := regexp.MustCompile(`\{([^{}]+)\}`)
	for path, item := range oaObject(t, doc["paths"], "paths") {
		pi := oaObject(t, item, "paths."+path)
		var pathParams []any
		if ps, ok := pi["parameters"]; ok {
			pathParams, _ = ps.([]any)
		}
		for key, opv := range pi {
			if key == "parameters" || key == "summary" || key == "description" || key == "servers" {
				continue
			}
			if !slices.Contains(openAPIMethods, key) {
				t.Errorf("paths.%s: unknown key %q", path, key)
				continue
			}
			route := strings.ToUpper(key) + " " + path
			where := "paths." + path + "." + key
			documented[route] = true
			op := oaObject(t, opv, where)

			if id, _ := op["operationId"].(string); id == "" {
				t.Errorf("%s has no operationId", where)
			} else if prev, dup := opIDs[id]; dup {
				t.Errorf("operationId %q used by %s and %s", id, prev, route)
			} else {
				opIDs[id] = route
			}

			// The path's {wildcards} and the declared path parameters
			// are the same set, each required.
			want := map[string]bool{}
			for _, m := range paramName.FindAllStringSubmatch(path, -1) {
				want[m[1]] = true
			}
			have := map[string]bool{}
			opParams, _ := op["parameters"].([]any)
			for i, pv := range append(slices.Clone(pathParams), opParams...) {
				p := deref(t, doc, pv, fmt.Sprintf("%s.parameters[%d]", where, i))
				if p["in"] != "path" {
					continue
				}
				name, _ := p["name"].(string)
				if !want[name] {
					t.Errorf("%s declares path parameter %q, which %s lacks", route, name, path)
				}
				if p["required"] != true {
					t.Errorf("%s: path parameter %q must be required", route, name)
				}
				have[name] = true
			}
			for name := range want {
				if !have[name] {
					t.Errorf("%s does not declare its path parameter {%s}", route, name)
				}
			}

			resps := oaObject(t, op["responses"], where+".responses")
			success := false
			for code := range resps {
				success = success || strings.HasPrefix(code, "2")
			}
			if !success {
				t.Errorf("%s documents no 2xx answer", route)
			}
		}
	}

	for _, r := range sortedKeys(registered) {
		if !documented[r] {
			t.Errorf("route %s is registered but not in openapi.json", r)
		}
	}
	for _, r := range sortedKeys(documented) {
		if !registered[r] {
			t.Errorf("openapi.json documents %s, which no route serves", r)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestOpenAPIRefs(t *testing.T) {
	_, doc := loadOpenAPI(t)
	used := map[string]bool{}
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"]; ok {
				s, _ := ref.(string)
				if _, err := resolveOpenAPIRef(doc, s); err != nil {
					t.Errorf("%s: $ref %v", where, err)
				}
				kind := strings.Split(strings.TrimPrefix(s, "#/components/"), "/")[0]
				if !strings.HasPrefix(s, "#/components/") || !slices.Contains([]string{"schemas", "parameters", "responses"}, kind) {
					t.Errorf("%s: $ref %q does not name a component schema, parameter or response", where, s)
				}
				used[s] = true
			}
			for k, e := range v {
				walk(e, where+"/"+k)
			}
		case []any:
			for i, e := range v {
				walk(e, fmt.Sprintf("%s/%d", where, i))
			}
		}
	}
	walk(doc, "#")
	if len(used) == 0 {
		t.Fatal("no $ref in the document")
	}
	// A component nothing refers to is a leftover of a removed route or
	// field: the document would describe what the API no longer has.
	comps := oaObject(t, doc["components"], "components")
	for _, kind := range []string{"schemas", "parameters", "responses"} {
		for name := range oaObject(t, comps[kind], "components."+kind) {
			if ref := "#/components/" + kind + "/" + name; !used[ref] {
				t.Errorf("%s is defined but never referenced", ref)
			}
		}
	}
}

// fetchOpenAPI GETs the document from base without credentials.
func fetchOpenAPI(t *testing.T, base string) (int, string, []byte) {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(base + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

func TestOpenAPIServed(t *testing.T) {
	raw, _ := loadOpenAPI(t)
	b := testbroker.Start(t)
	code, ctype, body := fetchOpenAPI(t, "http://"+b.HTTPAddr)
	if code != http.StatusOK || ctype != "application/json" {
		t.Fatalf("GET /api/openapi.json without credentials = %d %q, want 200 application/json", code, ctype)
	}
	if !bytes.Equal(body, raw) {
		t.Fatalf("GET /api/openapi.json served %d bytes that differ from openapi.json (%d bytes)", len(body), len(raw))
	}
}

// TestOpenAPIServedDuringRecovery: before Attach every other route
// answers 503, but the document needs nothing of the node's.
func TestOpenAPIServedDuringRecovery(t *testing.T) {
	raw, _ := loadOpenAPI(t)
	ts := httptest.NewServer(admin.New(admin.Config{}, admin.NewMetrics()).Handler())
	defer ts.Close()
	code, _, body := fetchOpenAPI(t, ts.URL)
	if code != http.StatusOK || !bytes.Equal(body, raw) {
		t.Fatalf("GET /api/openapi.json while recovering = %d (%d bytes), want 200 and the document", code, len(body))
	}
}
