package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/repo"
)

func newNameCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "name",
		Short: "Publish and resolve IPNS names: name publish, name resolve",
	}
	cmd.AddCommand(newNamePublishCmd(env, g), newNameResolveCmd(env, g))
	return cmd
}

// recordJSON is a signed IPNS record as `name publish --json` and
// `routing put --json` print it.
type recordJSON struct {
	Name  string    `json:"name"`
	Value string    `json:"value"`
	Seq   uint64    `json:"seq"`
	EOL   time.Time `json:"eol"`
	TTL   string    `json:"ttl,omitempty"`
}

func toRecordJSON(rec names.Record) recordJSON {
	out := recordJSON{Name: rec.Name.String(), Value: rec.Value.String(), Seq: rec.Seq, EOL: rec.EOL.UTC()}
	if rec.TTL > 0 {
		out.TTL = rec.TTL.String()
	}
	return out
}

// warnRoutingPut reports a record that is stored in the repo but did not
// reach the DHT; err is nil or wraps names.ErrRoutingPut. Not a failure:
// the record resolves locally and can be put again (then says how).
func warnRoutingPut(env *Env, err error, then string) {
	if err != nil {
		fmt.Fprintf(env.Stderr, "island: warning: %s\n", notPut(err, then))
	}
}

func notPut(err error, then string) string {
	return fmt.Sprintf("the record is stored in the repo, but %v; %s", err, then)
}

// routingPutWarning sorts out the error of a publish of our own name (cmd):
// a failed put to routing (names.ErrRoutingPut) becomes a warning, anything
// else stays an error. Inside a daemon the warning promises that the
// republisher retries, so it is woken now: its next round may be hours away.
func routingPutWarning(env *Env, err error, cmd string) (string, error) {
	if !errors.Is(err, names.ErrRoutingPut) {
		return "", err
	}
	then := "run " + cmd + " again once the node has peers"
	if env.daemon != nil {
		env.daemon.RepublishSoon()
		then = "the daemon keeps trying until it gets there"
	}
	return notPut(err, then), nil
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
			ctx := cmd.Context()
			p, err := repo.ParsePath(args[0])
			if err != nil {
				return usageError{fmt.Errorf("name publish: %w", err)}
			}
			var opts []names.PublishOption
			if cmd.Flags().Changed("ttl") {
				if ttl <= 0 {
					return usagef("--ttl %s: want a positive duration, e.g. 5m", ttl)
				}
				opts = append(opts, names.WithTTL(ttl))
			}
			if cmd.Flags().Changed("lifetime") {
				if lifetime <= 0 {
					return usagef("--lifetime %s: want a positive duration, e.g. 48h", lifetime)
				}
				opts = append(opts, names.WithLifetime(lifetime))
			}
			return withCore(ctx, env, g, func(cr *core.Core) error {
				k, err := keyByName(cr.Repo, key)
				if err != nil {
					return fmt.Errorf("name publish: --key: %w", err)
				}
				if resolve {
					// Refuse a path that leads nowhere: its target block must
					// be in the repo or, online, come from a peer.
					c, err := cr.Resolve(ctx, p)
					if err == nil {
						_, err = cr.BlockService().GetBlock(ctx, c)
					}
					if err != nil {
						return fmt.Errorf("name publish: %s does not resolve (--resolve=false publishes it anyway): %w", p, err)
					}
				}
				rec, err := cr.Names.Publish(ctx, k, p, opts...)
				warning, err := routingPutWarning(env, err, "name publish")
				if err != nil {
					return fmt.Errorf("name publish: %w", err)
				}
				if warning != "" {
					fmt.Fprintf(env.Stderr, "island: warning: %s\n", warning)
				}
				switch {
				case asJSON:
					if err := printJSON(env.Stdout, toRecordJSON(rec)); err != nil {
						return err
					}
				case quiet:
					fmt.Fprintln(env.Stdout, rec.Name)
				default:
					fmt.Fprintf(env.Stdout, "Published to %s: %s\n", rec.Name, rec.Value)
				}
				if !cr.Online() {
					fmt.Fprintln(env.Stderr, "island: no node is running: the record is in the repo; 'island daemon' puts it to the DHT when it starts")
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&key, "key", "k", repo.SelfKey, "key to sign with: its name (see 'island key ls') or its IPNS name")
	f.DurationVar(&ttl, "ttl", 0, "how long resolvers may cache the record (default 5m)")
	f.DurationVar(&lifetime, "lifetime", 0, "how long the record stays valid (default 48h)")
	f.BoolVar(&resolve, "resolve", true, "check that PATH resolves before publishing")
	f.BoolVarP(&quiet, "quieter", "Q", false, "print only the IPNS name")
	f.BoolVar(&asJSON, "json", false, "print the record as JSON")
	f.BoolVar(&allowOffline, "allow-offline", false, "accepted for Kubo compatibility: island always publishes into the repo when no node runs")
	return cmd
}

// resolveJSON is what `name resolve --json` prints; the record fields
// describe the last IPNS record on the way (none for a DNSLink straight to
// /ipfs).
type resolveJSON struct {
	Path string     `json:"path"`
	Name string     `json:"name,omitempty"`
	Seq  uint64     `json:"seq,omitempty"`
	TTL  string     `json:"ttl,omitempty"`
	EOL  *time.Time `json:"eol,omitempty"`
}

func newNameResolveCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "resolve NAME",
		Short: "Print the /ipfs/ path NAME points at (/ipns/k51…, k51… or a DNSLink domain)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withCore(ctx, env, g, func(cr *core.Core) error {
				res, err := cr.Names.Resolve(ctx, args[0])
				if errors.Is(err, names.ErrNotFound) && !cr.Online() {
					return fmt.Errorf("name resolve: %w (no node is running, so only records in the repo count: start 'island daemon' to look in the DHT)", err)
				}
				if err != nil {
					return fmt.Errorf("name resolve: %w", err)
				}
				if !asJSON {
					fmt.Fprintln(env.Stdout, res.Path)
					return nil
				}
				out := resolveJSON{Path: res.Path.String()}
				if res.Record != nil {
					eol := res.EOL.UTC()
					out.Name, out.Seq, out.EOL = res.Name.String(), res.Seq, &eol
				}
				if res.TTL > 0 {
					out.TTL = res.TTL.String()
				}
				return printJSON(env.Stdout, out)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the path with the record's sequence, TTL and expiry as JSON")
	return cmd
}
