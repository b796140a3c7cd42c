package core

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
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
	if req.Site == nil {
		return Published{}, Errorf(CodeInvalid, "no site to publish")
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

	c.makeRoom(ctx)
	im, err := c.repo.BeginImport(ctx)
	if err != nil {
		return out, err
	}
	defer im.Close()
	res, err := importer.AddNode(ctx, im, "site", req.Site, importer.Options{Cache: c.siteCache(name)})
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
	if err := c.hold(ctx, root, repo.Holder{Kind: repo.HolderSite, ID: name}, repo.Recursive); err != nil {
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

// siteCache is the import cache of the site called name.
func (c *Core) siteCache(name string) *importer.Cache {
	c.sitesMu.Lock()
	defer c.sitesMu.Unlock()
	if ic, ok := c.sites[name]; ok {
		return ic
	}
	if len(c.sites) >= maxSiteCaches {
		clear(c.sites)
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
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := c.node.CheckRetrievable(ctx, root)
	switch {
	case errors.Is(err, node.ErrNoPeers):
		return Retrievability{Reason: "not checked: no other peer to ask (not connected to any peer that serves the DHT)"}
	case err != nil:
		return Retrievability{Checked: true, Reason: err.Error()}
	}
	return Retrievability{Checked: true, OK: true, Via: r.Via.String(), Providers: r.Providers,
		Took: r.Took.Round(time.Millisecond).String(), Relayed: r.Relayed}
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
	}
	return out, nil
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
