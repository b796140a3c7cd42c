// Package names owns island's naming: IPNS records (signing, validating,
// putting to and reading from routing, caching) and DNSLink resolution with
// overrides, configured (Config.DNSLinkOverrides) or per request
// (WithNSMap). What is built on names lives elsewhere: the signed site
// history in package history, following friends' sites in package follow.
//
// It builds on boxo/ipns and boxo/namesys and takes routing and the
// datastore through its Config; of island it imports only the keyed mutex.
//
// Datastore layout (the root datastore, shared with others):
//
//	/ipns/<base32 peer ID>                best known IPNS record per name (namesys's own key)
//	/island/names/lifetime/<k51… name>    the lifetime a publish asked for (WithLifetime)
//
// The /ipns/ key is the one boxo/namesys (and so Kubo) keeps published
// records under, so a repo's records stay where those tools look for them.
//
// Concurrency: a System is safe for concurrent use and starts no
// goroutines. Storing a record is serialised per name (read, compare
// sequence, write), so concurrent publishes and puts of one name keep the
// newest. Resolved IPNS records are cached for their TTL, keyed by name
// only; DNSLink results are never cached, which is what keeps WithNSMap
// overrides to the request that set them.
package names
