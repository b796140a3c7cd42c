// Package sim is a simulated Internet of islands: N nodes in one process
// over go-libp2p's in-memory mocknet, each link with its own latency (drawn
// from an RTT distribution) and bandwidth, with churn. Most nodes are plain
// Amino DHT servers (go-libp2p-kad-dht as Kubo runs it); the publishers,
// followers and visitors are island's own node, names, follow and namesps
// code, built on a mocknet host through node.Config.Host. Intervals that
// would take days (record lifetimes, republish and reprovide periods) are
// divided by Config.TimeScale; latencies are not, so times measured within
// a scenario are real times at the given RTTs.
//
// It owns the network's construction and churn, the scenarios (each run
// once with island's behaviour and once with Kubo's), and their report: a
// table, SVG plots and the process's resource use. cmd/island-sim runs it;
// docs/scale.md says what its figures mean.
package sim
