// Package gateway owns island's local HTTP gateway: the IPFS path gateway
// (/ipfs/, /ipns/), the subdomain gateway on localhost (CID.ipfs.localhost,
// NAME.ipns.localhost), DNSLink, trustless raw/CAR/ipns-record responses, and
// the node's status page at / with its JSON twin at /api/status.
//
// HTTP semantics come from boxo's gateway, not from code here: this package
// assembles boxo's handler chain over a blockservice and a name system handed
// in through Config, and adds what boxo leaves to the embedder: listening and
// shutdown, an offline name system when none is handed in, error statuses for
// names that cannot be resolved and for CAR roots that cannot be fetched,
// caches of resolved /ipfs/ paths and of whole responses for small
// immutable files, and the status page (only on the gateway's own host,
// never readable by other origins). Listening and shutdown follow
// internal/httpserver; it imports no other island package, so the node, the
// repo and the renderer are injected.
//
// The blockstore behind Config.BlockService should be wrapped with
// blockstore.NewIdStore, as Kubo's is, so that identity CIDs resolve.
package gateway
