// Package console is Tern's web console: a single-page application of
// plain HTML, CSS and ES modules, embedded in the binary and served by the
// admin HTTP listener next to the JSON API it drives (/api/*; the admin
// package serves its OpenAPI document at /api/openapi.json).
//
// There is no build step and no package manager: the files under static/
// are what the browser runs, so editing one and reloading is the whole
// workflow. Nothing is fetched from the network at run time — brokers
// often run where there is no internet — so the app carries its own
// styles and draws its charts as inline SVG.
//
// Routes (the admin server mounts Handler for "GET /" and "GET /console/"):
//
//	/                 index.html (Cache-Control: no-cache)
//	/console/         index.html as well, so a bookmark of the app's folder works
//	/console/<path>   static/<path>: JavaScript modules, CSS, images
//
// Every other path is 404, so a mistyped API URL does not answer with the
// app's HTML. Assets carry a strong ETag (a hash of their bytes) and
// Cache-Control: no-cache: a browser revalidates each load and gets a 304
// until the binary changes, so an upgrade never runs a stale script.
//
// The app authenticates every API call with HTTP Basic credentials kept in
// sessionStorage; the handler itself needs no authentication and serves
// only these public, static files.
//
// Imports: the standard library only.
package console
