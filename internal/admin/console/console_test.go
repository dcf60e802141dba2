package console

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, r)
	return w
}

func TestIndexIsServedAtRootAndConsoleFolder(t *testing.T) {
	for _, p := range []string{"/", "/console/", "/console"} {
		w := serve(t, http.MethodGet, p, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200", p, w.Code)
		}
		if got := w.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("GET %s Content-Type = %q", p, got)
		}
		if got := w.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s Cache-Control = %q, want no-cache", p, got)
		}
		if got := w.Header().Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'self'") {
			t.Errorf("GET %s Content-Security-Policy = %q", p, got)
		}
		if !strings.Contains(w.Body.String(), `<script type="module" src="/console/js/app.js">`) {
			t.Errorf("GET %s: body does not load the app module:\n%s", p, w.Body.String())
		}
	}
}

func TestAssetsHaveTheirContentTypes(t *testing.T) {
	for p, want := range map[string]string{
		"/console/js/app.js":           "text/javascript; charset=utf-8",
		"/console/js/pages/queues.js":  "text/javascript; charset=utf-8",
		"/console/console.css":         "text/css; charset=utf-8",
		"/console/favicon.svg":         "image/svg+xml",
		"/console/index.html":          "text/html; charset=utf-8",
		"/console/js/pages/browser.js": "text/javascript; charset=utf-8",
	} {
		w := serve(t, http.MethodGet, p, nil)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", p, w.Code)
			continue
		}
		if got := w.Header().Get("Content-Type"); got != want {
			t.Errorf("GET %s Content-Type = %q, want %q", p, got, want)
		}
		if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s X-Content-Type-Options = %q", p, got)
		}
		if w.Body.Len() == 0 {
			t.Errorf("GET %s: empty body", p)
		}
	}
}

func TestUnchangedAssetRevalidatesWith304(t *testing.T) {
	first := serve(t, http.MethodGet, "/console/js/app.js", nil)
	etag := first.Header().Get("ETag")
	if etag == "" || first.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q: want an ETag and no-cache", etag, first.Header().Get("Cache-Control"))
	}
	again := serve(t, http.MethodGet, "/console/js/app.js", map[string]string{"If-None-Match": etag})
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Fatalf("revalidation = %d with %d bytes, want 304 and no body", again.Code, again.Body.Len())
	}
	other := serve(t, http.MethodGet, "/console/console.css", nil).Header().Get("ETag")
	if other == etag {
		t.Fatalf("two different files share the ETag %s", etag)
	}
}

func TestOnlyTheAppIsServed(t *testing.T) {
	for _, p := range []string{"/index.html", "/favicon.ico", "/api/topics", "/consolex/js/app.js",
		"/console/nope.js", "/console/js/", "/console/../console.go", "/console/static/index.html"} {
		if w := serve(t, http.MethodGet, p, nil); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, w.Code)
		}
	}
	if w := serve(t, http.MethodPost, "/", nil); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST / = %d Allow %q, want 405 with Allow: GET, HEAD", w.Code, w.Header().Get("Allow"))
	}
	if w := serve(t, http.MethodHead, "/", nil); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("HEAD / = %d with %d bytes, want 200 without a body", w.Code, w.Body.Len())
	}
}

// TestReferencedFilesExist follows every asset the page and the modules
// name — a renamed module would otherwise break the app only in a browser.
func TestReferencedFilesExist(t *testing.T) {
	files := map[string]bool{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files[p] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	index, _ := static.ReadFile("static/index.html")
	for _, m := range regexp.MustCompile(`(?:src|href)="(/console/[^"]+)"`).FindAllStringSubmatch(string(index), -1) {
		if p := "static/" + strings.TrimPrefix(m[1], "/console/"); !files[p] {
			t.Errorf("index.html names %s: no such embedded file %s", m[1], p)
		}
	}
	imports := regexp.MustCompile(`(?m)^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'`)
	n := 0
	for p := range files {
		if path.Ext(p) != ".js" {
			continue
		}
		src, _ := static.ReadFile(p)
		for _, m := range imports.FindAllStringSubmatch(string(src), -1) {
			n++
			if !strings.HasPrefix(m[1], "./") && !strings.HasPrefix(m[1], "../") {
				t.Errorf("%s imports %q: only relative imports of embedded modules are allowed", p, m[1])
				continue
			}
			if target := path.Join(path.Dir(p), m[1]); !files[target] {
				t.Errorf("%s imports %s: no such embedded file %s", p, m[1], target)
			}
		}
	}
	if n < 10 {
		t.Fatalf("found only %d imports: the pattern no longer matches the modules", n)
	}
}

// TestNothingIsFetchedFromTheNetwork keeps the console usable where the
// broker has no internet: no CDN, no web fonts, no remote scripts.
func TestNothingIsFetchedFromTheNetwork(t *testing.T) {
	url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, _ := static.ReadFile(p)
		for _, m := range url.FindAllString(string(src), -1) {
			if m == "http://www.w3.org" { // the SVG namespace, not a fetch
				continue
			}
			t.Errorf("%s refers to %s: the console must not load anything from the network", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
