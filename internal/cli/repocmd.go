package cli

import (
	"fmt"

	"github.com/dustin/go-humanize"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
)

func newRepoCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repo",
		Short: "Look after the repo: repo verify",
	}
	cmd.AddCommand(newRepoVerifyCmd(env, g), newRepoStatCmd(env, g))
	return cmd
}

func newRepoStatCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stat",
		Short: "How much of its quota (--storage-max, config.json's storageMax) the repo uses",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				st, err := a.RepoStat(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, st)
				}
				fmt.Fprintf(env.Stdout, "used %s of %s (%.0f%%); blocks nothing holds are collected past %d%%\n",
					humanize.IBytes(st.UsedBytes), humanize.IBytes(st.MaxBytes), percent(st.UsedBytes, st.MaxBytes), st.GCWatermark)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print used_bytes, max_bytes and gc_watermark as JSON")
	return cmd
}

func percent(n, of uint64) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func newRepoVerifyCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Re-hash every block; report corrupt blocks and blocks missing from pinned DAGs (exit 1 if any)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				rep, err := a.RepoVerify(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					if err := printJSON(env.Stdout, rep); err != nil {
						return err
					}
				} else {
					for _, c := range rep.Corrupt {
						fmt.Fprintf(env.Stdout, "corrupt %s\n", c)
					}
					for _, m := range rep.Missing {
						fmt.Fprintf(env.Stdout, "missing %s (pinned DAG %s)\n", m.Block, m.Pin)
					}
					if rep.OK() {
						fmt.Fprintf(env.Stdout, "verified %d blocks: all good\n", rep.Blocks)
					}
				}
				if !rep.OK() {
					dir, _ := repoDir(env, g)
					return fmt.Errorf("repo verify: %d corrupt and %d missing blocks in %s; restore them (dag import, add) or unpin what needs them",
						len(rep.Corrupt), len(rep.Missing), dir)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
