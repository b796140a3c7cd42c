// Package node owns island's network half: the libp2p host (TCP, QUIC,
// WebTransport, WebRTC-direct; Noise and TLS; yamux; AutoNAT v2, relay
// client, hole punching) under an explicit resource manager and a connection
// manager, the dual Kademlia DHT (Amino WAN + LAN), the sweeping provider that
// announces and reprovides content, and bitswap (client and server) with the
// block and DAG services built on it.
//
// The node does not own storage: the caller (the repo) hands it a datastore,
// a blockstore and an identity through Config, and keeps ownership of them.
// The node keeps its own state (provider schedule and keystore, DHT records)
// in that datastore under the "/node/" prefix, which nothing else uses. When
// the caller also gives a Stage (the repo's write-behind store), Fetch writes
// what it receives through it, so bulk transfers are not held to one fsync
// per block.
//
// There is one way to run a node: every Node listens, runs the dual DHT,
// bitswap and the provider. A program that must not touch the network runs
// no node at all (core.ModeOffline) and reads its repo directly.
//
// New builds everything in order and undoes what it built if a step fails;
// Close shuts it all down and waits for every goroutine it started.
package node
