package core

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
	"time"

	"github.com/ipfs/go-cid"

	"github.com/islandsite/island/internal/pinsvc"
	"github.com/islandsite/island/internal/repo"
)

// RemoteServicesFile is where configured pinning services and their tokens
// are kept in the repo, mode 0600.
const RemoteServicesFile = "remote-services.json"

// maxOrigins is the Pinning Service API's limit on origins in one pin.
const maxOrigins = 20

var serviceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// remoteServices is the services file; mu orders read-modify-write by
// requests a daemon serves at once.
type remoteServices struct {
	dir string
	mu  sync.Mutex
}

// remoteServicesJSON is the services file: name → endpoint and token.
type remoteServicesJSON struct {
	Services map[string]storedService `json:"services"`
}

type storedService struct {
	Endpoint string `json:"endpoint"`
	Key      string `json:"key"`
}

// load reads the services; the caller holds mu.
func (s *remoteServices) load() (map[string]storedService, error) {
	p := filepath.Join(s.dir, RemoteServicesFile)
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]storedService{}, nil
	}
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, Errorf(CodeRefused, "%s has mode %04o, open to group or others, and holds access tokens: run chmod 600 %s", p, perm, p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var f remoteServicesJSON
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, Errorf(CodeRefused, "%s is damaged (%v): fix it or remove it and add the services again", p, err)
	}
	if f.Services == nil {
		f.Services = map[string]storedService{}
	}
	return f.Services, nil
}

