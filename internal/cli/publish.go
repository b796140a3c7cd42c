package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/site"
)

// siteOptions are the flags `publish` and `serve` share.
type siteOptions struct {
	content      string
	dir          string
	key          string
	noCheck      bool
	checkTimeout time.Duration
	lifetime     string
}

// contentHelp is what --content takes.
const contentHelp = "directory holding site.toml, *.md, posts/, static/ and layouts/, or a Hugo site's root (hugo.toml, content/, static/)"

func (o *siteOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.content, "content", "content", contentHelp)
	f.StringVar(&o.dir, "dir", "", "publish this folder as it is, built by any generator (Hugo's public/, Jekyll's _site/, plain HTML), instead of building --content")
	f.StringVar(&o.key, "key", "", "publish under this key's name (default: the node's own, \"self\")")
	f.BoolVar(&o.noCheck, "no-check", false, "do not check that another peer can retrieve the site")
	f.DurationVar(&o.checkTimeout, "check-timeout", core.DefaultCheckTimeout, "how long the retrievability check may take")
	f.StringVar(&o.lifetime, "lifetime", "", "how long each signed record of the site's name stays valid, e.g. 35d or 840h (default: site.toml's lifetime, else the name's, else 35d); friends keep the name alive only this long while you are away")
}

// flagLifetime is --lifetime, or 0 when not given.
func (o *siteOptions) flagLifetime() (time.Duration, error) {
	if o.lifetime == "" {
		return 0, nil
	}
	d, err := site.ParseLifetime(o.lifetime)
	if err != nil {
		return 0, usagef("--lifetime: %v", err)
	}
	return d, nil
}

func (o *siteOptions) check(cmd *cobra.Command) error {
	if o.checkTimeout <= 0 {
		return usagef("--check-timeout %s: want a positive duration, e.g. 20s", o.checkTimeout)
	}
	if o.dir != "" && cmd.Flags().Changed("content") {
		return usagef("--dir and --content: give one; --dir publishes a folder as it is, --content builds the site first")
	}
	_, err := o.flagLifetime()
	return err
}

// folder is the folder --dir names, which must be one.
func (o *siteOptions) folder(env *Env) (string, error) {
	dir := env.abs(o.dir)
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return "", fmt.Errorf("--dir %s: no such folder; name the folder your generator wrote the site to (Hugo: public/, Jekyll: _site/)", o.dir)
	case !st.IsDir():
		return "", fmt.Errorf("--dir %s: is a file, not a folder; name the folder your generator wrote the site to", o.dir)
	}
	return dir, nil
}

// publishedJSON is what `publish --json` prints: the result (its fields
// flattened in) and what was built.
type publishedJSON struct {
	core.Published
	Pages  int `json:"pages"`
	Static int `json:"staticFiles"`
}

// publishedDirJSON is what `publish --dir --json` prints: the result and
// what the folder check found.
type publishedDirJSON struct {
	core.Published
	Folder *site.FolderCheck `json:"folder"`
}

