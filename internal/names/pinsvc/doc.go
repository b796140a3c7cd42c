// Package pinsvc owns island's side of the IPFS Pinning Service API
// (https://ipfs.github.io/pinning-services-api-spec/): a Server the daemon
// mounts so that a friend's Kubo (`ipfs pin remote add`) or island can ask
// this node to fetch and pin their content, and a Client for `island pin
// remote …` that talks to any such service.
//
// The server authenticates every request with one bearer token (a 0600
// file, LoadOrCreateToken), keeps pin requests in the datastore under
// /island/pinsvc/ so they survive restarts, and pins asynchronously with a
// bounded worker pool (queued → pinning → pinned or failed). Everything a
// caller can make it spend is bounded: body size, pending requests, stored
// requests, workers, time per pin.
//
// The client wraps boxo's pinning/remote/client, the client Kubo uses.
package pinsvc
