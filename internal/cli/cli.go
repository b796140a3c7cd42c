// Package cli owns island's command line: flags, one file per command, human
// and JSON output, progress bars, and the mapping from errors to exit
// statuses. Commands do no work of their own: each parses its flags, calls
// one method of core.API (the daemon's over HTTP when one holds the repo,
// else an in-process Core: the choice is made in session.go, once) and
// prints the typed result. Commands never call os.Exit or touch os.Stdout:
// they write to the Env they are given, so tests run them in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/islandsite/island/internal/core"
)

// Env is everything a command may see of the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment; tests replace it to isolate ISLAND_PATH etc.
	Getenv func(string) string
	// Cwd resolves relative paths given on the command line.
	Cwd string
	// StderrTTY says whether progress bars may be drawn on Stderr.
	StderrTTY bool
	// OwnProcess says the process runs only this command, so settings of
	// the whole process (the GC's memory limit) may be tuned for it; false
	// where commands run inside another program (tests).
	OwnProcess bool
}

// StdEnv is the Env of a real process.
func StdEnv() *Env {
	cwd, _ := os.Getwd()
	return &Env{
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Getenv:     os.Getenv,
		Cwd:        cwd,
		StderrTTY:  term.IsTerminal(int(os.Stderr.Fd())),
		OwnProcess: true,
	}
}

// Exit statuses: 1 for a failure, 2 for a command line that cannot be run.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// Run executes one command line and returns the process exit status.
func Run(ctx context.Context, args []string, env *Env) int {
	root := newRootCmd(env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var fe failed
	if errors.As(err, &fe) {
		return exitFailure
	}
	code := exitCode(err)
	fmt.Fprintf(env.Stderr, "island: %v\n", err)
	if code == exitUsage {
		name := "island"
		if cmd != nil {
			name = cmd.CommandPath()
		}
		fmt.Fprintf(env.Stderr, "Run '%s --help' for usage.\n", name)
	}
	return code
}

// usageError marks an error in the command line itself (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// failed is a failure the command has already reported on its own terms
// (repo verify's report): exit 1, nothing more to print.
type failed struct{}

func (failed) Error() string { return "failed" }

// exitCode is the one place that maps errors to exit statuses: a command
// line that cannot be run, or a request value core calls invalid, is a
// usage error; anything else a failure.
func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) || core.ErrorCode(err) == core.CodeInvalid {
		return exitUsage
	}
	if core.ErrorCode(err) == core.CodeRepoFull {
		// A failure like any other (docs/interface.md): the message says
		// what to free or raise.
		return exitFailure
	}
	// cobra reports unknown commands with plain errors before any of our code runs.
	if msg := err.Error(); strings.HasPrefix(msg, "unknown command") ||
		strings.HasPrefix(msg, "unknown flag") || strings.HasPrefix(msg, "unknown shorthand flag") {
		return exitUsage
	}
	return exitFailure
}

// globalOptions are the flags every command accepts.
type globalOptions struct {
	repo     string
	logLevel string
}

func newRootCmd(env *Env) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:           "island",
		Short:         "Publish a personal site on IPFS and keep it reachable with friends",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return setupLogging(env, g.logLevel)
		},
	}
	root.PersistentFlags().StringVar(&g.repo, "repo", "", "repo directory (default $ISLAND_PATH or ~/.island)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	for _, newCmd := range []func(*Env, *globalOptions) *cobra.Command{
		newVersionCmd,
		newBuildCmd,
		newDaemonCmd,
		newIDCmd,
		newPeersCmd,
		newProvideCmd,
		newStatusCmd,
		newGetCmd,
		newAddCmd,
		newCatCmd,
		newLsCmd,
		newPinCmd,
		newGCCmd,
		newDagCmd,
		newRepoCmd,
		newKeyCmd,
		newNameCmd,
		newRoutingCmd,
		newFollowCmd,
		newPublishCmd,
		newHistoryCmd,
		newRollbackCmd,
		newServeCmd,
	} {
		root.AddCommand(newCmd(env, g))
	}
	return root
}

// setupLogging routes log/slog (and everything bridged into it) to stderr.
func setupLogging(env *Env, level string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return usagef("--log-level %q: want debug, info, warn or error", level)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: l})))
	return nil
}

// args validators that report usage errors (exit 2) rather than failures.

func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s needs at least %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}
