package core

import (
	"context"
	"io"
)

// API is everything island does for a user, one method per use case. The
// command line, the daemon's HTTP API and its web pages all go through it.
//
// There are two implementations: *Core, which holds the repo in this
// process, and api.Client, which sends each call to the daemon holding the
// repo. A program cannot tell them apart by their results; the shared suite
// in this package's tests and the CLI's with-and-without-daemon table prove
// it. What belongs to the caller stays with the caller: files to add, a
// site to publish and a CAR to import are streamed in; files to write, CARs
// and cat's bytes are streamed out; no method takes a path on the caller's
// disk, and DNSLink overrides (the caller's IPFS_NS_MAP) travel in Lookup.
//
// Methods that take long report progress through a function in their
// request; it is called from the method's goroutine and must be cheap.
// Errors are *Error values (or wrap one) whose Code says what kind of
// failure it is: the CLI maps codes to exit statuses, the HTTP API to
// statuses, each in one place.
type API interface {
	// Add imports every top-level entry of req.Files as one root (like
	// `ipfs add -r` with the unixfs-v1-2025 profile), all or nothing, and
	// holds each root for the user; online, it announces them.
	Add(ctx context.Context, req AddRequest) (Added, error)
	// Cat streams the bytes of the file at req.Path.
	Cat(ctx context.Context, req PathRequest) (io.ReadCloser, error)
	// Ls lists the directory at req.Path.
	Ls(ctx context.Context, req PathRequest) ([]LsEntry, error)
	// Fetch brings the whole DAG at req.Path into the repo (from peers,
	// online; offline it only resolves the path) and says what it is.
	Fetch(ctx context.Context, req FetchRequest) (Fetched, error)
	// Get returns the file, directory or symlink at req.Path as a tree to
	// write out; its blocks are read (online: fetched) as it is walked.
	Get(ctx context.Context, req PathRequest) (Tree, error)
	// DagImport stores every block of a CAR (v1 or v2), all or nothing,
	// and holds its roots for the user.
	DagImport(ctx context.Context, req DagImportRequest) (DagImported, error)
	// DagExport streams the DAG at req.Path as a CARv1.
	DagExport(ctx context.Context, req PathRequest) (io.ReadCloser, error)

	// PinAdd fetches (online) and holds the DAG at req.Path for the user.
	PinAdd(ctx context.Context, req PinAddRequest) (PinAdded, error)
	// PinRm drops the user's hold on req.Path; what others hold stays.
	PinRm(ctx context.Context, req PathRequest) (PinRemoved, error)
	// PinLs lists the pinned CIDs and who holds each: direct pins first,
	// then recursive ones, each sorted by CID.
	PinLs(ctx context.Context, req PinLsRequest) ([]Pin, error)
	// GC removes every block that nothing holds.
	GC(ctx context.Context) (GCResult, error)
	// RepoVerify re-hashes every block and walks every pinned DAG.
	RepoVerify(ctx context.Context) (VerifyReport, error)
	// RepoStat says how much of its quota the repo uses.
	RepoStat(ctx context.Context) (RepoStat, error)

	// Publish imports a rendered site as the new version of a key's site:
	// held by the site, recorded in its signed history, its IPNS name
	// pointed at it, announced and (online, on request) checked to be
	// retrievable by another peer.
	Publish(ctx context.Context, req PublishRequest) (Published, error)
	// History lists a site's published versions, oldest first.
	History(ctx context.Context, req HistoryRequest) (History, error)
	// Rollback makes an older version current again, as a new version.
	Rollback(ctx context.Context, req RollbackRequest) (RolledBack, error)
	// HistoryExport streams a site's signed history, its name's record and
	// every version's blocks as one CAR, to carry the site to another
	// machine (with the key: KeyExport).
	HistoryExport(ctx context.Context, req HistoryRequest) (io.ReadCloser, error)
	// HistoryImport checks and keeps a history export from another machine.
	HistoryImport(ctx context.Context, req HistoryImportRequest) (HistoryImported, error)

	// NamePublish signs and stores an IPNS record pointing a key's name at
	// a path; online it is put to the DHT too.
	NamePublish(ctx context.Context, req NamePublishRequest) (NamePublished, error)
	// NameResolve resolves an IPNS name or DNSLink domain to an /ipfs/ path.
	NameResolve(ctx context.Context, req NameResolveRequest) (Resolved, error)
	// RoutingPut validates and stores a signed IPNS record made elsewhere.
	RoutingPut(ctx context.Context, req RoutingPutRequest) (RecordStored, error)
	// RoutingGet returns the signed bytes of the best record known for a name.
	RoutingGet(ctx context.Context, req RoutingGetRequest) ([]byte, error)

	// KeyGen creates a named Ed25519 key.
	KeyGen(ctx context.Context, req KeyRequest) (Key, error)
	// KeyLs lists the keys, the node's own ("self") first.
	KeyLs(ctx context.Context) ([]Key, error)
	// KeyRm deletes a named key (never self).
	KeyRm(ctx context.Context, req KeyRequest) (Key, error)
	// KeyExport returns a key's private key as Kubo's `ipfs key export`
	// writes it (libp2p-protobuf-cleartext), to move a site's name to
	// another machine.
	KeyExport(ctx context.Context, req KeyRequest) ([]byte, error)
	// KeyImport stores a private key exported by island or Kubo (protobuf,
	// or PEM PKCS #8) under a new name.
	KeyImport(ctx context.Context, req KeyImportRequest) (Key, error)

	// Follow starts following a name: the daemon keeps its newest version
	// held and its record alive.
	Follow(ctx context.Context, req FollowRequest) (Followed, error)
	// FollowLs lists the followed names and what the follower last did.
	FollowLs(ctx context.Context) ([]Follow, error)
	// Unfollow stops following a name; the daemon then drops its holds.
	Unfollow(ctx context.Context, req FollowRequest) (Unfollowed, error)

	// RemoteServiceAdd configures a remote pinning service.
	RemoteServiceAdd(ctx context.Context, req RemoteService) (RemoteServiceAdded, error)
	// RemoteServiceLs lists the configured services (never their tokens).
	RemoteServiceLs(ctx context.Context) ([]RemoteService, error)
	// RemoteServiceRm forgets a configured service.
	RemoteServiceRm(ctx context.Context, req RemoteServiceRmRequest) error
	// RemotePinAdd asks a service to pin a path and, unless Background,
	// waits until it is pinned or failed.
	RemotePinAdd(ctx context.Context, req RemotePinAddRequest) (RemotePinAdded, error)
	// RemotePinLs lists a service's pin requests.
	RemotePinLs(ctx context.Context, req RemotePinLsRequest) ([]RemotePin, error)
	// RemotePinRm removes a pin request from a service.
	RemotePinRm(ctx context.Context, req RemotePinRmRequest) error

	// ID is the node's peer ID, mode and dialable addresses.
	ID(ctx context.Context) (Identity, error)
	// Peers lists connected peers; it needs a running node.
	Peers(ctx context.Context) ([]Peer, error)
	// ProvideStat says what the node announces; it needs a running node.
	ProvideStat(ctx context.Context) (ProvideStat, error)
	// Status is the node at a glance: identity, site, peers, providing, follows.
	Status(ctx context.Context) (Status, error)
}
