package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/repo"
)

func newRepoCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repo",
		Short: "Look after the repo: repo verify",
	}
	cmd.AddCommand(newRepoVerifyCmd(env, g))
	return cmd
}

type verifyJSON struct {
	Blocks  int           `json:"blocks"`
	Corrupt []string      `json:"corrupt"`
	Missing []missingJSON `json:"missing"`
}

type missingJSON struct {
	Pin   string `json:"pin"`
	Block string `json:"block"`
}

func newRepoVerifyCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Re-hash every block; report corrupt blocks and blocks missing from pinned DAGs (exit 1 if any)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withRepo(ctx, env, g, func(r *repo.Repo) error {
				rep, err := r.Verify(ctx)
				if err != nil {
					return fmt.Errorf("repo verify: %w", err)
				}
				if asJSON {
					out := verifyJSON{Blocks: rep.Blocks, Corrupt: []string{}, Missing: []missingJSON{}}
					for _, c := range rep.Corrupt {
						out.Corrupt = append(out.Corrupt, c.String())
					}
					for _, m := range rep.Missing {
						out.Missing = append(out.Missing, missingJSON{Pin: m.Pin.String(), Block: m.Block.String()})
					}
					if err := printJSON(env.Stdout, out); err != nil {
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
					return fmt.Errorf("repo verify: %d corrupt and %d missing blocks in %s; restore them (dag import, add) or unpin what needs them",
						len(rep.Corrupt), len(rep.Missing), r.Path())
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
