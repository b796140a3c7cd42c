// Package names owns island's naming: IPNS records (signing, validating,
// putting to and reading from routing, caching), DNSLink resolution with
// offline overrides, the signed version history of a published site
// (history, rollback, gc roots) and the follow manager that keeps friends'
// sites pinned and their records alive while the authors are offline.
//
// It builds on boxo/ipns and boxo/namesys and takes everything else it needs
// (routing, datastore, fetch/pin/provide) through its Config and
// FollowConfig, so it depends on no other island package.
//
// Datastore layout (the root datastore, shared with others):
//
//	/ipns/<base32 peer ID>            best known IPNS record per name (namesys's own key)
//	/island/history/<name>/<seq>      signed history entries
//	/island/follow/<name>             followed names and their state
//
// The /ipns/ key is the one boxo/namesys (and so Kubo) keeps published
// records under, so a repo's records stay where those tools look for them.
package names
