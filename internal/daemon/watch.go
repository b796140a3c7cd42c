package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/site"
)

// SiteConfig is the site a daemon publishes and republishes on change
// (`island serve`). The daemon reads this directory because its owner
// started it for it; it never opens a path an API client names.
type SiteConfig struct {
	// Content is the content directory (site.toml, *.md, posts/, …, or a
	// Hugo site's root), built before each publish.
	Content string
	// Dir, when set instead of Content, is a folder another generator
	// built, published as it is (`island serve --dir`).
	Dir string
	// Key signs the site's name ("": self).
	Key string
	// Debounce is how long the watcher waits after the last change: an
	// editor's save or a `git checkout` is a burst of events that should
	// make one version, not ten.
	Debounce time.Duration
	// Check runs the retrievability check after each publish (online).
	Check        bool
	CheckTimeout time.Duration
	// JoinTimeout bounds the wait for a first peer before the first publish
	// (only when bootstrap peers are configured).
	JoinTimeout time.Duration
	// Lifetime, when set, is the lifetime of the site's records (serve
	// --lifetime); else site.toml's, else the name's.
	Lifetime time.Duration
}

// DefaultSiteConfig publishes content/ as the node's own site.
func DefaultSiteConfig() SiteConfig {
	return SiteConfig{
		Content:      "content",
		Debounce:     300 * time.Millisecond,
		Check:        true,
		CheckTimeout: core.DefaultCheckTimeout,
		JoinTimeout:  30 * time.Second,
	}
}

// watcher publishes the site at start and after every burst of changes. It
// keeps the incremental builder between publishes (and the Core keeps the
// import cache), so an edit re-renders and re-imports only what changed.
type watcher struct {
	d       *Daemon
	cfg     SiteConfig
	builder *site.Builder // nil when publishing a folder as it is
	w       *fsnotify.Watcher
	root    string   // what is watched: Content or Dir
	inputs  []string // what a change in can change the site (site.Inputs)

	// checks are the retrievability checks in flight; a new version
	// cancels the check of the one before.
	checks      sync.WaitGroup
	checkMu     sync.Mutex
	cancelCheck context.CancelFunc
	closeOnce   sync.Once
}

func newWatcher(d *Daemon, cfg SiteConfig) (*watcher, error) {
	def := DefaultSiteConfig()
	if cfg.Debounce <= 0 {
		cfg.Debounce = def.Debounce
	}
	if cfg.JoinTimeout <= 0 {
		cfg.JoinTimeout = def.JoinTimeout
	}
	root, what, flag := cfg.Content, "content directory", "--content"
	if cfg.Dir != "" {
		root, what, flag = cfg.Dir, "folder", "--dir"
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("serve: %s %s not found: create it or name another with %s", what, root, flag)
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("serve: watch %s: %w", root, err)
	}
	s := &watcher{d: d, cfg: cfg, w: fw, root: root, cancelCheck: func() {}}
	if cfg.Dir != "" {
		s.inputs = []string{cfg.Dir}
	} else {
		sc := site.DefaultConfig()
		sc.ContentDir = cfg.Content
		s.builder = site.NewBuilder(sc)
		s.inputs = site.Inputs(cfg.Content)
		// --content content/ in a Hugo site's root: its hugo.toml is beside.
		s.root = holding(root, s.inputs)
	}
	// Watching starts before the first build, so that nothing changed
	// while it runs goes unnoticed.
	if err := s.watchTree(s.root); err != nil {
		fw.Close()
		return nil, err
	}
	return s, nil
}

// holding is dir, or the nearest directory above it that holds every input.
func holding(dir string, inputs []string) string {
	for _, in := range inputs {
		for in != dir && !strings.HasPrefix(in, dir+string(filepath.Separator)) {
			parent := filepath.Dir(dir)
			if parent == dir {
				return dir
			}
			dir = parent
		}
	}
	return dir
}

