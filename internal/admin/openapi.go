package admin

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPIDoc is the OpenAPI 3.1 document of the JSON API. A test checks
// that it describes exactly the routes registered (api.patterns), and that
// every $ref in it resolves.
//
//go:embed openapi.json
var openAPIDoc []byte

// serveOpenAPI answers GET /api/openapi.json. It needs no credentials and
// works during recovery: the document holds nothing of the node's.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPIDoc)))
	_, _ = w.Write(openAPIDoc)
}