func newPublishCmd(env *Env, g *globalOptions) *cobra.Command {
	var o siteOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "publish [--content DIR | --dir FOLDER] [--key NAME] [--json]",
		Short: "Build the site, add it as the current version, publish its name and provide it",
		Long: `Render --content here, import the result into the repo (through the daemon,
when one runs) as a new version of the site (kept by the site history: gc
never removes a published version), point the key's IPNS name at it with a
higher sequence number and, with a daemon running, announce it and check
that a peer other than this one can find and fetch it. Content that did not
change makes no new version. --content is island's own layout or a Hugo
site's root.

--dir FOLDER publishes a folder another generator built (Hugo, Zola, Jekyll,
Eleventy, plain HTML) as it is, with the same history, name and check; its
CID is the one 'island add -q FOLDER' prints. Links in it that break under
/ipfs/CID/ (starting with /, or with the site's own web address) are
reported as warnings naming the file and the setting that fixes them.

Prints the CID, the version, /ipns/NAME and the local gateway's URLs.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			if o.dir != "" {
				return publishFolder(ctx, env, g, o, asJSON)
			}
			if percent := gcPercentFor(env, publishGCPercent); percent > 0 {
				defer debug.SetGCPercent(debug.SetGCPercent(percent))
				if limit := memoryLimitFor(env, publishMemoryLimit); limit > 0 {
					defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
				}
			}
			// The sources' stamp is taken while the API is opened: both
			// wait on I/O.
			stc := make(chan stamps, 1)
			go func() { stc <- newStamps(env, g, env.abs(o.content), o) }()
			return withAPI(ctx, env, g, func(a core.API) error {
				// A wrong --key is found before a build that may take seconds.
				if err := checkKey(ctx, a, o.key); err != nil {
					return err
				}
				lifetime, _ := o.flagLifetime() // checked above
				req := core.PublishRequest{Key: o.key, Check: !o.noCheck,
					CheckTimeout: core.Duration(o.checkTimeout), Lifetime: core.Duration(lifetime)}
				// Sources unchanged since the last publish of this folder
				// need no build, once the daemon confirms that version is
				// still the current one.
				st := <-stc
				if v, ps, ok, err := st.unchanged(ctx, a, req); err != nil || ok {
					if err != nil {
						return err
					}
					if asJSON {
						v.Retrievable = explainCheck(v.Retrievable)
						return printJSON(env.Stdout, publishedJSON{v, ps.Pages, ps.Static})
					}
					printPublished(env, v)
					return nil
				}
				// What the last publish sent is read while the site builds.
				lastc := make(chan *publishedFiles, 1)
				go func() { lastc <- st.lastFiles() }()
				// The render cache is read only now: reading it while the
				// sources are stamped doubled the CPU of a publish of
				// unchanged sources, which needs none of it.
				var warnings atomic.Int64
				cfg := siteConfig(env, o.content, slog.New(warnCounter{slog.Default().Handler(), &warnings}))
				builder := st.builder(cfg)
				b, err := builder.Build(ctx)
				if err != nil {
					return describeBuildError(env, o.content, "the published version stays as it was", err)
				}
				// The render cache is written, and the sources stamped again,
				// while the daemon imports.
				saved := make(chan struct{})
				go func() {
					defer close(saved)
					st.saveCache(builder)
				}()
				defer func() { <-saved }()
				stamped := make(chan builtStamp, 1)
				go func() { stamped <- st.afterBuild(env.abs(o.content)) }()
				if lifetime == 0 {
					lifetime = b.Lifetime()
				}
				req.Lifetime = core.Duration(lifetime)
				ids, err := identities(b)
				if err != nil {
					return fmt.Errorf("publish: %w", err)
				}
				// A bundle started from the render cache holds only the pages
				// it rendered again; sending the whole site takes a full build.
				full := func() (*site.Bundle, error) {
					fb, err := site.Build(ctx, cfg)
					if err != nil {
						return nil, describeBuildError(env, o.content, "the published version stays as it was", err)
					}
					return fb, nil
				}
				filesc := make(chan json.RawMessage, 1)
				go func() { filesc <- encodeFiles(ids) }()
				v, err := publishBundle(ctx, a, req, b, full, <-lastc, ids)
				if err != nil {
					return err
				}
				st.saveFiles(v.CID, <-filesc)
				st.save(<-stamped, b, lifetime, v.CID, warnings.Load() > 0)
				if asJSON {
					v.Retrievable = explainCheck(v.Retrievable)
					return printJSON(env.Stdout, publishedJSON{v, b.Pages(), b.StaticFiles()})
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

// publishFolder publishes --dir as it is, after checking its links.
func publishFolder(ctx context.Context, env *Env, g *globalOptions, o siteOptions, asJSON bool) error {
	dir, err := o.folder(env)
	if err != nil {
		return err
	}
	fc, err := site.CheckFolder(ctx, os.DirFS(dir), false)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	// As `island add` sends a folder: hidden files left out, so the CID is
	// the one `island add -q FOLDER` prints.
	nd, err := importer.PathNode(dir, false)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	d, ok := nd.(files.Directory)
	if !ok {
		return fmt.Errorf("publish: --dir %s is not a folder", o.dir)
	}
	return withAPI(ctx, env, g, func(a core.API) error {
		if err := checkKey(ctx, a, o.key); err != nil {
			return err
		}
		lifetime, _ := o.flagLifetime() // checked before; a folder has no site.toml to say
		v, err := a.Publish(ctx, core.PublishRequest{Key: o.key, Site: d, Check: !o.noCheck,
			CheckTimeout: core.Duration(o.checkTimeout), Lifetime: core.Duration(lifetime)})
		if err != nil {
			return err
		}
		if asJSON {
			v.Retrievable = explainCheck(v.Retrievable)
			return printJSON(env.Stdout, publishedDirJSON{v, fc})
		}
		printPublished(env, v)
		printFolderCheck(env.Stderr, fc)
		return nil
	})
}

// printFolderCheck words what CheckFolder found: each file's problem, then
// each fix once. Nothing when the folder is fine.
func printFolderCheck(w io.Writer, fc *site.FolderCheck) {
	if len(fc.Warnings) == 0 {
		return
	}
	made := ""
	if fc.Generator != "" {
		made = " (the pages say " + fc.Generator + " made them)"
	}
	fmt.Fprintf(w, "warning: links that break when the site is served under /ipfs/CID/ or /ipns/NAME/%s; "+
		"on subdomain gateways (CID.ipfs.localhost) and DNSLink names they work:\n", made)
	var fixes []string
	for _, fw := range fc.Warnings {
		fmt.Fprintf(w, "  %s\n", fw.Problem())
		if !slices.Contains(fixes, fw.Fix) {
			fixes = append(fixes, fw.Fix)
		}
	}
	if fc.More > 0 {
		fmt.Fprintf(w, "  … and %d more\n", fc.More)
	}
	for _, f := range fixes {
		fmt.Fprintf(w, "  fix: %s\n", f)
	}
}

// checkKey says whether the repo has the key --key names (by name or IPNS
// name; "" is self).
func checkKey(ctx context.Context, a core.API, key string) error {
	if key == "" || key == "self" {
		return nil
	}
	keys, err := a.KeyLs(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Name == key || k.ID == key {
			return nil
		}
	}
	return core.Errorf(core.CodeNotFound, "--key %s: no key of that name in the repo's keystore (see 'island key ls'; create one with 'island key gen %s')", key, key)
}

// buildSite renders the content directory; a build error lists every
// problem as file:line, relative to the working directory.
func buildSite(ctx context.Context, env *Env, content string) (*site.Bundle, error) {
	return buildSiteLogged(ctx, env, content, nil)
}

// buildSiteLogged is buildSite logging to logger (nil: the default).
func buildSiteLogged(ctx context.Context, env *Env, content string, logger *slog.Logger) (*site.Bundle, error) {
	b, err := site.Build(ctx, siteConfig(env, content, logger))
	if err != nil {
		return nil, describeBuildError(env, content, "the published version stays as it was", err)
	}
	return b, nil
}

// siteConfig is the configuration of a build of content, logging to
// logger (nil: the default).
func siteConfig(env *Env, content string, logger *slog.Logger) site.Config {
	cfg := site.DefaultConfig()
	cfg.ContentDir = env.abs(content)
	cfg.Logger = logger
	return cfg
}

// publishBundle publishes the built site b: when last, the files of the
// version published before from the same folder, is still the current
// version, as only the files changed since (PublishRequest.Base), else
// whole, from full() when b does not hold every file (site.Bundle.Complete).
// ids are b's files' identities.
func publishBundle(ctx context.Context, a core.API, req core.PublishRequest, b *site.Bundle, full func() (*site.Bundle, error),
	last *publishedFiles, ids map[string]string) (core.Published, error) {
	if last != nil {
		var changed, removed []string
		var size int64
		held := true
		for _, f := range b.Files() {
			if last.Files[f.Path] != ids[f.Path] {
				changed = append(changed, f.Path)
				size += f.Size
				held = held && f.Held()
			}
		}
		for p := range last.Files {
			if _, ok := ids[p]; !ok {
				removed = append(removed, p)
			}
		}
		// A page the render cache reused but the last publish did not have
		// (its files record is older than the cache) is not held: whole.
		if held && len(changed) <= core.MaxPatchFiles && size <= core.MaxPatchBytes && len(removed) <= core.MaxPatchRemoves {
			d, err := bundleFiles(b, changed)
			if err != nil {
				return core.Published{}, err
			}
			preq := req
			preq.Site, preq.Base, preq.Remove = d, last.CID, removed
			v, err := a.Publish(ctx, preq)
			if core.ErrorCode(err) != core.CodeConflict {
				return v, err
			}
			slog.Debug("publish: the version the change was made to is no longer current; sending the whole site", "err", err)
		}
	}
	if !b.Complete() {
		fb, err := full()
		if err != nil {
			return core.Published{}, err
		}
		b = fb
	}
	dir, err := bundleDir(b)
	if err != nil {
		return core.Published{}, err
	}
	req.Site = dir
	return a.Publish(ctx, req)
}

// identities are the Identity of every file of b, by path.
func identities(b *site.Bundle) (map[string]string, error) {
	out := make(map[string]string, len(b.Files()))
	for _, f := range b.Files() {
		id, err := f.Identity()
		if err != nil {
			return nil, err
		}
		out[f.Path] = id
	}
	return out, nil
}

// bundleFiles is the files of b at paths (slash-separated), in their
// directories, as a publish streams them.
func bundleFiles(b *site.Bundle, paths []string) (files.Directory, error) {
	type dir = map[string]any // name → dir or files.Node
	top := dir{}
	for _, p := range paths {
		nd, err := importer.FSNode(b.FS(), p)
		if err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
		parts := strings.Split(p, "/")
		cur := top
		for _, name := range parts[:len(parts)-1] {
			sub, ok := cur[name].(dir)
			if !ok {
				sub = dir{}
				cur[name] = sub
			}
			cur = sub
		}
		cur[parts[len(parts)-1]] = nd
	}
	var toNode func(d dir) files.Directory
	toNode = func(d dir) files.Directory {
		m := make(map[string]files.Node, len(d))
		for name, v := range d {
			if sub, ok := v.(dir); ok {
				m[name] = toNode(sub)
			} else {
				m[name] = v.(files.Node)
			}
		}
		return files.NewMapDirectory(m)
	}
	return toNode(top), nil
}

// bundleDir is a built site as the files a publish streams.
func bundleDir(b *site.Bundle) (files.Directory, error) {
	nd, err := importer.FSNode(b.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	dir, ok := nd.(files.Directory)
	if !ok {
		return nil, errors.New("publish: the built site is not a directory")
	}
	return dir, nil
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

// explainCheck words a check that was not asked for (--no-check).
func explainCheck(r core.Retrievability) core.Retrievability {
	if !r.Checked && r.Reason == "" {
		r.Reason = "not checked (--no-check)"
	}
	return r
}

func retrievableText(r core.Retrievability) string {
	r = explainCheck(r)
	switch {
	case r.OK && r.Relayed:
		return fmt.Sprintf("yes, through a relay: a new peer entering the network through %s found %d provider(s) and fetched the root in %s; "+
			"this node is behind NAT: visitors get small pages through the relay, the rest once hole punching connects them directly",
			r.Via, r.Providers, r.Took)
	case r.OK:
		return fmt.Sprintf("yes: a new peer entering the network through %s found %d provider(s) and fetched the root in %s",
			r.Via, r.Providers, r.Took)
	case r.Checked:
		return "NO: " + r.Reason
	default:
		return r.Reason
	}
}

func printPublished(env *Env, v core.Published) {
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
		fmt.Fprintln(env.Stdout, "local gateway (not running now: 'island daemon' or 'island serve' starts one; default address):")
	}
	for _, u := range v.URLs {
		fmt.Fprintf(env.Stdout, "  %s\n", u)
	}
	fmt.Fprintf(env.Stdout, "retrievable: %s\n", retrievableText(v.Retrievable))
}
