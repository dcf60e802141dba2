package admin

// RoutePatterns lists the API's routes, for the OpenAPI test.
func RoutePatterns() []string {
	return New(Config{}, NewMetrics()).api.patterns
}
