package cli

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/islandsite/island/internal/core"
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

// openRepo opens the repo named by --repo, $ISLAND_PATH or ~/.island. If a
// daemon holds it, Open fails with *repo.LockedError naming its pid; a
// command line is sent to a running daemon (forward) before it gets here.
func openRepo(ctx context.Context, env *Env, g *globalOptions) (*repo.Repo, error) {
	dir, err := repoDir(env, g)
	if err != nil {
		return nil, err
	}
	cfg := repo.DefaultConfig()
	cfg.Path = dir
	return repo.Open(ctx, cfg)
}

// pathCid resolves a content path argument (CID[/sub], /ipfs/CID[/sub])
// against the repo; a malformed one is a usage error.
func pathCid(ctx context.Context, c *core.Core, arg string) (cid.Cid, error) {
	p, err := repo.ParsePath(arg)
	if err != nil {
		return cid.Undef, usageError{err}
	}
	return c.Resolve(ctx, p)
}

// withPath opens the repo, resolves the content path arg and runs f on the
// CID it names; errors are prefixed with the command name op.
func withPath(ctx context.Context, env *Env, g *globalOptions, op, arg string, f func(*core.Core, cid.Cid) error) error {
	return withCore(ctx, env, g, func(cr *core.Core) error {
		c, err := pathCid(ctx, cr, arg)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if err := f(cr, c); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return nil
	})
}
