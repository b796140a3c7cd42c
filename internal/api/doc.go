// Package api owns island's local control API: the HTTP server a daemon runs
// on 127.0.0.1 so that every CLI command can run inside the daemon (which
// holds the repo lock) with the same results as without one, plus the client
// that the CLI uses to reach it.
//
// Any web page the user opens can send requests to 127.0.0.1, so the server
// refuses what a browser would send on a page's behalf: a Host that is not a
// loopback name (DNS rebinding), a foreign Origin or Sec-Fetch-Site
// (cross-site requests), and commands sent by anything but POST (which a page
// cannot send cross-origin without a CORS preflight this server never grants).
// This mirrors Kubo's RPC rules.
//
// A command's output is streamed back as frames (stdout, stderr, exit status)
// so that progress bars and long listings arrive while the command runs.
package api
