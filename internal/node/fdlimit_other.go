//go:build !unix

package node

// fdLimit is unknown here; the resource manager then uses its minimum.
func fdLimit() int { return 0 }
