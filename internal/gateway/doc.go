// Package gateway owns island's local HTTP gateway: the IPFS path gateway
// (/ipfs/, /ipns/), the subdomain gateway on localhost (CID.ipfs.localhost,
// NAME.ipns.localhost), DNSLink and trustless raw/CAR/ipns-record responses.
// It serves nothing about the node: every page it serves, any site a friend
// publishes included, shares its origin, so the node's status page lives on
// the API's origin (internal/api) and the gateway's own "/" redirects there.
//
// HTTP semantics come from boxo's gateway, not from code here: this package
// assembles boxo's handler chain over a blockservice and a name system handed
// in through Config, and adds what boxo leaves to the embedder: listening and
// shutdown, an offline name system when none is handed in, error statuses for
// names that cannot be resolved and for CAR roots that cannot be fetched,
// caches of resolved /ipfs/ paths and of whole responses for small
// immutable files, and the redirect of "/" to the status page (only on the
// gateway's own host). Listening and shutdown follow
// internal/httpserver; it imports no other island package, so the node, the
// repo and the renderer are injected.
//
// The blockstore behind Config.BlockService should be wrapped with
// blockstore.NewIdStore, as Kubo's is, so that identity CIDs resolve.
package gateway
