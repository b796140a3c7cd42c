package core

import (
	"io"
	"time"

	"github.com/ipfs/boxo/files"

	"github.com/islandsite/island/internal/node"
)

// The request and result types of API. Their JSON form is the daemon's
// wire format (internal/api/openapi.yaml) and what `--json` prints, so field
// names are part of the contract (docs/contracts.md). CIDs, names, paths and
// multiaddrs are their string forms.

// Mode is how a Core reaches the network.
type Mode string

const (
	// ModeOffline runs no node: nothing is fetched from or announced to
	// peers (a command without a daemon, or `island daemon --offline`).
	ModeOffline Mode = "offline"
	// ModeLAN runs a node whose peers are on this machine or its local
	// network only (--bootstrap none, or bootstrap peers with private or
	// loopback addresses): the LAN DHT keeps loopback addresses.
	ModeLAN Mode = "lan"
	// ModeOnline runs a node on the public Amino DHT.
	ModeOnline Mode = "online"
)

// Duration is a time.Duration written in JSON as Go writes durations
// ("30s", "1m30s"), which people and scripts can read and type.
type Duration time.Duration

// Std is d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String is d as time.Duration writes it.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads what time.ParseDuration accepts.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Lookup says how the names in a request's paths resolve.
type Lookup struct {
	// NSMap overrides DNSLink for these domains (domain → /ipfs/… or
	// /ipns/…), as Kubo's IPFS_NS_MAP does; the CLI sends the caller's.
	NSMap map[string]string `json:"nsMap,omitempty"`
}

// PathRequest names content: CID[/sub/path], /ipfs/CID[/…] or /ipns/NAME[/…].
type PathRequest struct {
	Path string `json:"path"`
	Lookup
}

// AddRequest is what to add.
type AddRequest struct {
	// Files holds one top-level entry per root to add (a file, directory or
	// symlink each, under its own name). It is read once, in order.
	Files files.Directory `json:"-"`
	// Hidden adds files and directories whose name starts with a dot.
	Hidden bool `json:"hidden,omitempty"`
	// Progress, if set, is told the number of file bytes just read.
	Progress func(bytes int64) `json:"-"`
}

// Added is what Add stored: one root per top-level entry, in order.
type Added struct {
	Roots []AddedRoot `json:"roots"`
}

// AddedRoot is one added root and every entry below it, children before
// their directory, so the root comes last.
type AddedRoot struct {
	CID     string       `json:"cid"`
	Entries []AddedEntry `json:"entries"`
}

// AddedEntry is one added file, directory or symlink.
type AddedEntry struct {
	// Path starts with the root's name, as `ipfs add -r` prints it.
	Path string `json:"path"`
	CID  string `json:"cid"`
	// Size is the cumulative size of the entry's DAG, as `ipfs add` reports.
	Size uint64 `json:"size"`
}

// LsEntry is one entry of a directory.
type LsEntry struct {
	Name string `json:"name"`
	CID  string `json:"cid"`
	// Type is "file", "directory" or "symlink".
	Type string `json:"type"`
	Size uint64 `json:"size"`
}

// FetchRequest names a DAG to bring into the repo.
type FetchRequest struct {
	Path string `json:"path"`
	Lookup
	// Timeout gives up after this long in all; 0 waits as long as blocks
	// keep arriving.
	Timeout Duration `json:"timeout,omitzero"`
	// Progress, if set, is told how the fetch goes.
	Progress func(FetchProgress) `json:"-"`
}

// FetchProgress is how far a fetch is.
type FetchProgress struct {
	// Blocks and Bytes count the DAG's blocks now in the repo.
	Blocks int   `json:"blocks"`
	Bytes  int64 `json:"bytes"`
	// Peers counts the peers that sent blocks; Pending the blocks awaited.
	Peers   int `json:"peers"`
	Pending int `json:"pending"`
}

// Fetched is the CID a fetched path names.
type Fetched struct {
	CID string `json:"cid"`
}

// Tree is content to write out. The caller closes Node.
type Tree struct {
	CID  string     `json:"cid"`
	Node files.Node `json:"-"`
}

// DagImportRequest is one CAR file's bytes.
type DagImportRequest struct {
	CAR io.Reader `json:"-"`
	// NoPin stores the CAR's blocks, each checked against its CID, without
	// holding its roots, so their DAGs need not be complete (Kubo's
	// `dag import --pin-roots=false`). Nothing holds what it stores: gc
	// removes it.
	NoPin bool `json:"noPin,omitempty"`
}

