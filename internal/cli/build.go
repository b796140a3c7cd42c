package cli

import (
	"fmt"

	"github.com/islandsite/island/internal/site"
	"github.com/spf13/cobra"
)

func newBuildCmd(env *Env, _ *globalOptions) *cobra.Command {
	var content, out string
	var drafts, future bool
	cmd := &cobra.Command{
		Use:   "build [--content DIR] [--out DIR] [--drafts] [--future]",
		Short: "Render the site to a directory; no node, no repo",
		Long: "Render the Markdown in --content into a static site in --out, checking every\n" +
			"internal link. The output is replaced in one step; when the build fails, the\n" +
			"previous output stays as it was. --content is island's own layout or a Hugo\n" +
			"site's root (its hugo.toml, content/, static/), built as Hugo lays it out\n" +
			"with island's theme.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := site.DefaultConfig()
			cfg.ContentDir = env.abs(content)
			cfg.Drafts, cfg.Future = drafts, future
			b, err := site.Build(cmd.Context(), cfg)
			if err != nil {
				return describeBuildError(env, content, out+" was left as it was", err)
			}
			if err := site.WriteDir(b, env.abs(out)); err != nil {
				return fmt.Errorf("build: %w", err)
			}
			fmt.Fprintf(env.Stdout, "built %d pages, %d static files into %s\n", b.Pages(), b.StaticFiles(), out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&content, "content", "content", contentHelp)
	f.StringVar(&out, "out", "public", "directory to write the site to (replaced as a whole)")
	f.BoolVar(&drafts, "drafts", false, "include pages marked draft: true")
	f.BoolVar(&future, "future", false, "include pages dated in the future")
	return cmd
}
