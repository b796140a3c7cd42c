package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/daemon"
)

func newServeCmd(env *Env, g *globalOptions) *cobra.Command {
	var do daemonOptions
	var so siteOptions
	var debounce time.Duration
	cmd := &cobra.Command{
		Use:   "serve [--content DIR | --dir FOLDER] [--key NAME] [--debounce 300ms] [daemon flags]",
		Short: "The main job: publish the site, run the node and gateway, republish on every change",
		Long: `Run the daemon (as 'island daemon' does, with the same flags), publish
--content as the current version of the site, print its URLs, then watch
--content and publish again after every change (once no change came for
--debounce). A change that does not build is reported with every problem
and the previous version stays published. Stop with Ctrl-C.

--dir FOLDER publishes a folder another generator builds (hugo --watch,
eleventy --watch, …) as it is, again after every change, with the check of
its links that 'island publish --dir' makes.

'island serve --offline' joins no network: a first try, served on the local
gateway only.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := do.config(env, g)
			if err != nil {
				return err
			}
			if debounce <= 0 {
				return usagef("--debounce %s: want a positive duration, e.g. 300ms", debounce)
			}
			if err := so.check(cmd); err != nil {
				return err
			}
			sc := daemon.DefaultSiteConfig()
			if so.dir != "" {
				dir, err := so.folder(env)
				if err != nil {
					return fmt.Errorf("serve: %w", err)
				}
				sc.Content, sc.Dir = "", dir
			} else {
				content := env.abs(so.content)
				if st, err := os.Stat(content); err != nil || !st.IsDir() {
					return fmt.Errorf("serve: content directory %s not found: create it or name another with --content", so.content)
				}
				sc.Content = content
			}
			sc.Key, sc.Debounce = so.key, debounce
			sc.Check, sc.CheckTimeout = !so.noCheck, so.checkTimeout
			sc.Lifetime, _ = so.flagLifetime() // checked above
			cfg.Site = &sc
			return runDaemon(cmd.Context(), env, cfg)
		},
	}
	do.register(cmd)
	so.register(cmd)
	cmd.Flags().DurationVar(&debounce, "debounce", 300*time.Millisecond, "wait this long after the last change before republishing")
	return cmd
}
