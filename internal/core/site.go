package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/islandsite/island/internal/history"
	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/repo"
)

// DefaultCheckTimeout bounds the "published = retrievable" check: long
// enough for a DHT lookup and one block on the real network.
const DefaultCheckTimeout = 20 * time.Second

// maxSiteCaches bounds the sites whose import caches a Core keeps.
const maxSiteCaches = 8

// Publish imports the rendered site as the key's new version: the import
// holds gc off until the version is held by the site, then the history
// records it and the name points at it.
func (c *Core) Publish(ctx context.Context, req PublishRequest) (_ Published, err error) {
	defer c.fail(&err, "publish")
	if (req.Site == nil) == (req.IfCurrent == "") {
		return Published{}, Errorf(CodeInvalid, "publish: give a site or the CID it is believed to be (ifCurrent), one of them")
	}
	if req.IfCurrent != "" && (req.Base != "" || len(req.Remove) > 0) {
		return Published{}, Errorf(CodeInvalid, "publish: ifCurrent sends no change: give no base or remove with it")
	}
	if req.CheckTimeout < 0 {
		return Published{}, Errorf(CodeInvalid, "check timeout %s: want a positive duration", req.CheckTimeout)
	}
	if req.Lifetime < 0 || (req.Lifetime > 0 && req.Lifetime.Std() < time.Hour) {
		return Published{}, Errorf(CodeInvalid, "lifetime %s: want 1h or more (records must outlive the time between republishes)", req.Lifetime)
	}
	key, name, err := c.signingKey(req.Key)
	if err != nil {
		return Published{}, err
	}
	out := Published{Name: name}
	if err := c.siteLifetime(ctx, name, req.Lifetime.Std()); err != nil {
		return out, err
	}
	if req.IfCurrent != "" {
		return c.publishIfCurrent(ctx, req, out)
	}

	site, opts := req.Site, importer.Options{Cache: c.siteCache(name)}
	var change *patch
	if req.Base != "" {
		if opts.Base, change, err = c.basePatch(ctx, name, req.Base, req.Site, req.Remove); err != nil {
			return out, err
		}
		opts.Cache = nil // it knows the files of the imports it made, not the base's
	} else if len(req.Remove) > 0 {
		return out, Errorf(CodeInvalid, "publish: remove names paths of a base version: give the base")
	}

	c.makeRoom(ctx)
	im, err := c.repo.BeginImport(ctx)
	if err != nil {
		return out, err
	}
	defer im.Close()
	if change != nil {
		// The base is the current version: kept by the history, so its
		// blocks are in the repo while the import reads them.
		if site, err = change.tree(ctx, im, opts.Base); err != nil {
			return out, err
		}
	}
	res, err := importer.AddNode(ctx, im, "site", site, opts)
	if err != nil {
		return out, err
	}
	if err := im.Commit(ctx); err != nil {
		return out, err
	}
	root := res.Root
	out.CID = root.String()
	// Held by its site as well as kept by the history, so `pin ls` shows
	// what the site holds, and rollback always has its versions.
	if err := c.repo.Pin(ctx, root, repo.Holder{Kind: repo.HolderSite, ID: name}, repo.Recursive); err != nil {
		return out, err
	}
	if err := c.announceVersion(ctx, name, res); err != nil {
		return out, err
	}

	cur, err := c.history.Current(ctx, name)
	switch {
	case err == nil && cur.CID.Equals(root):
		out.Unchanged, out.Version, out.Seq = true, cur.Version, cur.Seq
	case err == nil || errors.Is(err, history.ErrNoHistory):
		e, err := c.history.PublishVersion(ctx, key, root)
		if out.Warning, err = c.routingPutWarning(err, "publish"); err != nil {
			return out, err
		}
		out.Version, out.Seq = e.Version, e.Seq
	default:
		return out, err
	}
	out.URLs, out.GatewayRunning = c.siteURLs(root, name)
	if req.Check {
		out.Retrievable = c.CheckRetrievable(ctx, root, req.CheckTimeout.Std())
	}
	return out, nil
}

// publishIfCurrent answers a publish whose caller found its sources
// unchanged: the same as sending the site again when req.IfCurrent is the
// current version (held by the site and its history already), a conflict
// otherwise.
func (c *Core) publishIfCurrent(ctx context.Context, req PublishRequest, out Published) (Published, error) {
	want, err := cid.Decode(req.IfCurrent)
	if err != nil {
		return out, Errorf(CodeInvalid, "ifCurrent %q: not a CID: %v", req.IfCurrent, err)
	}
	cur, err := c.history.Current(ctx, out.Name)
	switch {
	case errors.Is(err, history.ErrNoHistory):
		return out, Errorf(CodeConflict, "%s has no version yet: send the site", out.Name)
	case err != nil:
		return out, err
	case !cur.CID.Equals(want):
		return out, Errorf(CodeConflict, "the current version of %s is %s, not %s: send the site", out.Name, cur.CID, want)
	}
	out.CID, out.Unchanged, out.Version, out.Seq = cur.CID.String(), true, cur.Version, cur.Seq
	out.URLs, out.GatewayRunning = c.siteURLs(cur.CID, out.Name)
	if req.Check {
		out.Retrievable = c.CheckRetrievable(ctx, cur.CID, req.CheckTimeout.Std())
	}
	return out, nil
}