// DagImported lists the CAR's roots, held for the user unless NoPin.
type DagImported struct {
	Roots []string `json:"roots"`
	// Blocks counts the blocks the CAR holds (each stored once).
	Blocks int `json:"blocks"`
	// Pinned says the roots are held for the user.
	Pinned bool `json:"pinned"`
}

// PinAddRequest is what to pin.
type PinAddRequest struct {
	Path string `json:"path"`
	Lookup
	// Recursive pins the whole DAG; false pins the block alone.
	Recursive bool `json:"recursive"`
	// Progress, if set, is told how fetching the DAG goes (online).
	Progress func(FetchProgress) `json:"-"`
}

// PinAdded is the CID now held for the user, and how.
type PinAdded struct {
	CID string `json:"cid"`
	// Type is "recursive" or "direct".
	Type string `json:"type"`
}

// PinRemoved is the CID the user no longer holds and who still does.
type PinRemoved struct {
	CID     string   `json:"cid"`
	HeldBy  []Holder `json:"heldBy"`
	Removed bool     `json:"removed"` // no one holds it any more
}

// PinLsRequest selects pins: Type is "all" (or ""), "recursive" or "direct".
type PinLsRequest struct {
	Type string `json:"type,omitempty"`
}

// Pin is a pinned CID and everyone holding it.
type Pin struct {
	CID string `json:"cid"`
	// Type is "recursive" if any holder pins the whole DAG, else "direct".
	Type    string   `json:"type"`
	Holders []Holder `json:"holders"`
}

// Holder is who keeps a pin: "user" (add, pin add, dag import), "site"
// (ID: the site's name), "follow" (ID: the followed name), "pinsvc" (ID:
// the pinning-service request) or "legacy" (a pin made before holders
// existed; ID: its old name).
type Holder struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
	// Type is how this holder pins: "recursive" or "direct".
	Type  string    `json:"type"`
	Since time.Time `json:"since,omitzero"`
}

// GCResult says what a collection did.
type GCResult struct {
	Removed    int    `json:"removed"`
	Kept       int    `json:"kept"`
	FreedBytes uint64 `json:"freedBytes"`
}

// VerifyReport is what RepoVerify found.
type VerifyReport struct {
	Blocks  int            `json:"blocks"`
	Corrupt []string       `json:"corrupt"`
	Missing []MissingBlock `json:"missing"`
}

// OK says whether the repo is sound.
func (v VerifyReport) OK() bool { return len(v.Corrupt) == 0 && len(v.Missing) == 0 }

// MissingBlock is a block a pinned DAG needs and the repo lacks.
type MissingBlock struct {
	Pin   string `json:"pin"`
	Block string `json:"block"`
}

// PublishRequest is a rendered site to publish.
type PublishRequest struct {
	// Key names the key whose site this is: a key name, its IPNS name, or
	// "" for the node's own ("self").
	Key string `json:"key,omitempty"`
	// Site is the rendered site: its top-level entries are the site's.
	Site files.Directory `json:"-"`
	// IfCurrent, instead of a Site, is the CID of the site the caller
	// believes is the current version (its sources unchanged since it was
	// published): when it is, the answer is Published.Unchanged as for the
	// same Site sent again; when it is not, the error's code is conflict
	// and the caller sends the Site.
	IfCurrent string `json:"ifCurrent,omitempty"`
	// Base, with a Site, is the CID of the current version the Site
	// changes: then Site holds only the files added or changed since Base
	// and Remove the paths removed, and the new version is Base with that
	// change made, the CID of sending the whole site. When Base is not the
	// current version the error's code is conflict and the caller sends
	// the whole site. A change is bounded (MaxPatchFiles, MaxPatchBytes,
	// MaxPatchRemoves): a bigger one is invalid.
	Base   string   `json:"base,omitempty"`
	Remove []string `json:"remove,omitempty"`
	// Check asks another peer to find and fetch the new version (online).
	Check bool `json:"check,omitempty"`
	// CheckTimeout bounds the check (0: 20s).
	CheckTimeout Duration `json:"checkTimeout,omitzero"`
	// Lifetime is how long each signed record of the site's name stays
	// valid, from now on (site.toml's lifetime, publish --lifetime); 0
	// keeps the name's (DefaultSiteLifetime for a first publish). Friends
	// who follow the site keep its record alive only this long while its
	// author is away.
	Lifetime Duration `json:"lifetime,omitzero"`
}

