package kafka

import "github.com/twmb/franz-go/pkg/kmsg"

// ApiVersions, versions 0-4.
//
// Answers with the API table (versions.go), the single source of what Tern
// speaks. A request above our range is answered in v0 with
// UNSUPPORTED_VERSION by the connection loop (KIP-511). Client software
// name and version (v3+) are accepted and not validated. No features are
// advertised: Tern has no feature-flagged behaviour yet.
func (c *conn) handleApiVersions(r *request) {
	r.respond(c.apiVersionsResponse(0))
}

func (c *conn) apiVersionsResponse(code int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.ErrorCode = code
	resp.ApiKeys = c.s.apis.versionKeys()
	return resp
}
