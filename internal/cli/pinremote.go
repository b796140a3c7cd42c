package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/pinsvc"
	"github.com/islandsite/island/internal/repo"
)

// remoteServicesFile is where `pin remote service add` keeps services and
// their tokens, mode 0600.
const remoteServicesFile = "remote-services.json"

// remoteService is one configured Pinning Service API endpoint.
type remoteService struct {
	Endpoint string `json:"endpoint"`
	Key      string `json:"key"`
}

type remoteServicesJSON struct {
	Services map[string]remoteService `json:"services"`
}

// remoteServicesMu serialises read-modify-write of the services file by
// commands that a daemon runs at the same time.
var remoteServicesMu sync.Mutex

var serviceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// maxOrigins is the Pinning Service API's limit on origins in one pin.
const maxOrigins = 20

// loadRemoteServices reads the services stored in the repo at dir.
func loadRemoteServices(dir string) (map[string]remoteService, error) {
	p := filepath.Join(dir, remoteServicesFile)
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]remoteService{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pin remote: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("pin remote: %s has mode %04o, open to group or others, and holds access tokens: run chmod 600 %s", p, perm, p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("pin remote: %w", err)
	}
	var f remoteServicesJSON
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("pin remote: %s is damaged (%v): fix it or remove it and add the services again", p, err)
	}
	if f.Services == nil {
		f.Services = map[string]remoteService{}
	}
	return f.Services, nil
}

// saveRemoteServices replaces the services stored in the repo at dir.
func saveRemoteServices(dir string, svcs map[string]remoteService) error {
	b, err := json.MarshalIndent(remoteServicesJSON{Services: svcs}, "", "  ")
	if err != nil {
		return fmt.Errorf("pin remote: %w", err)
	}
	p := filepath.Join(dir, remoteServicesFile)
	if err := repo.WriteFileAtomic(p, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("pin remote: write %s: %w", p, err)
	}
	return nil
}

// editRemoteServices applies f to the stored services and saves the result.
func editRemoteServices(r *repo.Repo, f func(map[string]remoteService) error) error {
	remoteServicesMu.Lock()
	defer remoteServicesMu.Unlock()
	svcs, err := loadRemoteServices(r.Path())
	if err != nil {
		return err
	}
	if err := f(svcs); err != nil {
		return err
	}
	return saveRemoteServices(r.Path(), svcs)
}

// serviceClient is a client for the configured service called name.
func serviceClient(r *repo.Repo, name string) (*pinsvc.Client, error) {
	remoteServicesMu.Lock()
	svcs, err := loadRemoteServices(r.Path())
	remoteServicesMu.Unlock()
	if err != nil {
		return nil, err
	}
	svc, ok := svcs[name]
	if !ok {
		return nil, fmt.Errorf("no remote pinning service named %q (see 'island pin remote service ls'; add one with 'island pin remote service add %s URL TOKEN')", name, name)
	}
	return pinsvc.NewClient(svc.Endpoint, svc.Key), nil
}

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

// serviceErr explains an error from service name to someone who can act on it.
func serviceErr(name string, err error) error {
	if errors.Is(err, pinsvc.ErrUnauthorized) {
		return fmt.Errorf("service %q refused the access token (401 unauthorized): check the token and add the service again ('island pin remote service rm %s', then 'service add'): %w", name, name, err)
	}
	return fmt.Errorf("service %q: %w", name, err)
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

// checkEndpoint accepts an http(s) URL with a host, the base under which the
// service answers /pins.
func checkEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("endpoint %q: want an http(s) URL, e.g. https://pinning.example/psa or http://127.0.0.1:5080/pinning/v1", s)
	}
	if strings.HasSuffix(u.Path, "/pins") || strings.HasSuffix(u.Path, "/pins/") {
		return nil, usagef("endpoint %q: give the base URL, without /pins", s)
	}
	return u, nil
}