// Published is what a publish did.
type Published struct {
	CID     string `json:"cid"`
	Name    string `json:"name"` // the k51… IPNS name
	Version int    `json:"version"`
	Seq     uint64 `json:"seq"`
	// Unchanged means the site is the current version already: no new
	// version, no new record.
	Unchanged bool     `json:"unchanged"`
	URLs      []string `json:"urls"`
	// GatewayRunning is false when URLs are where a gateway would answer
	// once a daemon serves one.
	GatewayRunning bool           `json:"gatewayRunning"`
	Retrievable    Retrievability `json:"retrievable"`
	// Warning is set when the record is stored but not yet on the network.
	Warning string `json:"warning,omitempty"`
}

// Retrievability is the outcome of the "published = retrievable" check.
type Retrievability struct {
	Checked   bool   `json:"checked"`
	OK        bool   `json:"ok"`
	Via       string `json:"via,omitempty"`
	Providers int    `json:"providers,omitempty"`
	Took      string `json:"took,omitempty"`
	// Relayed says the root came through a relay: the node is behind NAT
	// and the new peer had no direct connection to it.
	Relayed bool `json:"relayed,omitempty"`
	// Reason says why it was not checked, or why it failed.
	Reason string `json:"reason,omitempty"`
	// CID is the version checked and At when (in a site's status, which
	// keeps the last check of its versions).
	CID string    `json:"cid,omitempty"`
	At  time.Time `json:"at,omitzero"`
}

// HistoryRequest names the key whose site history to read ("" for self).
type HistoryRequest struct {
	Key string `json:"key,omitempty"`
	// Changes asks each version to say what changed from the one before.
	Changes bool `json:"changes,omitempty"`
}

// HistoryImportRequest is a history export (HistoryExport's CAR) to import.
type HistoryImportRequest struct {
	CAR io.Reader `json:"-"`
}

// HistoryImported says which site's history was imported: its versions in
// all and how many were new here.
type HistoryImported struct {
	Name     string   `json:"name"`
	Versions int      `json:"versions"`
	Added    int      `json:"added"`
	Notes    []string `json:"notes,omitempty"`
}

// History is a site's versions, oldest first.
type History struct {
	Name     string    `json:"name"`
	Versions []Version `json:"versions"`
}

// Version is one published version of a site.
type Version struct {
	Version int       `json:"version"`
	CID     string    `json:"cid"`
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Prev    string    `json:"prev,omitempty"`
	Current bool      `json:"current"`
	// Changes is what changed from the version before (from nothing, for
	// the first), when the request asked for it.
	Changes *Changes `json:"changes,omitempty"`
}

// Changes is what changed from one version of a site to the next, counted
// per file (pages are the HTML files among them).
type Changes struct {
	// From is the CID of the version compared with; absent for the first.
	From         string `json:"from,omitempty"`
	Added        int    `json:"added"`
	Changed      int    `json:"changed"`
	Removed      int    `json:"removed"`
	PagesAdded   int    `json:"pagesAdded"`
	PagesChanged int    `json:"pagesChanged"`
	PagesRemoved int    `json:"pagesRemoved"`
	// BytesAdded counts added files and changed files' new contents,
	// BytesRemoved removed files and changed files' old contents.
	BytesAdded   uint64 `json:"bytesAdded"`
	BytesRemoved uint64 `json:"bytesRemoved"`
	// Files lists the first MaxListedChanges changed files; Truncated
	// says there were more.
	Files     []FileChange `json:"files"`
	Truncated bool         `json:"truncated,omitempty"`
	// Error says why the changes could not be worked out (a version whose
	// blocks the repo does not hold); the counts are then zero.
	Error string `json:"error,omitempty"`
}

// FileChange is one file added, changed or removed.
type FileChange struct {
	Path string `json:"path"`
	// Kind is "added", "changed" or "removed".
	Kind string `json:"kind"`
	// Size is the file's length in bytes (before removal, for a removed one).
	Size uint64 `json:"size"`
}