func (s *watcher) close() {
	s.closeOnce.Do(func() {
		s.checkMu.Lock()
		s.cancelCheck()
		s.checkMu.Unlock()
		s.checks.Wait()
		s.w.Close()
	})
}

// watchTree watches dir and every directory below it that holds or leads
// to an input of the site, except hidden ones, which the site skips too.
func (s *watcher) watchTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != dir && errors.Is(err, fs.ErrNotExist) {
				return nil // gone again already
			}
			return fmt.Errorf("serve: watch %s: %w", p, err)
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && hidden(d.Name()) || !s.leadsToInput(p) {
			return filepath.SkipDir
		}
		if err := s.w.Add(p); err != nil {
			return fmt.Errorf("serve: watch %s: %w (on Linux, raise fs.inotify.max_user_watches)", p, err)
		}
		return nil
	})
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") }

// input says p is an input of the site or inside one.
func (s *watcher) input(p string) bool {
	for _, in := range s.inputs {
		if p == in || strings.HasPrefix(p, in+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// leadsToInput says the directory p is, holds or is inside an input.
func (s *watcher) leadsToInput(p string) bool {
	if s.input(p) {
		return true
	}
	for _, in := range s.inputs {
		if strings.HasPrefix(in, p+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// publish builds the site (or checks the folder) and publishes it through
// the Core. The folder's check is nil when the site was built.
func (s *watcher) publish(ctx context.Context) (core.Published, *site.FolderCheck, error) {
	if s.builder == nil {
		fc, err := site.CheckFolder(ctx, os.DirFS(s.cfg.Dir), false)
		if err != nil {
			return core.Published{}, nil, err
		}
		// Hidden files left out, as `island add` does: the same CID.
		nd, err := importer.PathNode(s.cfg.Dir, false)
		if err != nil {
			return core.Published{}, nil, fmt.Errorf("publish: %w", err)
		}
		dir, ok := nd.(files.Directory)
		if !ok {
			return core.Published{}, nil, fmt.Errorf("publish: %s is not a folder", s.cfg.Dir)
		}
		v, err := s.d.core.Publish(ctx, core.PublishRequest{Key: s.cfg.Key, Site: dir, Lifetime: core.Duration(s.cfg.Lifetime)})
		return v, fc, err
	}
	if inputs := site.Inputs(s.cfg.Content); !slices.Equal(inputs, s.inputs) {
		// The configuration now names other folders (a theme, contentDir).
		s.inputs = inputs
		if err := s.watchTree(s.root); err != nil {
			s.d.emit(WatchFailed{Err: err})
		}
	}
	b, err := s.builder.Build(ctx)
	if err != nil {
		return core.Published{}, nil, err
	}
	nd, err := importer.FSNode(b.FS(), ".")
	if err != nil {
		return core.Published{}, nil, fmt.Errorf("publish: %w", err)
	}
	dir, ok := nd.(files.Directory)
	if !ok {
		return core.Published{}, nil, errors.New("publish: the built site is not a directory")
	}
	lifetime := s.cfg.Lifetime
	if lifetime == 0 {
		lifetime = b.Lifetime()
	}
	v, err := s.d.core.Publish(ctx, core.PublishRequest{Key: s.cfg.Key, Site: dir, Lifetime: core.Duration(lifetime)})
	return v, nil, err
}

// checks says whether a retrievability check would ask the network (and
// so take time) rather than say at once why it does not.
func (s *watcher) checking() bool { return s.cfg.Check && s.d.core.Mode() != core.ModeOffline }

// first publishes once at start. A site that does not build is reported
// and watched until it does; any other failure stops the daemon.
func (s *watcher) first(ctx context.Context) error {
	if s.d.core.Mode() != core.ModeOffline && len(s.d.cfg.Core.Node.Bootstrap) > 0 {
		s.awaitNetwork(ctx)
	}
	start := time.Now()
	v, fc, err := s.publish(ctx)
	switch {
	case ctx.Err() != nil:
		return nil // stopping while starting
	case err != nil && !errors.As(err, new(*site.BuildError)):
		return err
	case err != nil:
		s.d.emit(SiteFailed{Err: err, First: true, Content: s.root})
	default:
		checking := s.checking()
		if !checking {
			v.Retrievable = s.d.core.CheckRetrievable(ctx, mustCid(v.CID), s.cfg.CheckTimeout)
			if !s.cfg.Check {
				v.Retrievable = core.Retrievability{}
			}
		}
		s.d.emit(SitePublished{Published: v, Took: time.Since(start), First: true, Checking: checking, Folder: fc})
		if checking {
			s.startCheck(ctx, v)
		}
	}
	s.d.emit(Watching{Content: s.root})
	return nil
}

// awaitNetwork waits until the node's DHT knows a peer, or JoinTimeout.
func (s *watcher) awaitNetwork(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.JoinTimeout)
	defer cancel()
	said := time.AfterFunc(time.Second, func() { s.d.emit(Joining{}) })
	defer said.Stop()
	if !s.d.core.AwaitPeers(ctx) && ctx.Err() == context.DeadlineExceeded {
		s.d.emit(JoinTimedOut{After: s.cfg.JoinTimeout})
	}
}

func mustCid(s string) cid.Cid {
	c, _ := cid.Decode(s)
	return c
}

// run watches until ctx ends, republishing after each burst of changes.
func (s *watcher) run(ctx context.Context) error {
	defer s.close()
	var timer *time.Timer
	var fire <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	later := func() {
		if timer == nil {
			timer = time.NewTimer(s.cfg.Debounce)
		} else {
			timer.Reset(s.cfg.Debounce)
		}
		fire = timer.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-s.w.Events:
			if !ok {
				return nil
			}
			if !s.relevant(ev) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					// A new directory (and whatever was put in it before
					// the watch began) is watched from now on.
					if err := s.watchTree(ev.Name); err != nil {
						s.d.emit(WatchFailed{Err: err})
					}
				}
			}
			later()
		case err, ok := <-s.w.Errors:
			if !ok {
				return nil
			}
			// Typically an event queue overflow: events were lost, so
			// rebuild to be sure.
			s.d.log.Warn("watching content", "err", err)
			later()
		case <-fire:
			fire = nil
			s.republish(ctx)
		}
	}
}

// relevant drops what cannot change the site: mode changes, hidden files
// (editors' swap and lock files), which the site skips, and what is no
// input of the build (a Hugo site's public/).
func (s *watcher) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod || !s.input(ev.Name) {
		return false
	}
	rel, err := filepath.Rel(s.root, ev.Name)
	if err != nil {
		return true
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if hidden(part) && part != "." && part != ".." {
			return false
		}
	}
	return true
}

// republish publishes once for a change and reports the outcome.
func (s *watcher) republish(ctx context.Context) {
	start := time.Now()
	v, fc, err := s.publish(ctx)
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		s.d.emit(SiteFailed{Err: err, Content: s.root})
		return
	}
	checking := !v.Unchanged && s.checking()
	s.d.emit(SitePublished{Published: v, Took: time.Since(start), Checking: checking, Folder: fc})
	if checking {
		s.startCheck(ctx, v)
	}
}

// startCheck checks in the background that v is retrievable, replacing the
// check of an earlier version.
func (s *watcher) startCheck(ctx context.Context, v core.Published) {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	s.cancelCheck()
	ctx, cancel := context.WithCancel(ctx)
	s.cancelCheck = cancel
	s.checks.Go(func() {
		r := s.d.core.CheckRetrievable(ctx, mustCid(v.CID), s.cfg.CheckTimeout)
		if ctx.Err() != nil {
			return // superseded or stopping
		}
		s.d.emit(SiteChecked{Version: v.Version, Retrievable: r})
	})
}