func isLoopbackURL(u *url.URL) bool {
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// readToken returns arg, or the trimmed content of FILE for "@FILE" (which
// keeps the token out of shell history and process lists).
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
			name := args[0]
			if !serviceName.MatchString(name) {
				return usagef("service name %q: use 1-64 letters, digits, '.', '_' or '-', not starting with '.', '_' or '-'", name)
			}
			u, err := checkEndpoint(args[1])
			if err != nil {
				return err
			}
			tok, err := readToken(env, args[2])
			if err != nil {
				return err
			}
			return withRepo(cmd.Context(), env, g, func(r *repo.Repo) error {
				err := editRemoteServices(r, func(svcs map[string]remoteService) error {
					if _, ok := svcs[name]; ok {
						return fmt.Errorf("pin remote service add: a service named %q exists; remove it first with 'island pin remote service rm %s'", name, name)
					}
					svcs[name] = remoteService{Endpoint: strings.TrimSuffix(u.String(), "/"), Key: tok}
					return nil
				})
				if err != nil {
					return err
				}
				if u.Scheme == "http" && !isLoopbackURL(u) {
					fmt.Fprintf(env.Stderr, "island: warning: %s is plain http to another machine: the token travels unencrypted\n", u)
				}
				fmt.Fprintf(env.Stdout, "added remote pinning service %s at %s\n", name, strings.TrimSuffix(u.String(), "/"))
				return nil
			})
		},
	}
}

type serviceJSON struct {
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
}

func newPinRemoteServiceLsCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List remote pinning services: name and URL (tokens are not printed)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withRepo(cmd.Context(), env, g, func(r *repo.Repo) error {
				remoteServicesMu.Lock()
				svcs, err := loadRemoteServices(r.Path())
				remoteServicesMu.Unlock()
				if err != nil {
					return err
				}
				out := []serviceJSON{}
				for _, n := range slices.Sorted(maps.Keys(svcs)) {
					out = append(out, serviceJSON{Name: n, Endpoint: svcs[n].Endpoint})
				}
				if asJSON {
					return printJSON(env.Stdout, out)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				for _, s := range out {
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
			name := args[0]
			return withRepo(cmd.Context(), env, g, func(r *repo.Repo) error {
				err := editRemoteServices(r, func(svcs map[string]remoteService) error {
					if _, ok := svcs[name]; !ok {
						return fmt.Errorf("pin remote service rm: no service named %q (see 'island pin remote service ls')", name)
					}
					delete(svcs, name)
					return nil
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "removed remote pinning service %s\n", name)
				return nil
			})
		},
	}
}

// pinStatusJSON is a pin request as `pin remote … --json` prints it.
type pinStatusJSON struct {
	RequestID string            `json:"requestid"`
	Status    string            `json:"status"`
	Created   time.Time         `json:"created"`
	Cid       string            `json:"cid"`
	Name      string            `json:"name,omitempty"`
	Delegates []string          `json:"delegates,omitempty"`
	Info      map[string]string `json:"info,omitempty"`
}

func toPinStatusJSON(ps pinsvc.PinStatus) pinStatusJSON {
	out := pinStatusJSON{RequestID: ps.RequestID, Status: string(ps.Status), Created: ps.Created,
		Cid: ps.Pin.CID.String(), Name: ps.Pin.Name, Info: ps.Info}
	for _, d := range ps.Delegates {
		out.Delegates = append(out.Delegates, d.String())
	}
	return out
}

// waitPinned polls request id until it is pinned or failed, reporting each
// change of status on a terminal.
func waitPinned(ctx context.Context, env *Env, client *pinsvc.Client, ps pinsvc.PinStatus) (pinsvc.PinStatus, error) {
	poll := 100 * time.Millisecond
	last := ps.Status
	for ps.Status != pinsvc.Pinned && ps.Status != pinsvc.Failed {
		select {
		case <-ctx.Done():
			return ps, fmt.Errorf("waiting for request %s (still %s; see 'island pin remote ls'): %w", ps.RequestID, ps.Status, ctx.Err())
		case <-time.After(poll):
		}
		poll = min(2*poll, 5*time.Second)
		var err error
		if ps, err = client.Get(ctx, ps.RequestID); err != nil {
			return ps, err
		}
		if ps.Status != last && env.StderrTTY {
			fmt.Fprintf(env.Stderr, "%s: %s\n", ps.Pin.CID, ps.Status)
		}
		last = ps.Status
	}
	return ps, nil
}

func printPinStatus(env *Env, ps pinsvc.PinStatus) {
	fmt.Fprintf(env.Stdout, "CID:\t%s\nName:\t%s\nStatus:\t%s\nRequest:\t%s\n", ps.Pin.CID, ps.Pin.Name, ps.Status, ps.RequestID)
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
			ctx := cmd.Context()
			return withCore(ctx, env, g, func(cr *core.Core) error {
				client, err := serviceClient(cr.Repo, service)
				if err != nil {
					return fmt.Errorf("pin remote add: %w", err)
				}
				c, err := pathCid(ctx, cr, args[0])
				if err != nil {
					return fmt.Errorf("pin remote add: %w", err)
				}
				p := pinsvc.Pin{CID: c, Name: name}
				if cr.Online() {
					// Our addresses as origins: the service can fetch from us
					// without a DHT lookup.
					p.Origins = cr.Node.Addrs()
					p.Origins = p.Origins[:min(len(p.Origins), maxOrigins)]
				} else {
					fmt.Fprintf(env.Stderr, "island: no node is running: the service can fetch %s only from other peers that have it\n", c)
				}
				ps, err := client.Add(ctx, p)
				if err != nil {
					return fmt.Errorf("pin remote add: %w", serviceErr(service, err))
				}
				if cr.Online() {
					// As Kubo does: the service's peers then fetch from us
					// directly instead of looking for providers.
					cr.Node.ConnectAll(ctx, ps.Delegates)
				}
				if !background {
					if ps, err = waitPinned(ctx, env, client, ps); err != nil {
						return fmt.Errorf("pin remote add: %w", serviceErr(service, err))
					}
				}
				if asJSON {
					if err := printJSON(env.Stdout, toPinStatusJSON(ps)); err != nil {
						return err
					}
				} else {
					printPinStatus(env, ps)
				}
				if ps.Status == pinsvc.Failed {
					return fmt.Errorf("pin remote add: service %q failed to pin %s: %s", service, c, ps.Info["status_details"])
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
			filter := pinsvc.ListFilter{Name: name}
			for _, s := range statuses {
				st, err := pinsvc.ParseStatus(s)
				if err != nil {
					return usageError{fmt.Errorf("--status: %w", err)}
				}
				filter.Statuses = append(filter.Statuses, st)
			}
			if len(cids) > 10 {
				return usagef("--cid: at most 10 CIDs, got %d", len(cids))
			}
			for _, s := range cids {
				c, err := cid.Decode(s)
				if err != nil {
					return usagef("--cid %q: not a CID: %v", s, err)
				}
				filter.CIDs = append(filter.CIDs, c)
			}
			ctx := cmd.Context()
			return withRepo(ctx, env, g, func(r *repo.Repo) error {
				client, err := serviceClient(r, service)
				if err != nil {
					return fmt.Errorf("pin remote ls: %w", err)
				}
				pss, err := client.List(ctx, filter)
				if err != nil {
					return fmt.Errorf("pin remote ls: %w", serviceErr(service, err))
				}
				if asJSON {
					out := make([]pinStatusJSON, 0, len(pss))
					for _, ps := range pss {
						out = append(out, toPinStatusJSON(ps))
					}
					return printJSON(env.Stdout, out)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				for _, ps := range pss {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ps.RequestID, ps.Pin.CID, ps.Status, ps.Pin.Name)
				}
				return tw.Flush()
			})
		},
	}
	f := cmd.Flags()
	serviceFlag(cmd, &service)
	f.StringVar(&name, "name", "", "only pins with this exact name")
	f.StringSliceVar(&statuses, "status", []string{string(pinsvc.Pinned)}, "only these statuses, comma-separated: queued, pinning, pinned, failed")
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
			return withRepo(ctx, env, g, func(r *repo.Repo) error {
				client, err := serviceClient(r, service)
				if err != nil {
					return fmt.Errorf("pin remote rm: %w", err)
				}
				for _, id := range args {
					err := client.Remove(ctx, id)
					if errors.Is(err, pinsvc.ErrNotFound) {
						return fmt.Errorf("pin remote rm: service %q has no request %s (see 'island pin remote ls --service %s --status queued,pinning,pinned,failed')", service, id, service)
					}
					if err != nil {
						return fmt.Errorf("pin remote rm: %w", serviceErr(service, err))
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
