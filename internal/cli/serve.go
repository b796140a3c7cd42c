package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/daemon"
	"github.com/islandsite/island/internal/site"
)

// defaultDebounce is how long serve waits after the last change before it
// rebuilds: an editor's save (write, rename, chmod) or a `git checkout` is
// a burst of events that should make one version, not ten.
const defaultDebounce = 300 * time.Millisecond

func newServeCmd(env *Env, g *globalOptions) *cobra.Command {
	var do daemonOptions
	var so siteOptions
	var debounce time.Duration
	cmd := &cobra.Command{
		Use:   "serve [--content DIR] [--key NAME] [--debounce 300ms] [daemon flags]",
		Short: "The main job: publish the site, run the node and gateway, republish on every change",
		Long: `Run the daemon (as 'island daemon' does, with the same flags), publish
--content as the current version of the site, print its URLs, then watch
--content and publish again after every change (once no change came for
--debounce). A change that does not build is reported with every problem
and the previous version stays published. Stop with Ctrl-C.

'island serve --offline' joins no network: a first try, served on the local
gateway only.`,
		Annotations: local(),
		Args:        noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := do.config(env)
			if err != nil {
				return err
			}
			if debounce <= 0 {
				return usagef("--debounce %s: want a positive duration, e.g. 300ms", debounce)
			}
			content := env.abs(so.content)
			if st, err := os.Stat(content); err != nil || !st.IsDir() {
				return fmt.Errorf("serve: content directory %s not found: create it or name another with --content", so.content)
			}
			// The checks report from their own goroutines.
			senv := *env
			senv.Stdout = &lockedWriter{w: env.Stdout}
			senv.Stderr = &lockedWriter{w: env.Stderr}
			return runDaemon(cmd, &senv, g, cfg, func(d *daemon.Daemon) error {
				denv := senv
				denv.daemon = d
				s, err := newSiteWatcher(&denv, d.Core(), so, content, debounce)
				if err != nil {
					return err
				}
				if len(cfg.Core.Node.Bootstrap) > 0 && d.Core().Networked() {
					// A record put before any peer is known reaches nobody,
					// and the republisher only tries again hours later.
					awaitNetwork(cmd.Context(), &denv, d.Core(), joinTimeout)
				}
				if err := s.first(cmd.Context()); err != nil {
					s.close()
					return err
				}
				d.Go(s.run)
				return nil
			})
		},
	}
	do.register(cmd)
	so.register(cmd)
	cmd.Flags().DurationVar(&debounce, "debounce", defaultDebounce, "wait this long after the last change before republishing")
	return cmd
}

// joinTimeout bounds serve's wait for a first DHT peer before it publishes.
const joinTimeout = 30 * time.Second

// awaitNetwork waits until the node's DHT knows at least one peer, or for
// timeout, and says which.
func awaitNetwork(ctx context.Context, env *Env, cr *core.Core, timeout time.Duration) {
	known := func() int {
		d := cr.Node.DHT()
		return d.WAN.RoutingTable().Size() + d.LAN.RoutingTable().Size()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	said := false
	for start := time.Now(); known() == 0; {
		if !said && time.Since(start) > time.Second {
			fmt.Fprintln(env.Stdout, "joining the network…")
			said = true
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(env.Stdout, "no peer answered within %s: publishing anyway; the record reaches the network when the daemon next republishes\n", timeout)
			return
		case <-t.C:
		}
	}
}

// siteWatcher republishes the site whenever its content changes.
type siteWatcher struct {
	env      *Env
	cr       *core.Core
	o        siteOptions
	content  string
	debounce time.Duration
	w        *fsnotify.Watcher

	// checks are the retrievability checks in flight; a new version
	// cancels the check of the one before.
	checks      sync.WaitGroup
	cancelCheck context.CancelFunc
}

func newSiteWatcher(env *Env, cr *core.Core, o siteOptions, content string, debounce time.Duration) (*siteWatcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("serve: watch %s: %w", content, err)
	}
	s := &siteWatcher{env: env, cr: cr, o: o, content: content, debounce: debounce, w: w, cancelCheck: func() {}}
	// Watching starts before the first build, so that nothing changed
	// while it runs goes unnoticed.
	if err := s.watchTree(content); err != nil {
		w.Close()
		return nil, err
	}
	return s, nil
}

