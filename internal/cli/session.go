package cli

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/islandsite/island/internal/api"
	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/repo"
)

// repoDir is the repo a command works on: --repo, else $ISLAND_PATH, else
// ~/.island; relative paths are taken from the command's working directory.
func repoDir(env *Env, g *globalOptions) (string, error) {
	flag := g.repo
	if flag != "" {
		flag = env.abs(flag)
	}
	getenv := func(k string) string {
		v := env.getenv(k)
		if k == repo.EnvPath && v != "" {
			v = env.abs(v)
		}
		return v
	}
	return repo.ResolvePath(flag, getenv)
}

// open is the one place where a command chooses where it runs: the daemon
// that holds the repo, if one answers for it (docs/interface.md), else a Core
// opened in this process for this command. Either way the command sees the
// same core.API, and close must be called when it is done.
func open(ctx context.Context, env *Env, g *globalOptions) (_ core.API, closeFn func() error, err error) {
	dir, err := repoDir(env, g)
	if err != nil {
		return nil, nil, err
	}
	client, err := api.Dial(ctx, dir)
	if err == nil {
		return client, func() error { return nil }, nil
	}
	if !errors.Is(err, api.ErrNoDaemon) {
		return nil, nil, err
	}
	cfg := core.DefaultConfig()
	cfg.RepoPath = dir
	c, err := core.Open(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	// Holding the repo's lock proves no daemon runs: an api file left by
	// one that was killed would only slow the next command down.
	if err := os.Remove(filepath.Join(dir, api.FileName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		slog.Debug("remove stale api file", "err", err)
	}
	return c, c.Close, nil
}

// withAPI runs f on the API open chooses and closes it after; the first
// error is the one reported.
func withAPI(ctx context.Context, env *Env, g *globalOptions, f func(core.API) error) (err error) {
	a, closeFn, err := open(ctx, env, g)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := closeFn(); err == nil {
			err = cerr
		}
	}()
	return f(a)
}

// withDaemon runs f on the daemon's API, for commands that only ask the
// running node (op names them). Without a daemon it fails before opening
// the repo, which would create one (a new identity) just to say that no
// node runs.
func withDaemon(ctx context.Context, env *Env, g *globalOptions, op string, f func(core.API) error) error {
	dir, err := repoDir(env, g)
	if err != nil {
		return err
	}
	client, err := api.Dial(ctx, dir)
	if errors.Is(err, api.ErrNoDaemon) {
		return core.Errorf(core.CodeUnavailable, "%s: this needs the running node: start 'island daemon' (or 'island serve') first", op)
	}
	if err != nil {
		return err
	}
	return f(client)
}

// lookup is what every request that resolves names carries: the caller's
// IPFS_NS_MAP, so a daemon resolves DNSLink as the caller's environment
// says. A malformed value is reported and ignored rather than failing
// commands that do not resolve names.
func (e *Env) lookup() core.Lookup {
	v := e.getenv("IPFS_NS_MAP")
	if v == "" {
		return core.Lookup{}
	}
	m, err := names.ParseNSMap(v)
	if err != nil {
		slog.Warn("ignoring IPFS_NS_MAP", "err", err)
		return core.Lookup{}
	}
	return core.Lookup{NSMap: m}
}

func (e *Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}