// RollbackRequest says which version to make current again (0: the one
// before the current).
type RollbackRequest struct {
	Key     string `json:"key,omitempty"`
	Version int    `json:"version,omitempty"`
}

// RolledBack is the new current version and which old one it restores.
type RolledBack struct {
	Name    string  `json:"name"`
	From    int     `json:"from"`
	Current Version `json:"current"`
	Warning string  `json:"warning,omitempty"`
}

// NamePublishRequest is a record to sign.
type NamePublishRequest struct {
	// Key is a key name or its IPNS name ("" or "self": the node's own).
	Key  string `json:"key,omitempty"`
	Path string `json:"path"`
	Lookup
	// TTL and Lifetime override the defaults (5m, 48h) when positive.
	TTL      Duration `json:"ttl,omitzero"`
	Lifetime Duration `json:"lifetime,omitzero"`
	// Resolve refuses a path whose target cannot be found.
	Resolve bool `json:"resolve"`
}

// NamePublished is the signed record and what the caller should know.
type NamePublished struct {
	Record Record `json:"record"`
	// Warning is set when the record is stored but not yet on the network.
	Warning string `json:"warning,omitempty"`
	// Notes are facts for a person (e.g. that no node is running).
	Notes []string `json:"notes,omitempty"`
}

// Record is a signed IPNS record.
type Record struct {
	Name  string    `json:"name"`
	Value string    `json:"value"`
	Seq   uint64    `json:"seq"`
	EOL   time.Time `json:"eol"`
	TTL   string    `json:"ttl,omitempty"`
}

// NameResolveRequest names what to resolve: /ipns/k51…, k51… or a domain.
type NameResolveRequest struct {
	Name string `json:"name"`
	Lookup
}

// Resolved is the /ipfs/ path a name points at; the record fields describe
// the last IPNS record on the way (none for a DNSLink straight to /ipfs).
type Resolved struct {
	Path string     `json:"path"`
	Name string     `json:"name,omitempty"`
	Seq  uint64     `json:"seq,omitempty"`
	TTL  string     `json:"ttl,omitempty"`
	EOL  *time.Time `json:"eol,omitempty"`
}

// RoutingPutRequest is a signed record (raw bytes) for /ipns/NAME.
type RoutingPutRequest struct {
	Name   string `json:"name"`
	Record []byte `json:"record"`
}

// RecordStored is the record now held, and a warning if it did not reach
// the network.
type RecordStored struct {
	Record  Record `json:"record"`
	Warning string `json:"warning,omitempty"`
}

// RoutingGetRequest names the record to read: /ipns/NAME.
type RoutingGetRequest struct {
	Name string `json:"name"`
}

// KeyRequest names a key.
type KeyRequest struct {
	Name string `json:"name"`
}

// KeyImportRequest is a private key to store under Name: the bytes of a
// file `island key export` or Kubo's `ipfs key export` wrote
// (libp2p-protobuf-cleartext, or pem-pkcs8-cleartext).
type KeyImportRequest struct {
	Name string `json:"name"`
	Key  []byte `json:"key"`
}

// Key is a signing key: its name and the IPNS name it signs (as Kubo calls
// it, ID).
type Key struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// FollowRequest names a site to follow: /ipns/k51…, k51… or a DNSLink domain.
type FollowRequest struct {
	Name string `json:"name"`
	// MaxSize bounds the bytes of a version kept (follow --max-size);
	// 0 is 1 GiB, or what the name was followed with before.
	MaxSize uint64 `json:"max_size,omitempty"`
}

// Followed is a name now followed.
type Followed struct {
	Follow Follow   `json:"follow"`
	Notes  []string `json:"notes,omitempty"`
}

