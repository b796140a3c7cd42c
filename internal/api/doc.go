// Package api owns the daemon's HTTP API: a server that offers core.API to
// local programs (the CLI, scripts, the dashboard) and a Client that
// implements core.API by calling it, so a command gives the same result
// whether it runs in-process or through the daemon. The routes, their
// request and response bodies and their errors are described in
// openapi.yaml (served at /api/v1/openapi.yaml); a test holds the file to
// the routes and types. The publisher's dashboard (GET /, dashboard.go) is served here
// too, on the API's origin, so that no page the gateway serves can read it.
//
// The wire format is typed: a JSON body in, a JSON body out, except where
// bytes are the point: files to add and a site to publish go in as a
// multipart/mixed stream of files (boxo/files, as Kubo sends them), a CAR
// goes in as application/vnd.ipld.car, and cat, dag export, routing get and
// get stream bytes out. Operations that report progress answer with
// application/x-ndjson: progress lines, then one result or error line.
// Errors are {"error":{"code","message"}} with the HTTP status the code maps
// to (httpStatus, the one place); a stream that fails after it started says
// so in the Island-Error trailer.
//
// Any web page the user opens can send requests to 127.0.0.1, so the server
// refuses what a browser sends on a page's behalf, as Kubo's RPC does: a
// Host that is not a loopback name (DNS rebinding), a foreign Origin or
// Sec-Fetch-Site (cross-site requests), changes sent by anything but POST,
// and bodies of a type a page can send without a CORS preflight (which this
// server never grants). With a token configured (always when it listens
// beyond loopback), every request must also carry it as a bearer token.
package api
