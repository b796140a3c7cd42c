// Package history owns the signed version history of the sites published
// with a repo's keys: publishing a version (an IPNS record through
// names.System plus a history entry signed by the site's key, so that a
// history copied elsewhere can be checked), reading and verifying the
// history, rolling back to an earlier version under a new sequence, and the
// gc roots every version is.
//
// Datastore layout (the root datastore, shared with others):
//
//	/island/history/<name>/<seq>   one signed entry, JSON; <seq> is the
//	                               record's sequence, zero-padded to 20
//	                               digits so keys sort in publishing order
//
// Concurrency: a Store is safe for concurrent use and starts no
// goroutines. Publishing and rolling back are serialised per name, from
// reading the verified history to storing the new entry, so two publishes
// of one site cannot both append after the same version. Reads take no
// lock; an entry is written whole, so they see a history before or after
// an append.
package history
