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

// repoKey carries an already open repo in a command's context.
type repoKey struct{}

// WithRepo returns a context under which commands work on r instead of
// opening the repo themselves. A daemon holds the repo (and its lock) for
// its whole life and runs the commands it is sent with this context.
func WithRepo(ctx context.Context, r *repo.Repo) context.Context {
	return context.WithValue(ctx, repoKey{}, r)
}

// openRepo returns the repo a command works on, and the function that
// releases it. It is the one place that decides where the repo comes from:
// the daemon's own (see WithRepo), or else the repo named by --repo,
// $ISLAND_PATH or ~/.island, opened here. If a daemon holds that one, Open
// fails with *repo.LockedError naming its pid; a command line is sent to a
// running daemon before it gets here (its API address is in $REPO/api).
func openRepo(ctx context.Context, env *Env, g *globalOptions) (*repo.Repo, func() error, error) {
	if r, ok := ctx.Value(repoKey{}).(*repo.Repo); ok {
		return r, func() error { return nil }, nil
	}
	dir, err := repoDir(env, g)
	if err != nil {
		return nil, nil, err
	}
	cfg := repo.DefaultConfig()
	cfg.Path = dir
	r, err := repo.Open(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return r, r.Close, nil
}

// withRepo runs f on the repo and releases it, reporting a release error
// only if f succeeded.
func withRepo(ctx context.Context, env *Env, g *globalOptions, f func(*repo.Repo) error) (err error) {
	r, release, err := openRepo(ctx, env, g)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := release(); err == nil {
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
