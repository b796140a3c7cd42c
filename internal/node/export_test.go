package node

// SetWalkBounds lowers the bounds of a Fetch's walk (maxHeldLinks,
// maxSeen) until the returned function restores them.
func SetWalkBounds(held, seen int) (restore func()) {
	oldHeld, oldSeen := maxHeldLinks, maxSeen
	maxHeldLinks, maxSeen = held, seen
	return func() { maxHeldLinks, maxSeen = oldHeld, oldSeen }
}
