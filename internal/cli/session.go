package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	ipld "github.com/ipfs/go-ipld-format"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/api"
	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/daemon"
	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/repo"
)

// annotLocal marks commands that never go through a daemon: they do not
// touch the repo (build, version) or they are the daemon (daemon, serve).
const annotLocal = "island/local"

func local() map[string]string { return map[string]string{annotLocal: "true"} }

// isLocal reports whether cmd or one of its parents is marked local; help and
// completion are cobra's own and local too.
func isLocal(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[annotLocal] != "" || c.Name() == "help" || c.Name() == "completion" {
			return true
		}
	}
	return false
}

// forwarded carries the exit status of a command that a daemon ran.
type forwarded struct{ code int }

func (f forwarded) Error() string { return fmt.Sprintf("exit status %d (from the daemon)", f.code) }

// forward sends the whole command line to the daemon that holds the repo, if
// one runs, and reports whether it did. This is the one place where a command
// chooses between the daemon and opening the repo itself (INTERFACE.md).
// Inside the daemon it is not called: there is nothing to forward to.
func forward(cmd *cobra.Command, env *Env, g *globalOptions, args []string) error {
	if isLocal(cmd) {
		return nil
	}
	dir, err := repoDir(env, g)
	if err != nil {
		return err
	}
	client, err := api.Dial(cmd.Context(), dir)
	if errors.Is(err, api.ErrNoDaemon) {
		return nil
	}
	if err != nil {
		return err
	}
	code, err := client.Run(cmd.Context(), api.RunRequest{Args: args, Cwd: env.Cwd, TTY: env.StderrTTY}, env.Stdout, env.Stderr)
	if err != nil {
		return err
	}
	return forwarded{code}
}

// withCore runs f on the daemon's Core when the command runs inside the
// daemon, else on an offline Core over the repo opened for this command.
func withCore(ctx context.Context, env *Env, g *globalOptions, f func(*core.Core) error) (err error) {
	if env.core != nil {
		return f(env.core)
	}
	r, err := openRepo(ctx, env, g)
	if err != nil {
		return err
	}
	defer closeInto(&err, r)
	c, err := core.Open(ctx, r, env.coreConfig())
	if err != nil {
		return err
	}
	defer closeInto(&err, c)
	err = f(c)
	if ipld.IsNotFound(err) {
		// Without a daemon nothing is fetched from peers: say so once, here.
		err = fmt.Errorf("%w (the repo does not have it: start 'island daemon' to fetch it from peers, or add it or dag import a CAR holding it)", err)
	}
	return err
}

// withRepo runs f on the repo, through withCore so that gc roots and the
// daemon's open repo are the same as for every other command.
func withRepo(ctx context.Context, env *Env, g *globalOptions, f func(*repo.Repo) error) error {
	return withCore(ctx, env, g, func(c *core.Core) error { return f(c.Repo) })
}

// coreConfig is the offline Core a command opens for itself.
func (e *Env) coreConfig() core.Config {
	cfg := core.DefaultConfig()
	cfg.Names.DNSLinkOverrides = e.nsMap()
	return cfg
}

// DaemonRunner runs API commands inside daemon d with d's Core, so that a
// command gives the same result through the daemon as without it.
func DaemonRunner(d *daemon.Daemon) api.Runner {
	return func(ctx context.Context, req api.RunRequest, stdout, stderr io.Writer) int {
		env := &Env{
			Stdin:     eofReader{},
			Stdout:    stdout,
			Stderr:    stderr,
			Getenv:    os.Getenv,
			Cwd:       req.Cwd,
			StderrTTY: req.TTY,
			core:      d.Core(),
			daemon:    d,
		}
		return Run(ctx, req.Args, env)
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// nsMap reads IPFS_NS_MAP (Kubo's DNSLink overrides); a malformed value is
// reported and ignored rather than failing commands that do not resolve names.
func (e *Env) nsMap() map[string]string {
	if e.Getenv == nil {
		return nil
	}
	v := e.Getenv("IPFS_NS_MAP")
	if v == "" {
		return nil
	}
	m, err := names.ParseNSMap(v)
	if err != nil {
		slog.Warn("ignoring IPFS_NS_MAP", "err", err)
		return nil
	}
	return m
}

// closeInto closes c and reports its error in *err unless *err already
// holds one: the first failure is the one the user needs to see.
func closeInto(err *error, c io.Closer) {
	if cerr := c.Close(); *err == nil {
		*err = cerr
	}
}