// DefaultSiteLifetime is how long a site's records stay valid unless
// site.toml or publish --lifetime says otherwise: long enough for friends to
// keep the name resolving through a month's absence of its author (boxo's
// default of 48 h ends with a weekend away).
const DefaultSiteLifetime = 35 * 24 * time.Hour

// siteLifetime makes d (or, for a name without one, DefaultSiteLifetime)
// the lifetime of the site's records.
func (c *Core) siteLifetime(ctx context.Context, name string, d time.Duration) error {
	n, err := ipns.NameFromString(name)
	if err != nil {
		return err
	}
	if d == 0 {
		if _, own, err := c.names.Lifetime(ctx, n); err != nil || own {
			return err
		}
		d = DefaultSiteLifetime
	}
	return c.names.SetLifetime(ctx, n, d)
}

// announceVersion provides a site's version just imported: when the
// version its import started from was provided whole by this Core, only
// what is new since (the subtrees taken unchanged from it are provided
// already), else all of it.
func (c *Core) announceVersion(ctx context.Context, name string, res importer.Result) error {
	if c.node == nil {
		return nil
	}
	c.sitesMu.Lock()
	prev, ok := c.provided[name]
	c.sitesMu.Unlock()
	var err error
	if ok && res.Prev.Defined() && prev.Equals(res.Prev) {
		err = c.node.ProvideExcept(ctx, res.Root, res.Reused)
	} else {
		err = c.node.Provide(ctx, res.Root)
	}
	if err != nil {
		return fmt.Errorf("provide: %w", err)
	}
	c.sitesMu.Lock()
	c.provided[name] = res.Root
	c.sitesMu.Unlock()
	return nil
}

// siteCache is the import cache of the site called name.
func (c *Core) siteCache(name string) *importer.Cache {
	c.sitesMu.Lock()
	defer c.sitesMu.Unlock()
	if ic, ok := c.sites[name]; ok {
		return ic
	}
	if len(c.sites) >= maxSiteCaches {
		clear(c.sites)
		clear(c.provided)
	}
	ic := importer.NewCache(c.repo.Blockstore())
	c.sites[name] = ic
	return ic
}

// siteURLs are the local gateway's URLs of the version and of the name:
// subdomain-style on localhost first, where each site is its own origin,
// then path-style, where every site shares the gateway's one origin.
func (c *Core) siteURLs(root cid.Cid, name string) ([]string, bool) {
	base, running := c.gatewayURL()
	base = strings.TrimSuffix(base, "/")
	paths := []string{base + "/ipfs/" + root.String() + "/", base + "/ipns/" + name + "/"}
	var urls []string
	if u, err := url.Parse(base); err == nil {
		if _, port, err := net.SplitHostPort(u.Host); err == nil {
			// Subdomain labels are case-insensitive: base32 for the CID,
			// base36 for the name (k51…), as the gateway expects.
			sub, err := root.StringOfBase('b')
			if err != nil {
				sub = root.String()
			}
			urls = append(urls,
				fmt.Sprintf("http://%s.ipfs.localhost:%s/", sub, port),
				fmt.Sprintf("http://%s.ipns.localhost:%s/", name, port))
		}
	}
	return append(urls, paths...), running
}

// CheckRetrievable asks a fresh peer entering the network through one of
// ours to find and fetch root: "published" means someone else can get it.
// Offline it says why it did not check.
func (c *Core) CheckRetrievable(ctx context.Context, root cid.Cid, timeout time.Duration) Retrievability {
	if c.node == nil {
		return Retrievability{Reason: c.offlineHint("not checked (offline: run 'island daemon' or 'island serve' to put it on the network)",
			"not checked (the daemon runs --offline)")}
	}
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := c.node.CheckRetrievable(cctx, root)
	var out Retrievability
	switch {
	case errors.Is(err, node.ErrNoPeers):
		return Retrievability{Reason: "not checked: no other peer to ask (not connected to any peer that serves the DHT)"}
	case err != nil:
		out = Retrievability{Checked: true, Reason: err.Error()}
	default:
		out = Retrievability{Checked: true, OK: true, Via: r.Via.String(), Providers: r.Providers,
			Took: r.Took.Round(time.Millisecond).String(), Relayed: r.Relayed}
	}
	out.CID, out.At = root.String(), time.Now().UTC()
	c.recordCheck(ctx, out)
	return out
}

// lastCheckKey holds the last retrievability check, for the status.
var lastCheckKey = datastore.NewKey("/island/site/last-check")

// recordCheck keeps r as the last check; losing it loses only what the
// dashboard shows, so a failure is logged, not returned.
func (c *Core) recordCheck(ctx context.Context, r Retrievability) {
	b, err := json.Marshal(r)
	if err == nil {
		err = c.repo.Datastore().Put(ctx, lastCheckKey, b)
	}
	if err != nil {
		c.log.Warn("record the retrievability check", "err", err)
	}
}

