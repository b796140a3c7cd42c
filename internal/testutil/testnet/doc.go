// Package testnet builds the real parts network tests need: island repos in
// t.TempDir() as node stores, loopback-only nodes, networks of them wired
// into each other's DHTs, and content imported with island's importer.
// Nothing here is a mock; every helper builds the real thing and cleans it
// up with t.Cleanup. It is apart from testutil so that tests which only need
// the corpus do not link libp2p.
package testnet
