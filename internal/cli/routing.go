package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/ipfs/boxo/ipns"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
)

func newRoutingCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "routing",
		Short: "Store and read signed IPNS records: routing put, routing get",
	}
	cmd.AddCommand(newRoutingPutCmd(env, g), newRoutingGetCmd(env, g))
	return cmd
}

// readSmallFile reads at most one byte more than limit, so that a huge
// file (a record, a key) is refused by its size without being read whole.
func readSmallFile(p string, limit int) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(limit)+1))
}

func newRoutingPutCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON, allowOffline bool
	cmd := &cobra.Command{
		Use:   "put /ipns/NAME FILE",
		Short: "Validate the signed IPNS record in FILE and store it (online: also put it to the DHT)",
		Long: `Store a signed IPNS record made elsewhere (for example a gateway-conformance
fixture) after checking its signature against NAME, its expiry, and that it
is not older than the record already held. The bytes are kept unchanged.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := env.abs(args[1])
			data, err := readSmallFile(file, ipns.MaxRecordSize)
			if err != nil {
				return fmt.Errorf("routing put: %w", err)
			}
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				res, err := a.RoutingPut(ctx, core.RoutingPutRequest{Name: args[0], Record: data})
				if err != nil {
					return aboutFile(err, "routing put", args[1])
				}
				if res.Warning != "" {
					fmt.Fprintf(env.Stderr, "island: warning: %s\n", res.Warning)
				}
				if asJSON {
					return printJSON(env.Stdout, res.Record)
				}
				fmt.Fprintf(env.Stdout, "stored record for /ipns/%s: %s (sequence %d, valid until %s)\n",
					res.Record.Name, res.Record.Value, res.Record.Seq, res.Record.EOL.UTC().Format("2006-01-02 15:04:05Z"))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the stored record as JSON")
	cmd.Flags().BoolVar(&allowOffline, "allow-offline", false, "accepted for Kubo compatibility: island always stores into the repo when no node runs")
	return cmd
}

func newRoutingGetCmd(env *Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "get /ipns/NAME",
		Short: "Write the best signed IPNS record known for NAME to stdout (raw bytes)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				b, err := a.RoutingGet(ctx, core.RoutingGetRequest{Name: args[0]})
				if err != nil {
					return err
				}
				_, err = env.Stdout.Write(b)
				return err
			})
		},
	}
}