// Follow is a followed name and what the follower last did with it.
type Follow struct {
	Name       string     `json:"name"`
	Added      time.Time  `json:"added"`
	LastCID    string     `json:"lastCid,omitempty"`
	LastSeq    uint64     `json:"lastSeq,omitempty"`
	LastCheck  *time.Time `json:"lastCheck,omitempty"`
	LastChange *time.Time `json:"lastChange,omitempty"`
	LastError  string     `json:"lastError,omitempty"`
	Kept       []string   `json:"kept"`
	// MaxSize bounds the bytes of a version kept (follow --max-size).
	MaxSize uint64 `json:"max_size"`
	// TooBig is the newest version not kept for being over MaxSize, until
	// a newer one is kept; LastError says so.
	TooBig string `json:"too_big,omitempty"`
	// EOL is when the author's record held here stops being valid (IPNS
	// names only): followers re-put it until then, no longer.
	EOL *time.Time `json:"eol,omitempty"`
	// Warning is set when EOL is near or past: unless the author publishes
	// again, the name stops resolving.
	Warning string `json:"warning,omitempty"`
	// Size is the newest kept version's size (its DAG's cumulative size,
	// as `ipfs add` reports it), when its root is held here.
	Size uint64 `json:"size,omitempty"`
	// RecordSeq is the sequence number of the newest author's record held
	// here (IPNS names only): RecordSeq - LastSeq is how many records the
	// kept version is behind it.
	RecordSeq uint64 `json:"recordSeq,omitempty"`
	// NextCheck is when a running follower checks the name next.
	NextCheck *time.Time `json:"nextCheck,omitempty"`
}

// Unfollowed is a name no longer followed and the versions still kept for
// it until the daemon lets them go.
type Unfollowed struct {
	Name  string   `json:"name"`
	Kept  int      `json:"kept"`
	Notes []string `json:"notes,omitempty"`
}

// RemoteService is a Pinning Service API endpoint. Key (the access token)
// is sent when adding a service and never returned.
type RemoteService struct {
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
	Key      string `json:"key,omitempty"`
}

// RemoteServiceAdded warns about a service reached without encryption.
type RemoteServiceAdded struct {
	Warning string `json:"warning,omitempty"`
}

// RemoteServiceRmRequest names a service to forget.
type RemoteServiceRmRequest struct {
	Name string `json:"name"`
}

// RemotePinAddRequest asks a service to pin a path.
type RemotePinAddRequest struct {
	Service string `json:"service"`
	Path    string `json:"path"`
	Lookup
	Name string `json:"name,omitempty"`
	// Background returns once the service has queued the request.
	Background bool `json:"background,omitempty"`
	// Progress, if set, is told each new status while waiting.
	Progress func(RemotePin) `json:"-"`
}

// RemotePinAdded is the request as last seen.
type RemotePinAdded struct {
	Pin   RemotePin `json:"pin"`
	Notes []string  `json:"notes,omitempty"`
}

// RemotePin is a pin request as a service reports it.
type RemotePin struct {
	RequestID string            `json:"requestid"`
	Status    string            `json:"status"`
	Created   time.Time         `json:"created"`
	CID       string            `json:"cid"`
	Name      string            `json:"name,omitempty"`
	Delegates []string          `json:"delegates,omitempty"`
	Info      map[string]string `json:"info,omitempty"`
}

// RemotePinLsRequest selects a service's pin requests.
type RemotePinLsRequest struct {
	Service string `json:"service"`
	Name    string `json:"name,omitempty"`
	// Statuses defaults to ["pinned"], as the spec's does.
	Statuses []string `json:"statuses,omitempty"`
	CIDs     []string `json:"cids,omitempty"`
}

// RemotePinRmRequest names a service's pin request to remove.
type RemotePinRmRequest struct {
	Service   string `json:"service"`
	RequestID string `json:"requestid"`
}

// Identity is the node as peers see it.
type Identity struct {
	ID    string   `json:"id"`
	Addrs []string `json:"addrs"`
	// BrowserAddrs are those of Addrs a web browser can dial directly
	// (WebTransport and WebRTC-direct with their certificate hashes, secure
	// WebSockets), as node.BrowserDialable says.
	BrowserAddrs []string `json:"browser_addrs"`
	Mode         Mode     `json:"mode"`
	// Reachability is how peers reach the node; absent without a node.
	Reachability *Reachability `json:"reachability,omitempty"`
}

// Reachability is how peers reach the node.
type Reachability struct {
	// Status is what AutoNAT found: "public", "private" (behind NAT or a
	// firewall: peers reach the node through relays, then directly once
	// hole punching succeeds) or "unknown" (not probed yet).
	Status string `json:"status"`
	// RelayAddrs are the /p2p-circuit addresses the node holds on relays
	// (also among Addrs).
	RelayAddrs []string `json:"relay_addrs"`
	// RelayService says the node relays for peers behind NAT now.
	RelayService bool `json:"relay_service"`
	// HolePunching says the node takes part in hole punching: it knows a
	// public address of its own (behind NAT, its router's, as a peer
	// observed it). Until then relayed connections stay relayed.
	HolePunching bool `json:"hole_punching"`
	// LastServed is the last peer that fetched blocks from the node (a
	// follower or a visitor); absent before any.
	LastServed *ServedPeer `json:"last_served,omitempty"`
}

