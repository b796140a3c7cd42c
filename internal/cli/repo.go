package cli

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

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
		if env.Getenv == nil {
			return ""
		}
		v := env.Getenv(k)
		if k == repo.EnvPath && v != "" {
			v = env.abs(v)
		}
		return v
	}
	return repo.ResolvePath(flag, getenv)
}

// openRepo opens the repo for a command that works on it directly, and is
// the one place that decides between doing that and asking a running
// daemon. A daemon holds the repo's lock for its whole life and writes its
// API address to $REPO/api (INTERFACE.md); a command that finds the repo
// locked fails with *repo.LockedError, which names the holder's pid. When
// the daemon's API exists, this is where such a command turns to it.
func openRepo(ctx context.Context, env *Env, g *globalOptions) (*repo.Repo, error) {
	dir, err := repoDir(env, g)
	if err != nil {
		return nil, err
	}
	cfg := repo.DefaultConfig()
	cfg.Path = dir
	return repo.Open(ctx, cfg)
}

// withRepo runs f on the open repo and closes it, reporting a close error
// only if f succeeded.
func withRepo(ctx context.Context, env *Env, g *globalOptions, f func(*repo.Repo) error) (err error) {
	r, err := openRepo(ctx, env, g)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := r.Close(); err == nil {
			err = cerr
		}
	}()
	err = f(r)
	if ipld.IsNotFound(err) {
		// Without a daemon nothing is fetched from peers: say so once, here.
		err = fmt.Errorf("%w (the repo does not have it; add it or dag import a CAR holding it)", err)
	}
	return err
}

// pathCid resolves a content path argument (CID[/sub], /ipfs/CID[/sub])
// against the repo; a malformed one is a usage error.
func pathCid(ctx context.Context, r *repo.Repo, arg string) (cid.Cid, error) {
	p, err := repo.ParsePath(arg)
	if err != nil {
		return cid.Undef, usageError{err}
	}
	return r.Resolve(ctx, p)
}

// withPath opens the repo, resolves the content path arg and runs f on the
// CID it names; errors are prefixed with the command name op.
func withPath(ctx context.Context, env *Env, g *globalOptions, op, arg string, f func(*repo.Repo, cid.Cid) error) error {
	return withRepo(ctx, env, g, func(r *repo.Repo) error {
		c, err := pathCid(ctx, r, arg)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if err := f(r, c); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return nil
	})
}
