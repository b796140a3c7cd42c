package cli

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
)

// serviceFlag registers --service, which requireService checks.
func serviceFlag(cmd *cobra.Command, service *string) {
	cmd.Flags().StringVar(service, "service", "", "the remote pinning service (see 'island pin remote service ls')")
}

func requireService(cmd *cobra.Command, service string) error {
	if service == "" {
		return usagef("%s: --service NAME is required (see 'island pin remote service ls')", cmd.CommandPath())
	}
	return nil
}

func newPinRemoteCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remote",
		Short: "Pin on remote Pinning Service API endpoints: pin remote add, ls, rm, service",
	}
	cmd.AddCommand(newPinRemoteServiceCmd(env, g), newPinRemoteAddCmd(env, g), newPinRemoteLsCmd(env, g), newPinRemoteRmCmd(env, g))
	return cmd
}

func newPinRemoteServiceCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Configure remote pinning services: service add, ls, rm",
	}
	cmd.AddCommand(newPinRemoteServiceAddCmd(env, g), newPinRemoteServiceLsCmd(env, g), newPinRemoteServiceRmCmd(env, g))
	return cmd
}

// readToken returns arg, or the trimmed content of FILE for "@FILE" (which
// keeps the token out of shell history and process lists). The file is
// read here, by the command, never by a daemon.
func readToken(env *Env, arg string) (string, error) {
	tok := arg
	if f, ok := strings.CutPrefix(arg, "@"); ok {
		b, err := os.ReadFile(env.abs(f))
		if err != nil {
			return "", fmt.Errorf("pin remote service add: read token: %w", err)
		}
		tok = strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("pin remote service add: token file %s is empty", env.abs(f))
		}
	}
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", usagef("pin remote service add: the token must be one word (or @FILE holding it)")
	}
	return tok, nil
}

func newPinRemoteServiceAddCmd(env *Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "add NAME URL TOKEN|@FILE",
		Short: "Add a remote pinning service: its name, base URL and access token (or @FILE holding it)",
		Args:  exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := readToken(env, args[2])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				res, err := a.RemoteServiceAdd(ctx, core.RemoteService{Name: args[0], Endpoint: args[1], Key: tok})
				if err != nil {
					return err
				}
				if res.Warning != "" {
					fmt.Fprintf(env.Stderr, "island: warning: %s\n", res.Warning)
				}
				fmt.Fprintf(env.Stdout, "added remote pinning service %s at %s\n", args[0], strings.TrimSuffix(args[1], "/"))
				return nil
			})
		},
	}
}

func newPinRemoteServiceLsCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List remote pinning services: name and URL (tokens are not printed)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				svcs, err := a.RemoteServiceLs(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, svcs)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				for _, s := range svcs {
					fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Endpoint)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the services as JSON")
	return cmd
}

func newPinRemoteServiceRmCmd(env *Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove a remote pinning service (what it pinned stays pinned there)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				if err := a.RemoteServiceRm(ctx, core.RemoteServiceRmRequest{Name: args[0]}); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "removed remote pinning service %s\n", args[0])
				return nil
			})
		},
	}
}

func printRemotePin(env *Env, p core.RemotePin) {
	fmt.Fprintf(env.Stdout, "CID:\t%s\nName:\t%s\nStatus:\t%s\nRequest:\t%s\n", p.CID, p.Name, p.Status, p.RequestID)
}

func newPinRemoteAddCmd(env *Env, g *globalOptions) *cobra.Command {
	var (
		service, name      string
		background, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "add --service NAME [--name N] [--background] PATH",
		Short: "Ask a remote pinning service to pin PATH; waits until it is pinned unless --background",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireService(cmd, service); err != nil {
				return err
			}
			req := core.RemotePinAddRequest{Service: service, Path: args[0], Lookup: env.lookup(), Name: name, Background: background}
			if env.StderrTTY {
				req.Progress = func(p core.RemotePin) { fmt.Fprintf(env.Stderr, "%s: %s\n", p.CID, p.Status) }
			}
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				res, err := a.RemotePinAdd(ctx, req)
				env.notes(res.Notes)
				if err != nil {
					return err
				}
				if asJSON {
					if err := printJSON(env.Stdout, res.Pin); err != nil {
						return err
					}
				} else {
					printRemotePin(env, res.Pin)
				}
				if res.Pin.Status == "failed" {
					return fmt.Errorf("pin remote add: service %q failed to pin %s: %s", service, res.Pin.CID, res.Pin.Info["status_details"])
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	serviceFlag(cmd, &service)
	f.StringVar(&name, "name", "", "a name for the pin, shown by 'pin remote ls'")
	f.BoolVar(&background, "background", false, "return once the service has queued the request")
	f.BoolVar(&asJSON, "json", false, "print the pin request as JSON")
	return cmd
}

func newPinRemoteLsCmd(env *Env, g *globalOptions) *cobra.Command {
	var (
		service, name string
		statuses      []string
		cids          []string
		asJSON        bool
	)
	cmd := &cobra.Command{
		Use:   "ls --service NAME",
		Short: "List pin requests at a remote service: request ID, CID, status, name",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireService(cmd, service); err != nil {
				return err
			}
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				pins, err := a.RemotePinLs(ctx, core.RemotePinLsRequest{Service: service, Name: name, Statuses: statuses, CIDs: cids})
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, pins)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				for _, p := range pins {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.RequestID, p.CID, p.Status, p.Name)
				}
				return tw.Flush()
			})
		},
	}
	f := cmd.Flags()
	serviceFlag(cmd, &service)
	f.StringVar(&name, "name", "", "only pins with this exact name")
	f.StringSliceVar(&statuses, "status", []string{"pinned"}, "only these statuses, comma-separated: queued, pinning, pinned, failed")
	f.StringSliceVar(&cids, "cid", nil, "only these CIDs, comma-separated (at most 10)")
	f.BoolVar(&asJSON, "json", false, "print the pin requests as JSON")
	return cmd
}

func newPinRemoteRmCmd(env *Env, g *globalOptions) *cobra.Command {
	var service string
	cmd := &cobra.Command{
		Use:   "rm --service NAME REQUESTID...",
		Short: "Remove pin requests from a remote service (it unpins their CIDs)",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireService(cmd, service); err != nil {
				return err
			}
			ctx := cmd.Context()
			return withAPI(ctx, env, g, func(a core.API) error {
				for _, id := range args {
					if err := a.RemotePinRm(ctx, core.RemotePinRmRequest{Service: service, RequestID: id}); err != nil {
						return err
					}
					fmt.Fprintf(env.Stdout, "removed %s\n", id)
				}
				return nil
			})
		},
	}
	serviceFlag(cmd, &service)
	return cmd
}
