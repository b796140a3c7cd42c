package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
)

func newNameCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "name",
		Short: "Publish and resolve IPNS names: name publish, name resolve",
	}
	cmd.AddCommand(newNamePublishCmd(env, g), newNameResolveCmd(env, g))
	return cmd
}

func newNamePublishCmd(env *Env, g *globalOptions) *cobra.Command {
	var (
		key           string
		ttl, lifetime time.Duration
		resolve       bool
		quiet, asJSON bool
		allowOffline  bool
	)
	cmd := &cobra.Command{
		Use:   "publish [--key NAME] PATH",
		Short: "Point the IPNS name of a key at PATH (CID[/…], /ipfs/… or /ipns/…)",
		Long: `Sign an IPNS record pointing the name of --key (default self) at PATH and
store it in the repo. With a daemon it is put to the DHT at once; without
one, the daemon puts it out when it starts. PATH is published as given.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := core.NamePublishRequest{Key: key, Path: args[0], Lookup: env.lookup(), Resolve: resolve}
			if cmd.Flags().Changed("ttl") {
				if ttl <= 0 {
					return usagef("--ttl %s: want a positive duration, e.g. 5m", ttl)
				}
				req.TTL = core.Duration(ttl)
			}
			if cmd.Flags().Changed("lifetime") {
				if lifetime <= 0 {
					return usagef("--lifetime %s: want a positive duration, e.g. 48h", lifetime)
				}
				req.Lifetime = core.Duration(lifetime)
			}
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				res, err := a.NamePublish(ctx, req)
				if err != nil {
					return err
				}
				if res.Warning != "" {
					fmt.Fprintf(env.Stderr, "island: warning: %s\n", res.Warning)
				}
				switch {
				case asJSON:
					if err := printJSON(env.Stdout, res.Record); err != nil {
						return err
					}
				case quiet:
					fmt.Fprintln(env.Stdout, res.Record.Name)
				default:
					fmt.Fprintf(env.Stdout, "Published to %s: %s\n", res.Record.Name, res.Record.Value)
				}
				env.notes(res.Notes)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&key, "key", "k", "self", "key to sign with: its name (see 'island key ls') or its IPNS name")
	f.DurationVar(&ttl, "ttl", 0, "how long resolvers may cache the record (default 5m)")
	f.DurationVar(&lifetime, "lifetime", 0, "how long the record stays valid (default 48h)")
	f.BoolVar(&resolve, "resolve", true, "check that PATH resolves before publishing")
	f.BoolVarP(&quiet, "quieter", "Q", false, "print only the IPNS name")
	f.BoolVar(&asJSON, "json", false, "print the record as JSON")
	f.BoolVar(&allowOffline, "allow-offline", false, "accepted for Kubo compatibility: island always publishes into the repo when no node runs")
	return cmd
}

func newNameResolveCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "resolve NAME",
		Short: "Print the /ipfs/ path NAME points at (/ipns/k51…, k51… or a DNSLink domain)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				res, err := a.NameResolve(ctx, core.NameResolveRequest{Name: args[0], Lookup: env.lookup()})
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, res)
				}
				fmt.Fprintln(env.Stdout, res.Path)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the path with the record's sequence, TTL and expiry as JSON")
	return cmd
}
