package cli

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/repo"
)

func newHistoryCmd(env *Env, g *globalOptions) *cobra.Command {
	var key string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "history [--key NAME] [--json]",
		Short: "List the published versions of the site, oldest first",
		Long: `List every version published under the key's name (default: the node's own),
oldest first: version, CID, IPNS sequence number, time and the version it
replaced. The current one is marked with '*'. Each entry is signed by the
key and checked when read. Every version stays in the repo: gc keeps them.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				h, err := a.History(ctx, core.HistoryRequest{Key: key})
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, h.Versions)
				}
				if len(h.Versions) == 0 {
					fmt.Fprintf(env.Stdout, "nothing published under /ipns/%s yet: run 'island publish'\n", h.Name)
					return nil
				}
				fmt.Fprintf(env.Stdout, "/ipns/%s\n", h.Name)
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "VERSION\tCID\tSEQ\tPUBLISHED\tREPLACED")
				for _, v := range h.Versions {
					mark := " "
					if v.Current {
						mark = "*"
					}
					prev := "-"
					if v.Prev != "" {
						prev = v.Prev
					}
					fmt.Fprintf(tw, "%d%s\t%s\t%d\t%s\t%s\n", v.Version, mark, v.CID, v.Seq, when(v.Time), prev)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the key whose site to list (default: the node's own, \"self\")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the versions as JSON")
	cmd.AddCommand(newHistoryExportCmd(env, g), newHistoryImportCmd(env, g))
	return cmd
}

func newHistoryExportCmd(env *Env, g *globalOptions) *cobra.Command {
	var key, out string
	cmd := &cobra.Command{
		Use:   "export [--key NAME] [-o FILE]",
		Short: "Write the site's signed history, its record and every version to FILE (a CAR), to carry the site to another machine",
		Long: `Write the signed history of the site published with key NAME (default: the
node's own), the name's current record and every version's blocks to FILE
(default NAME.history.car, never replaced), a CAR whose root is the history.
On the new machine: island key import NAME NAME.key, island history import
FILE, then island publish --key NAME goes on from the last version.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if out == "" {
				out = cmp.Or(key, repo.SelfKey) + ".history.car"
			}
			return withAPI(ctx, env, g, func(a core.API) error {
				rc, err := a.HistoryExport(ctx, core.HistoryRequest{Key: key})
				if err != nil {
					return err
				}
				defer rc.Close()
				p := env.abs(out)
				// O_EXCL: an export never replaces a file.
				f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
				if err != nil {
					return fmt.Errorf("history export: %w (choose another file with -o)", err)
				}
				_, err = io.Copy(f, rc)
				if err == nil {
					err = f.Sync()
				}
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					os.Remove(p) // half a history is no history
					return fmt.Errorf("history export: %s: %w", out, err)
				}
				fmt.Fprintf(env.Stdout, "wrote the history of %s to %s\n", cmp.Or(key, repo.SelfKey), out)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the key whose site to export (default: the node's own, \"self\")")
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (default NAME.history.car); never replaced")
	return cmd
}

func newHistoryImportCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Keep a site's history exported on another machine (island history export): every version checked against the name's key",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			f, err := os.Open(env.abs(args[0]))
			if err != nil {
				return fmt.Errorf("history import: %w", err)
			}
			defer f.Close()
			return withAPI(ctx, env, g, func(a core.API) error {
				res, err := a.HistoryImport(ctx, core.HistoryImportRequest{CAR: f})
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, res)
				}
				fmt.Fprintf(env.Stdout, "imported %d versions of /ipns/%s (%d new)\n", res.Versions, res.Name, res.Added)
				env.notes(res.Notes)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func newRollbackCmd(env *Env, g *globalOptions) *cobra.Command {
	var key string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rollback [VERSION] [--key NAME]",
		Short: "Make an older version of the site current again",
		Long: `Republish VERSION (a number from 'island history'; default: the version before
the current one) under the same name with a new, higher sequence number, so
every peer prefers it to the version it replaces. The rollback is itself
recorded as a new version: nothing is lost, and a rollback can be rolled back.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("%s takes at most one VERSION, got %d arguments", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			version := 0
			if len(args) == 1 {
				n, err := strconv.Atoi(args[0])
				if err != nil || n < 1 {
					return usagef("rollback: VERSION %q: want a version number (1, 2, …) from 'island history'", args[0])
				}
				version = n
			}
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				r, err := a.Rollback(ctx, core.RollbackRequest{Key: key, Version: version})
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, r.Current)
				}
				fmt.Fprintf(env.Stdout, "rolled back /ipns/%s to version %d: %s is current again as version %d, sequence %d\n",
					r.Name, r.From, r.Current.CID, r.Current.Version, r.Current.Seq)
				if r.Warning != "" {
					fmt.Fprintf(env.Stdout, "warning: %s\n", r.Warning)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the key whose site to roll back (default: the node's own, \"self\")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the new current version as JSON")
	return cmd
}
