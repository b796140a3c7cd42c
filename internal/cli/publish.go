package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/daemon"
	"github.com/islandsite/island/internal/history"
	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/node"
	"github.com/islandsite/island/internal/repo"
	"github.com/islandsite/island/internal/site"
)

// defaultGateway is where `island daemon` serves the gateway unless told
// otherwise (daemonOptions).
const defaultGateway = "http://127.0.0.1:8080"

// defaultCheckTimeout bounds the "published = retrievable" check: long
// enough for a DHT lookup and one block on the real network.
const defaultCheckTimeout = 20 * time.Second

// siteOptions are the flags `publish` and `serve` share.
type siteOptions struct {
	content      string
	key          string
	noCheck      bool
	checkTimeout time.Duration
}

func (o *siteOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.content, "content", "content", "directory holding site.toml, *.md, posts/, static/ and layouts/")
	f.StringVar(&o.key, "key", "", "publish under this key's name (default: the node's own, \"self\")")
	f.BoolVar(&o.noCheck, "no-check", false, "do not check that another peer can retrieve the site")
	f.DurationVar(&o.checkTimeout, "check-timeout", defaultCheckTimeout, "how long the retrievability check may take")
}

func newPublishCmd(env *Env, g *globalOptions) *cobra.Command {
	var o siteOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "publish [--content DIR] [--key NAME] [--json]",
		Short: "Build the site, add it as the current version, publish its name and provide it",
		Long: `Render --content, import the result into the repo as a new version of the
site (kept by the site history: gc never removes a published version),
point the key's IPNS name at it with a higher sequence number and, with a
daemon running, announce it and check that a peer other than this one can
find and fetch it. Content that did not change makes no new version.

Prints the CID, the version, /ipns/NAME and the local gateway's URLs.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withCore(ctx, env, g, func(cr *core.Core) error {
				v, err := publishSite(ctx, env, cr, o)
				if err != nil {
					return err
				}
				v.Retrievable = checkRetrievable(ctx, cr, v.CID, o)
				if asJSON {
					return printJSON(env.Stdout, v)
				}
				printPublished(env, v)
				return nil
			})
		},
	}
	o.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// siteVersion is what one run of the publish pipeline did; also the JSON
// form of `publish --json`.
type siteVersion struct {
	CID     cid.Cid `json:"-"`    // as a string in MarshalJSON
	Name    string  `json:"name"` // the k51… IPNS name
	Version int     `json:"version"`
	Seq     uint64  `json:"seq"`
	// Unchanged means the build gave the current version's CID again: no
	// new version, no new record.
	Unchanged bool     `json:"unchanged"`
	URLs      []string `json:"urls"`
	// GatewayRunning is false when the URLs are where a gateway would answer
	// once a daemon runs.
	GatewayRunning bool           `json:"gatewayRunning"`
	Retrievable    retrievability `json:"retrievable"`
	// Warning is set when the record is stored locally but could not be
	// put to the network (the daemon's republisher retries).
	Warning string `json:"warning,omitempty"`
	Pages   int    `json:"pages"`
	Static  int    `json:"staticFiles"`
}

// MarshalJSON writes the CID as a plain string.
func (v siteVersion) MarshalJSON() ([]byte, error) {
	type plain siteVersion
	return json.Marshal(struct {
		CID string `json:"cid"`
		plain
	}{v.CID.String(), plain(v)})
}

// retrievability is the outcome of the "published = retrievable" check.
type retrievability struct {
	Checked   bool   `json:"checked"`
	OK        bool   `json:"ok"`
	Via       string `json:"via,omitempty"`
	Providers int    `json:"providers,omitempty"`
	Took      string `json:"took,omitempty"`
	// Reason says why it was not checked or failed.
	Reason string `json:"reason,omitempty"`
}

// publishSite is the publish pipeline, shared by `publish` and `serve`:
// build → import (all-or-nothing) → record as the current version and sign
// the IPNS record → provide (online). The import holds off gc until the
// version is in the history, whose versions are gc roots.
func publishSite(ctx context.Context, env *Env, cr *core.Core, o siteOptions) (siteVersion, error) {
	key, err := signingKey(cr.Repo, o.key)
	if err != nil {
		return siteVersion{}, err
	}
	n, err := ipnsName(key)
	if err != nil {
		return siteVersion{}, fmt.Errorf("publish: %w", err)
	}
	name := n.String()
	// A daemon (serve's too) keeps the incremental builder between
	// publishes, so a republish re-renders only what changed.
	var cache *siteCache
	if env.daemon != nil {
		cache = cachedSite(cr.Repo, env.abs(o.content))
	}
	b, err := buildSite(ctx, env, o.content, cache)
	if err != nil {
		return siteVersion{}, err
	}
	v := siteVersion{Name: name, Pages: b.Pages(), Static: b.StaticFiles()}

	im, err := cr.Repo.BeginImport(ctx)
	if err != nil {
		return v, fmt.Errorf("publish: %w", err)
	}
	// Close releases the import's hold on gc: only after the history holds
	// the new version.
	defer im.Close()
	opts := importer.Options{}
	if cache != nil {
		opts.Cache = cache.imports
	}
	res, err := importer.AddFS(ctx, im, b.FS(), ".", opts)
	if err != nil {
		return v, fmt.Errorf("publish: %w", err)
	}
	if err := im.Commit(ctx); err != nil {
		return v, fmt.Errorf("publish: %w", err)
	}
	v.CID = res.Root
	// Every version is pinned as well as kept by the history, so `pin ls`
	// shows what the site holds, as INTERFACE.md says ("add and pin").
	if err := cr.Repo.PinRecursive(ctx, res.Root, "site "+name); err != nil {
		return v, fmt.Errorf("publish: %w", err)
	}

	cur, err := cr.History.Current(ctx, name)
	switch {
	case err == nil && cur.CID.Equals(res.Root):
		v.Unchanged, v.Version, v.Seq = true, cur.Version, cur.Seq
	case err == nil || errors.Is(err, history.ErrNoHistory):
		e, err := cr.History.PublishVersion(ctx, key, res.Root)
		if v.Warning, err = routingPutWarning(env, err, "publish"); err != nil {
			return v, fmt.Errorf("publish: %w", err)
		}
		v.Version, v.Seq = e.Version, e.Seq
	default:
		return v, fmt.Errorf("publish: %w", err)
	}
	if cr.Online() {
		if err := cr.Node.Provide(ctx, res.Root); err != nil {
			return v, fmt.Errorf("publish: provide %s: %w", res.Root, err)
		}
	}
	v.URLs, v.GatewayRunning = siteURLs(env, cr, res.Root, name)
	return v, nil
}

// buildSite renders the content directory; a build error lists every
// problem as file:line, relative to the working directory.
func buildSite(ctx context.Context, env *Env, content string, cache *siteCache) (*site.Bundle, error) {
	var (
		b   *site.Bundle
		err error
	)
	if cache != nil {
		b, err = cache.builder.Build(ctx)
	} else {
		cfg := site.DefaultConfig()
		cfg.ContentDir = env.abs(content)
		b, err = site.Build(ctx, cfg)
	}
	if err != nil {
		return nil, describeBuildError(env, content, "the published version stays as it was", err)
	}
	return b, nil
}

// describeBuildError makes a *site.BuildError readable: how many problems,
// what was kept (kept), then one problem per line with paths as the user
// would write them.
func describeBuildError(env *Env, content, kept string, err error) error {
	var be *site.BuildError
	if !errors.As(err, &be) {
		return fmt.Errorf("build: %w", err)
	}
	for i, p := range be.Problems {
		be.Problems[i].File = env.rel(p.File)
	}
	n := "1 problem"
	if len(be.Problems) != 1 {
		n = fmt.Sprintf("%d problems", len(be.Problems))
	}
	return fmt.Errorf("build: %s in %s; %s:\n%w", n, content, kept, be)
}

// signingKey is the key a site is published under: the node's identity by
// default, else as for keyByName.
func signingKey(r *repo.Repo, name string) (crypto.PrivKey, error) {
	if name == "" {
		name = repo.SelfKey
	}
	k, err := keyByName(r, name)
	if errors.Is(err, repo.ErrNoSuchKey) {
		return nil, fmt.Errorf("--key %s: no key of that name in the repo's keystore", name)
	}
	if err != nil {
		return nil, fmt.Errorf("--key %s: %w", name, err)
	}
	return k, nil
}

// gatewayBase is the local gateway's base URL and whether it answers now:
// the daemon's own when running inside one, else the address the last
// daemon wrote in $REPO/gateway, else the default.
func gatewayBase(env *Env, cr *core.Core) (string, bool) {
	if env.daemon != nil {
		if u := env.daemon.GatewayURL(); u != "" {
			return u, true
		}
		return defaultGateway, false
	}
	if b, err := os.ReadFile(filepath.Join(cr.Repo.Path(), daemon.GatewayFile)); err == nil {
		if u := strings.TrimSpace(string(b)); strings.HasPrefix(u, "http://") {
			return u, false
		}
	}
	return defaultGateway, false
}

// siteURLs are the local gateway's URLs of the version and of the name:
// path-style, and subdomain-style on localhost (each site its own origin).
func siteURLs(env *Env, cr *core.Core, c cid.Cid, name string) ([]string, bool) {
	base, running := gatewayBase(env, cr)
	base = strings.TrimSuffix(base, "/")
	urls := []string{base + "/ipfs/" + c.String() + "/", base + "/ipns/" + name + "/"}
	if u, err := url.Parse(base); err == nil {
		if _, port, err := net.SplitHostPort(u.Host); err == nil {
			// Subdomain labels must be case-insensitive: base32 for the
			// CID, base36 for the name (k51…), as the gateway expects.
			sub, err := c.StringOfBase('b')
			if err != nil {
				sub = c.String()
			}
			urls = append(urls,
				fmt.Sprintf("http://%s.ipfs.localhost:%s/", sub, port),
				fmt.Sprintf("http://%s.ipns.localhost:%s/", name, port))
		}
	}
	return urls, running
}

// checkRetrievable runs the "published = retrievable" check when online.
func checkRetrievable(ctx context.Context, cr *core.Core, root cid.Cid, o siteOptions) retrievability {
	switch {
	case o.noCheck:
		return retrievability{Reason: "not checked (--no-check)"}
	case !cr.Online():
		return retrievability{Reason: "not checked (offline: run 'island daemon' or 'island serve' to put it on the network)"}
	case !cr.Networked():
		return retrievability{Reason: "not checked (the daemon runs --offline)"}
	}
	timeout := o.checkTimeout
	if timeout <= 0 {
		timeout = defaultCheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := cr.Node.CheckRetrievable(ctx, root)
	switch {
	case errors.Is(err, node.ErrNoPeers):
		return retrievability{Reason: "not checked: no other peer to ask (not connected to any peer that serves the DHT)"}
	case err != nil:
		return retrievability{Checked: true, Reason: err.Error()}
	}
	return retrievability{Checked: true, OK: true, Via: r.Via.String(), Providers: r.Providers,
		Took: r.Took.Round(time.Millisecond).String()}
}

// checkRuns reports whether checkRetrievable asks the network (and so
// takes time) rather than saying at once why it does not.
func checkRuns(cr *core.Core, o siteOptions) bool {
	return !o.noCheck && cr.Networked()
}

func (r retrievability) String() string {
	switch {
	case r.OK:
		return fmt.Sprintf("yes: a new peer entering the network through %s found %d provider(s) and fetched the root in %s",
			r.Via, r.Providers, r.Took)
	case r.Checked:
		return "NO: " + r.Reason
	default:
		return r.Reason
	}
}

func printPublished(env *Env, v siteVersion) {
	if v.Unchanged {
		fmt.Fprintf(env.Stdout, "unchanged: %s is still the current version (version %d)\n", v.CID, v.Version)
	} else {
		fmt.Fprintf(env.Stdout, "published %s (version %d)\n", v.CID, v.Version)
	}
	fmt.Fprintf(env.Stdout, "name: /ipns/%s\n", v.Name)
	if v.Warning != "" {
		fmt.Fprintf(env.Stdout, "warning: %s\n", v.Warning)
	}
	if v.GatewayRunning {
		fmt.Fprintln(env.Stdout, "local gateway:")
	} else {
		fmt.Fprintln(env.Stdout, "local gateway (no daemon runs: start 'island daemon' or 'island serve'; default address):")
	}
	for _, u := range v.URLs {
		fmt.Fprintf(env.Stdout, "  %s\n", u)
	}
	fmt.Fprintf(env.Stdout, "retrievable: %s\n", v.Retrievable)
}
