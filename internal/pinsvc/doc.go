// Package pinsvc owns island's side of the IPFS Pinning Service API
// (https://ipfs.github.io/pinning-services-api-spec/): a Server the daemon
// mounts so that a friend's Kubo (`ipfs pin remote add`) or island can ask
// this node to fetch and pin their content, and a Client for `island pin
// remote …` that talks to any such service.
//
// The server authenticates every request with one bearer token (a 0600
// file, LoadOrCreateToken), keeps pin requests in the datastore so they
// survive restarts, and pins asynchronously with a bounded worker pool
// (queued → pinning → pinned or failed). Everything a caller can make it
// spend is bounded: body size, pending requests, stored requests, workers,
// time per pin.
//
// Pinning itself is the caller's (Config.Pin and Config.Unpin), told which
// request each pin is for, so that a node can record who holds a pin; a
// replaced request's pin is released under the replaced request's ID once
// its replacement settles. PinnedRequests reads the same records without a
// Server.
//
// Datastore layout (the root datastore, shared with others):
//
//	/island/pinsvc/requests/<request ID>   one pin request, JSON
//
// Concurrency: a Server's request table is guarded by one mutex, held only
// for in-memory work and the datastore write that records a change, never
// while Pin or Unpin runs. Handlers and workers are safe to run at once;
// Close waits for the workers.
//
// The client wraps boxo's pinning/remote/client, the client Kubo uses.
package pinsvc