func (s *siteWatcher) close() {
	s.cancelCheck()
	s.checks.Wait()
	s.w.Close()
}

// watchTree watches dir and every directory below it, except hidden ones,
// which the site skips too.
func (s *siteWatcher) watchTree(dir string) error {
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
		if p != dir && hidden(d.Name()) {
			return filepath.SkipDir
		}
		if err := s.w.Add(p); err != nil {
			return fmt.Errorf("serve: watch %s: %w (on Linux, raise fs.inotify.max_user_watches)", p, err)
		}
		return nil
	})
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") }

// first publishes once at start and prints the URLs. A site that does not
// build is reported and watched until it does.
func (s *siteWatcher) first(ctx context.Context) error {
	v, err := publishSite(ctx, s.env, s.cr, s.o)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: Run ends at once
		}
		if !isBuildError(err) {
			return err
		}
		fmt.Fprintf(s.env.Stderr, "island: %v\n", err)
		fmt.Fprintf(s.env.Stdout, "nothing published yet: fix the problems above and save, %s is watched\n", s.env.rel(s.content))
		return nil
	}
	if checkRuns(s.cr, s.o) {
		v.Retrievable = retrievability{Reason: "checking…"}
		printPublished(s.env, v)
		s.startCheck(ctx, v)
	} else {
		v.Retrievable = checkRetrievable(ctx, s.cr, v.CID, s.o)
		printPublished(s.env, v)
	}
	fmt.Fprintf(s.env.Stdout, "watching %s for changes\n", s.env.rel(s.content))
	return nil
}

// run watches until ctx ends, republishing after each burst of changes.
func (s *siteWatcher) run(ctx context.Context) error {
	defer s.close()
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
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
						fmt.Fprintf(s.env.Stderr, "island: %v\n", err)
					}
				}
			}
			if timer == nil {
				timer = time.NewTimer(s.debounce)
			} else {
				timer.Reset(s.debounce)
			}
			fire = timer.C
		case err, ok := <-s.w.Errors:
			if !ok {
				return nil
			}
			// Typically an event queue overflow: events were lost, so
			// rebuild to be sure.
			slog.Warn("watching content", "err", err)
			if timer == nil {
				timer = time.NewTimer(s.debounce)
			} else {
				timer.Reset(s.debounce)
			}
			fire = timer.C
		case <-fire:
			fire = nil
			s.republish(ctx)
		}
	}
}

// relevant drops what cannot change the site: mode changes and hidden
// files (editors' swap and lock files), which the site skips.
func (s *siteWatcher) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	rel, err := filepath.Rel(s.content, ev.Name)
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

// republish runs the pipeline once for a change and reports the outcome.
func (s *siteWatcher) republish(ctx context.Context) {
	start := time.Now()
	v, err := publishSite(ctx, s.env, s.cr, s.o)
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		fmt.Fprintf(s.env.Stderr, "island: %v\n", err)
		return
	case v.Unchanged:
		fmt.Fprintf(s.env.Stdout, "%s unchanged: %s is still version %d\n", clock(), v.CID, v.Version)
		return
	}
	fmt.Fprintf(s.env.Stdout, "%s published %s (version %d) in %s at /ipns/%s\n",
		clock(), v.CID, v.Version, time.Since(start).Round(time.Millisecond), v.Name)
	if v.Warning != "" {
		fmt.Fprintf(s.env.Stdout, "warning: %s\n", v.Warning)
	}
	if checkRuns(s.cr, s.o) {
		s.startCheck(ctx, v)
	}
}

// startCheck checks in the background that v is retrievable, replacing the
// check of an earlier version.
func (s *siteWatcher) startCheck(ctx context.Context, v siteVersion) {
	s.cancelCheck()
	ctx, cancel := context.WithCancel(ctx)
	s.cancelCheck = cancel
	s.checks.Go(func() {
		r := checkRetrievable(ctx, s.cr, v.CID, s.o)
		if ctx.Err() != nil {
			return // superseded or stopping
		}
		fmt.Fprintf(s.env.Stdout, "retrievable (version %d): %s\n", v.Version, r)
	})
}

func clock() string { return time.Now().Format(time.TimeOnly) }

// isBuildError reports whether err is the site not building (bad input),
// as opposed to the repo or the node failing.
func isBuildError(err error) bool {
	return errors.As(err, new(*site.BuildError))
}

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