// edit applies f to the stored services and saves the result, 0600.
func (s *remoteServices) edit(f func(map[string]storedService) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svcs, err := s.load()
	if err != nil {
		return err
	}
	if err := f(svcs); err != nil {
		return err
	}
	b, err := json.MarshalIndent(remoteServicesJSON{Services: svcs}, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(s.dir, RemoteServicesFile)
	if err := repo.WriteFileAtomic(p, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

func (s *remoteServices) client(name string) (*pinsvc.Client, error) {
	if name == "" {
		return nil, Errorf(CodeInvalid, "no service named: give one (see 'island pin remote service ls')")
	}
	s.mu.Lock()
	svcs, err := s.load()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	svc, ok := svcs[name]
	if !ok {
		return nil, Errorf(CodeNotFound, "no remote pinning service named %q (see 'island pin remote service ls'; add one with 'island pin remote service add %s URL TOKEN')", name, name)
	}
	return pinsvc.NewClient(svc.Endpoint, svc.Key), nil
}

// checkEndpoint accepts an http(s) URL with a host: the base under which
// the service answers /pins.
func checkEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, Errorf(CodeInvalid, "endpoint %q: want an http(s) URL, e.g. https://pinning.example/psa or http://127.0.0.1:5080/pinning/v1", s)
	}
	if strings.HasSuffix(u.Path, "/pins") || strings.HasSuffix(u.Path, "/pins/") {
		return nil, Errorf(CodeInvalid, "endpoint %q: give the base URL, without /pins", s)
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

// RemoteServiceAdd configures a service.
func (c *Core) RemoteServiceAdd(ctx context.Context, req RemoteService) (_ RemoteServiceAdded, err error) {
	defer c.fail(&err, "pin remote service add")
	if !serviceName.MatchString(req.Name) {
		return RemoteServiceAdded{}, Errorf(CodeInvalid, "service name %q: use 1-64 letters, digits, '.', '_' or '-', not starting with '.', '_' or '-'", req.Name)
	}
	u, err := checkEndpoint(req.Endpoint)
	if err != nil {
		return RemoteServiceAdded{}, err
	}
	if req.Key == "" || strings.ContainsAny(req.Key, " \t\r\n") {
		return RemoteServiceAdded{}, Errorf(CodeInvalid, "the token must be one word")
	}
	endpoint := strings.TrimSuffix(u.String(), "/")
	err = c.remotes.edit(func(svcs map[string]storedService) error {
		if _, ok := svcs[req.Name]; ok {
			return Errorf(CodeConflict, "a service named %q exists; remove it first with 'island pin remote service rm %s'", req.Name, req.Name)
		}
		svcs[req.Name] = storedService{Endpoint: endpoint, Key: req.Key}
		return nil
	})
	if err != nil {
		return RemoteServiceAdded{}, err
	}
	var out RemoteServiceAdded
	if u.Scheme == "http" && !isLoopbackURL(u) {
		out.Warning = fmt.Sprintf("%s is plain http to another machine: the token travels unencrypted", endpoint)
	}
	return out, nil
}

// RemoteServiceLs lists the services, without their tokens.
func (c *Core) RemoteServiceLs(ctx context.Context) (_ []RemoteService, err error) {
	defer c.fail(&err, "pin remote service ls")
	c.remotes.mu.Lock()
	svcs, err := c.remotes.load()
	c.remotes.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := []RemoteService{}
	for _, n := range slices.Sorted(maps.Keys(svcs)) {
		out = append(out, RemoteService{Name: n, Endpoint: svcs[n].Endpoint})
	}
	return out, nil
}

// RemoteServiceRm forgets a service.
func (c *Core) RemoteServiceRm(ctx context.Context, req RemoteServiceRmRequest) (err error) {
	defer c.fail(&err, "pin remote service rm")
	return c.remotes.edit(func(svcs map[string]storedService) error {
		if _, ok := svcs[req.Name]; !ok {
			return Errorf(CodeNotFound, "no service named %q (see 'island pin remote service ls')", req.Name)
		}
		delete(svcs, req.Name)
		return nil
	})
}

// serviceErr explains an error from service name to someone who can act.
func serviceErr(name string, err error) error {
	if errors.Is(err, pinsvc.ErrUnauthorized) {
		return Errorf(CodeUnauthorized, "service %q refused the access token (401 unauthorized): check the token and add the service again ('island pin remote service rm %s', then 'service add'): %w", name, name, err)
	}
	if errors.Is(err, pinsvc.ErrNotFound) {
		return Errorf(CodeNotFound, "service %q: %w", name, err)
	}
	return Errorf(CodeUnavailable, "service %q: %w", name, err)
}

func toRemotePin(ps pinsvc.PinStatus) RemotePin {
	out := RemotePin{RequestID: ps.RequestID, Status: string(ps.Status), Created: ps.Created,
		CID: ps.Pin.CID.String(), Name: ps.Pin.Name, Info: ps.Info}
	for _, d := range ps.Delegates {
		out.Delegates = append(out.Delegates, d.String())
	}
	return out
}

// RemotePinAdd asks a service to pin a path, handing it our addresses so it
// can fetch straight from us, and waits unless Background.
func (c *Core) RemotePinAdd(ctx context.Context, req RemotePinAddRequest) (_ RemotePinAdded, err error) {
	defer c.fail(&err, "pin remote add")
	client, err := c.remotes.client(req.Service)
	if err != nil {
		return RemotePinAdded{}, err
	}
	root, err := c.resolve(ctx, req.Path, req.Lookup)
	if err != nil {
		return RemotePinAdded{}, err
	}
	var out RemotePinAdded
	p := pinsvc.Pin{CID: root, Name: req.Name}
	if c.node != nil {
		p.Origins = c.node.Addrs()
		p.Origins = p.Origins[:min(len(p.Origins), maxOrigins)]
	} else {
		out.Notes = append(out.Notes, c.offlineHint(
			fmt.Sprintf("no node is running: the service can fetch %s only from other peers that have it", root),
			fmt.Sprintf("the daemon runs --offline: the service can fetch %s only from other peers that have it", root)))
	}
	ps, err := client.Add(ctx, p)
	if err != nil {
		return out, serviceErr(req.Service, err)
	}
	if c.node != nil {
		// As Kubo does: the service's peers then fetch from us directly
		// instead of looking for providers.
		c.node.ConnectAll(ctx, ps.Delegates)
	}
	if !req.Background {
		if ps, err = waitPinned(ctx, client, ps, req.Progress); err != nil {
			return out, serviceErr(req.Service, err)
		}
	}
	out.Pin = toRemotePin(ps)
	return out, nil
}

// waitPinned polls a request until it is pinned or failed, reporting each
// new status.
func waitPinned(ctx context.Context, client *pinsvc.Client, ps pinsvc.PinStatus, progress func(RemotePin)) (pinsvc.PinStatus, error) {
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
		if ps.Status != last && progress != nil {
			progress(toRemotePin(ps))
		}
		last = ps.Status
	}
	return ps, nil
}

// RemotePinLs lists a service's pin requests.
func (c *Core) RemotePinLs(ctx context.Context, req RemotePinLsRequest) (_ []RemotePin, err error) {
	defer c.fail(&err, "pin remote ls")
	filter := pinsvc.ListFilter{Name: req.Name}
	statuses := req.Statuses
	if len(statuses) == 0 {
		statuses = []string{string(pinsvc.Pinned)}
	}
	for _, s := range statuses {
		st, err := pinsvc.ParseStatus(s)
		if err != nil {
			return nil, &Error{Code: CodeInvalid, Message: "status: " + err.Error(), Err: err}
		}
		filter.Statuses = append(filter.Statuses, st)
	}
	if len(req.CIDs) > 10 {
		return nil, Errorf(CodeInvalid, "at most 10 CIDs, got %d", len(req.CIDs))
	}
	for _, s := range req.CIDs {
		v, err := cid.Decode(s)
		if err != nil {
			return nil, Errorf(CodeInvalid, "cid %q: not a CID: %v", s, err)
		}
		filter.CIDs = append(filter.CIDs, v)
	}
	client, err := c.remotes.client(req.Service)
	if err != nil {
		return nil, err
	}
	pss, err := client.List(ctx, filter)
	if err != nil {
		return nil, serviceErr(req.Service, err)
	}
	out := make([]RemotePin, 0, len(pss))
	for _, ps := range pss {
		out = append(out, toRemotePin(ps))
	}
	return out, nil
}

// RemotePinRm removes a pin request from a service.
func (c *Core) RemotePinRm(ctx context.Context, req RemotePinRmRequest) (err error) {
	defer c.fail(&err, "pin remote rm")
	client, err := c.remotes.client(req.Service)
	if err != nil {
		return err
	}
	if err := client.Remove(ctx, req.RequestID); err != nil {
		if errors.Is(err, pinsvc.ErrNotFound) {
			return Errorf(CodeNotFound, "service %q has no request %s (see 'island pin remote ls --service %s --status queued,pinning,pinned,failed')", req.Service, req.RequestID, req.Service)
		}
		return serviceErr(req.Service, err)
	}
	return nil
}
