// Package testutil holds what island's tests share: the synthetic corpus,
// real on-disk stores in t.TempDir() and real loopback nodes. Nothing here is
// a mock; every helper builds the real thing and cleans it up with t.Cleanup.
package testutil
