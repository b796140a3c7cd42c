// Package testutil holds what every island test may share without linking
// the network stack: the deterministic synthetic corpus, the module root and
// its testdata/, and seeded pseudo-random bytes. Real nodes, stores and
// networks for tests are in the sub-package testnet.
package testutil
