package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// contentTypes names the types the app uses; a file with any other
// extension is served as application/octet-stream. Explicit, so that the
// answer does not depend on the host's MIME tables (a module script served
// as text/plain is refused by browsers).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
}

// csp allows only this origin: no inline scripts, no remote anything. The
// app builds its DOM with textContent, never innerHTML; the policy is the
// second line of defence against a message payload that looks like HTML.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

type asset struct {
	body        []byte
	contentType string
	etag        string
}

type handler struct {
	assets map[string]asset // by path below static/, e.g. "js/app.js"
}

// Handler serves the console: "/" and "/console/" answer index.html, and
// "/console/<path>" the embedded file static/<path>. It is safe for
// concurrent use and holds the files in memory (they are small).
func Handler() http.Handler {
	h := &handler{assets: map[string]asset{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		h.assets[strings.TrimPrefix(p, "static/")] = asset{
			body:        body,
			contentType: ct,
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	if err != nil {
		// The files are compiled in; failing to read them is a build bug.
		panic("console: reading embedded files: " + err.Error())
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var name string
	switch p := r.URL.Path; {
	case p == "/" || p == "/console" || p == "/console/" || p == "/console/index.html":
		name = "index.html"
	case strings.HasPrefix(p, "/console/"):
		name = strings.TrimPrefix(p, "/console/")
	default:
		http.NotFound(w, r)
		return
	}
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	if name == "index.html" {
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
	}
	// ServeContent answers If-None-Match with 304, HEAD without a body and
	// Range requests; the zero modtime leaves Last-Modified out.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