// lastCheck is the check recordCheck kept, if any.
func (c *Core) lastCheck(ctx context.Context) *Retrievability {
	b, err := c.repo.Datastore().Get(ctx, lastCheckKey)
	if err != nil {
		return nil
	}
	var r Retrievability
	if json.Unmarshal(b, &r) != nil {
		return nil
	}
	return &r
}

// History lists a site's versions.
func (c *Core) History(ctx context.Context, req HistoryRequest) (_ History, err error) {
	defer c.fail(&err, "history")
	_, name, err := c.signingKey(req.Key)
	if err != nil {
		return History{}, err
	}
	entries, err := c.history.History(ctx, name)
	if err != nil {
		return History{}, err
	}
	out := History{Name: name, Versions: make([]Version, len(entries))}
	for i, e := range entries {
		out.Versions[i] = toVersion(e, i == len(entries)-1)
		if req.Changes {
			prev := cid.Undef
			if i > 0 {
				prev = entries[i-1].CID
			}
			ch := c.changes(ctx, prev, e.CID)
			out.Versions[i].Changes = &ch
		}
	}
	return out, nil
}

// Bounds of a version's changes: how many files are listed, and how many
// entries a comparison may read before it gives up (a rewrite of a huge
// site is reported as too large to compare, not walked for minutes).
const (
	MaxListedChanges = 50
	maxDiffEntries   = 100_000
)

// changes compares two versions held in the repo (never fetching: both
// are the site's own); prev undefined compares with nothing.
func (c *Core) changes(ctx context.Context, prev, cur cid.Cid) Changes {
	out := Changes{Files: []FileChange{}}
	if prev.Defined() {
		out.From = prev.String()
	}
	d, err := repo.Diff(ctx, c.repo.DAG(), prev, cur, MaxListedChanges, maxDiffEntries)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Added, out.Changed, out.Removed = d.Added, d.Changed, d.Removed
	out.PagesAdded, out.PagesChanged, out.PagesRemoved = d.Pages[repo.Added], d.Pages[repo.Changed], d.Pages[repo.Removed]
	out.BytesAdded, out.BytesRemoved, out.Truncated = d.BytesAdded, d.BytesRemoved, d.Truncated
	for _, f := range d.Changes {
		out.Files = append(out.Files, FileChange{Path: f.Path, Kind: f.Kind, Size: f.Size})
	}
	return out
}

func toVersion(e history.Entry, current bool) Version {
	v := Version{Version: e.Version, CID: e.CID.String(), Seq: e.Seq, Time: e.Time, Current: current}
	if e.Prev.Defined() {
		v.Prev = e.Prev.String()
	}
	return v
}

// Rollback makes an older version current again under a new sequence
// number, recorded as a new version.
func (c *Core) Rollback(ctx context.Context, req RollbackRequest) (_ RolledBack, err error) {
	defer c.fail(&err, "rollback")
	if req.Version < 0 {
		return RolledBack{}, Errorf(CodeInvalid, "version %d: want a version number (1, 2, …) from 'island history'", req.Version)
	}
	key, name, err := c.signingKey(req.Key)
	if err != nil {
		return RolledBack{}, err
	}
	from := req.Version
	if from == 0 {
		cur, err := c.history.Current(ctx, name)
		if err != nil {
			return RolledBack{}, err
		}
		if cur.Version == 1 {
			return RolledBack{}, Errorf(CodeRefused, "/ipns/%s has only one version: nothing to roll back to", name)
		}
		from = cur.Version - 1
	}
	e, err := c.history.Rollback(ctx, key, from)
	warning, err := c.routingPutWarning(err, "rollback")
	if err != nil {
		return RolledBack{}, err
	}
	if err := c.hold(ctx, e.CID, repo.Holder{Kind: repo.HolderSite, ID: name}, repo.Recursive); err != nil {
		return RolledBack{}, err
	}
	return RolledBack{Name: name, From: from, Current: toVersion(e, true), Warning: warning}, nil
}

// signingKey is the key a site or record is signed with and its IPNS name:
// the node's identity for "" or "self", else a key by name or IPNS name.
func (c *Core) signingKey(name string) (crypto.PrivKey, string, error) {
	if name == "" {
		name = repo.SelfKey
	}
	k, err := c.keyByName(name)
	if err != nil {
		return nil, "", err
	}
	n, err := ipnsName(k)
	if err != nil {
		return nil, "", err
	}
	return k, n, nil
}

// routingPutWarning sorts out the error of a publish of our own name (op):
// a failed put to routing (names.ErrRoutingPut) becomes a warning, anything
// else stays an error. With a republisher running the warning promises it
// retries, so it is woken now: its next round may be hours away.
func (c *Core) routingPutWarning(err error, op string) (string, error) {
	if !errors.Is(err, names.ErrRoutingPut) {
		return "", err
	}
	then := "run " + op + " again once the node has peers"
	if c.republishing.Load() {
		c.RepublishSoon()
		then = "the daemon keeps trying until it gets there"
	}
	return notPut(err, then), nil
}

func notPut(err error, then string) string {
	return fmt.Sprintf("the record is stored in the repo, but %v; %s", err, then)
}