// ServedPeer is a peer the node sent blocks to, and how.
type ServedPeer struct {
	Peer string `json:"peer"`
	// Path is "direct" or "relayed" (through a relay, within its limits).
	Path string    `json:"path"`
	Addr string    `json:"addr"`
	At   time.Time `json:"at"`
}

// Peer is a connected peer.
type Peer struct {
	ID        string `json:"id"`
	Addr      string `json:"addr"`
	Direction string `json:"direction"`
	// Latency is the smoothed round trip time, zero until measured.
	Latency time.Duration `json:"latency,omitempty"`
	Agent   string        `json:"agent,omitempty"`
}

// ProvideStat is what the node announces, per DHT.
type ProvideStat = node.ProvideStat

// DHTProvideStat is one DHT's provider state.
type DHTProvideStat = node.DHTProvideStat

// Status is the node at a glance, for the status page and /api/v1/status.
type Status struct {
	PeerID string   `json:"peer_id"`
	Mode   Mode     `json:"mode"`
	Addrs  []string `json:"addrs"`
	// Reachability is how peers reach the node; absent without a node.
	Reachability *Reachability `json:"reachability,omitempty"`
	Site         *SiteStatus   `json:"site,omitempty"`
	Peers        int           `json:"peers"`
	Provide      *ProvideState `json:"provide,omitempty"`
	Follows      []Follow      `json:"follows"`
	// Gateway is the base URL of the daemon's gateway while one serves.
	Gateway string `json:"gateway,omitempty"`
	// Repo is how much of its quota the repo uses.
	Repo RepoStat `json:"repo"`
}

// RepoStat is how much of its quota (--storage-max, config.json's
// storageMax) the repo uses.
type RepoStat struct {
	// UsedBytes is what the repo's stores take on disk, with what writes
	// in progress have staged.
	UsedBytes uint64 `json:"used_bytes"`
	// MaxBytes is the quota: writes past it fail with CodeRepoFull.
	MaxBytes uint64 `json:"max_bytes"`
	// GCWatermark is the share of MaxBytes (percent) past which blocks
	// nothing holds are collected before writes.
	GCWatermark int `json:"gc_watermark"`
}

// SiteStatus is the node's own published site.
type SiteStatus struct {
	CID  string `json:"cid,omitempty"`
	Name string `json:"name,omitempty"`
	// Version is the current version's number in the site's history.
	Version int `json:"version,omitempty"`
	// URLs are the gateway's URLs of the current version and of the name,
	// subdomain ones first (as Published.URLs).
	URLs []string `json:"urls,omitempty"`
	// Size is the current version's size (its DAG's cumulative size, as
	// `ipfs add` reports it).
	Size uint64 `json:"size,omitempty"`
	// Check is the last "published = retrievable" check of any of the
	// site's versions (its CID says which), absent before the first.
	Check *Retrievability `json:"check,omitempty"`
}

// NodeStats is the running node's recent past: a sample of its connected
// peers and traffic every Interval, oldest first, the newest MaxSamples
// kept.
type NodeStats struct {
	Interval Duration `json:"interval"`
	Samples  []Sample `json:"samples"`
}

// MaxSamples is how many samples NodeStats keeps: an hour at the daemon's
// default interval of 10s.
const MaxSamples = 360

// Sample is the node at one moment.
type Sample struct {
	Time  time.Time `json:"time"`
	Peers int       `json:"peers"`
	// BytesIn and BytesOut count the bytes received and sent by the node's
	// libp2p host since it started.
	BytesIn  uint64 `json:"bytesIn"`
	BytesOut uint64 `json:"bytesOut"`
}

// ProvideState is how far the node is in announcing its blocks.
type ProvideState struct {
	Provided      int       `json:"provided"`
	Queued        int       `json:"queued"`
	LastReprovide time.Time `json:"last_reprovide,omitzero"`
	NextReprovide time.Time `json:"next_reprovide,omitzero"`
}
