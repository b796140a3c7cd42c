// Package follow owns following friends' sites: the followed names (IPNS
// keys or DNSLink domains) and the follower, which keeps the newest
// versions of each fetched and held on this node and re-puts the authors'
// signed records unchanged, so their sites stay reachable while they are
// offline. Resolving and re-putting go through names.System; fetching,
// holding, releasing and providing content are the caller's (RunConfig),
// told which followed name each version is for.
//
// Datastore layout (the root datastore, shared with others):
//
//	/island/follow/<name>   one followed name and the follower's state
//	                        for it (versions kept, last check, last re-put),
//	                        JSON; an unfollowed name stays, marked removed,
//	                        until the follower has released what it kept
//
// Concurrency: a Store is safe for concurrent use. Every read-modify-write
// of an entry happens under one mutex, never held while resolving,
// fetching or unpinning, so Follow and Unfollow never wait for the network.
// Run runs at most one follower at a time on the caller's goroutine; it
// checks up to RunConfig.Parallel names at once. Follow, Unfollow and Wake
// wake it without blocking. Close stops a running follower and waits for
// it; Run after Close returns ErrClosed.
package follow
