package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ipfs/boxo/ipns"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/names"
)

func newRoutingCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "routing",
		Short: "Store and read signed IPNS records: routing put, routing get",
	}
	cmd.AddCommand(newRoutingPutCmd(env, g), newRoutingGetCmd(env, g))
	return cmd
}

// routingKey checks a routing key argument: island stores IPNS records only.
func routingKey(cmd *cobra.Command, arg string) error {
	if !strings.HasPrefix(arg, ipns.NamespacePrefix) {
		return usagef("%s: key %q: want /ipns/NAME (island stores IPNS records only)", cmd.CommandPath(), arg)
	}
	if _, err := names.ParseName(arg); err != nil {
		return usageError{fmt.Errorf("%s: %w", cmd.CommandPath(), err)}
	}
	return nil
}

// readRecordFile reads at most one byte more than an IPNS record may have,
// so that a huge file is refused by size without being read whole.
func readRecordFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(ipns.MaxRecordSize)+1))
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
			if err := routingKey(cmd, args[0]); err != nil {
				return err
			}
			ctx := cmd.Context()
			file := env.abs(args[1])
			return withCore(ctx, env, g, func(cr *core.Core) error {
				data, err := readRecordFile(file)
				if err != nil {
					return fmt.Errorf("routing put: %w", err)
				}
				if len(data) > ipns.MaxRecordSize {
					return fmt.Errorf("routing put: %s: refused: an IPNS record has at most %d bytes, this file has more", file, ipns.MaxRecordSize)
				}
				rec, err := cr.Names.PutRecord(ctx, args[0], data)
				if err != nil && !errors.Is(err, names.ErrRoutingPut) {
					var rerr *names.RecordError
					if errors.As(err, &rerr) {
						return fmt.Errorf("routing put: %s: refused: %w", file, err)
					}
					return fmt.Errorf("routing put: %s: %w", file, err)
				}
				warnRoutingPut(env, err, "run routing put again once the node has peers")
				if asJSON {
					return printJSON(env.Stdout, toRecordJSON(rec))
				}
				fmt.Fprintf(env.Stdout, "stored record for /ipns/%s: %s (sequence %d, valid until %s)\n",
					rec.Name, rec.Value, rec.Seq, rec.EOL.UTC().Format("2006-01-02 15:04:05Z"))
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
			if err := routingKey(cmd, args[0]); err != nil {
				return err
			}
			ctx := cmd.Context()
			return withCore(ctx, env, g, func(cr *core.Core) error {
				b, err := cr.Names.Record(ctx, args[0])
				if err != nil {
					return fmt.Errorf("routing get: %w", err)
				}
				_, err = env.Stdout.Write(b)
				return err
			})
		},
	}
}
