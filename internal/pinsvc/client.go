package pinsvc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	rclient "github.com/ipfs/boxo/pinning/remote/client"
	"github.com/ipfs/boxo/pinning/remote/client/openapi"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multiaddr"
)

var (
	// ErrUnauthorized matches an *APIError for a missing or wrong token.
	ErrUnauthorized = errors.New("pinsvc: unauthorized")
	// ErrNotFound matches an *APIError for an unknown request ID.
	ErrNotFound = errors.New("pinsvc: not found")
	// ErrPinFailed is returned by WaitPinned when the service gave up.
	ErrPinFailed = errors.New("pinsvc: pin failed")
)

// APIError is an error answer from a pinning service.
type APIError struct {
	StatusCode int
	Reason     string // the spec's machine-readable reason, e.g. UNAUTHORIZED
	Details    string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("pinning service answered %d", e.StatusCode)
	if e.Reason != "" {
		s += " " + e.Reason
	}
	if e.Details != "" {
		s += ": " + e.Details
	}
	return s
}

// Is lets errors.Is(err, ErrUnauthorized) and ErrNotFound match by status.
func (e *APIError) Is(target error) bool {
	return (target == ErrUnauthorized && e.StatusCode == 401) || (target == ErrNotFound && e.StatusCode == 404)
}

// Client talks to a pinning service at a base URL (the part before /pins).
type Client struct {
	rc *rclient.Client
}

// NewClient returns a client for the service at baseURL using token.
func NewClient(baseURL, token string) *Client {
	return &Client{rc: rclient.NewClient(strings.TrimSuffix(baseURL, "/"), token)}
}

// apiErr turns the generated client's error into an *APIError when the
// service answered, keeping the cause otherwise.
func apiErr(op string, err error) error {
	var gerr openapi.GenericOpenAPIError
	if !errors.As(err, &gerr) {
		return fmt.Errorf("pinsvc: %s: %w", op, err)
	}
	code, cerr := strconv.Atoi(strings.Fields(gerr.Error() + " 0")[0])
	if cerr != nil || code == 0 {
		return fmt.Errorf("pinsvc: %s: %w", op, err)
	}
	ae := &APIError{StatusCode: code}
	if f, ok := gerr.Model().(openapi.Failure); ok {
		ae.Reason, ae.Details = f.Error.GetReason(), f.Error.GetDetails()
	}
	return fmt.Errorf("pinsvc: %s: %w", op, ae)
}

func fromGetter(g rclient.PinStatusGetter) PinStatus {
	ps := PinStatus{
		RequestID: g.GetRequestId(),
		Status:    Status(g.GetStatus()),
		Created:   g.GetCreated(),
		Delegates: g.GetDelegates(),
		Info:      g.GetInfo(),
	}
	if p := g.GetPin(); p != nil {
		ps.Pin = Pin{CID: p.GetCid(), Name: p.GetName(), Meta: p.GetMeta()}
		for _, o := range p.GetOrigins() {
			if ma, err := multiaddr.NewMultiaddr(o); err == nil {
				ps.Pin.Origins = append(ps.Pin.Origins, ma)
			}
		}
	}
	return ps
}

func addOpts(name string, origins []multiaddr.Multiaddr, meta map[string]string) []rclient.AddOption {
	var opts []rclient.AddOption
	if name != "" {
		opts = append(opts, rclient.PinOpts.WithName(name))
	}
	if len(origins) > 0 {
		opts = append(opts, rclient.PinOpts.WithOrigins(origins...))
	}
	if len(meta) > 0 {
		opts = append(opts, rclient.PinOpts.AddMeta(meta))
	}
	return opts
}

// Add asks the service to pin p; it answers at once with a queued request.
func (c *Client) Add(ctx context.Context, p Pin) (PinStatus, error) {
	g, err := c.rc.Add(ctx, p.CID, addOpts(p.Name, p.Origins, p.Meta)...)
	if err != nil {
		return PinStatus{}, apiErr("add "+p.CID.String(), err)
	}
	return fromGetter(g), nil
}

// Replace swaps the pin of request id for p (a new request ID comes back);
// blocks both share stay pinned throughout.
func (c *Client) Replace(ctx context.Context, id string, p Pin) (PinStatus, error) {
	g, err := c.rc.Replace(ctx, id, p.CID, addOpts(p.Name, p.Origins, p.Meta)...)
	if err != nil {
		return PinStatus{}, apiErr("replace "+id, err)
	}
	return fromGetter(g), nil
}

// Get returns the status of request id.
func (c *Client) Get(ctx context.Context, id string) (PinStatus, error) {
	g, err := c.rc.GetStatusByID(ctx, id)
	if err != nil {
		return PinStatus{}, apiErr("get "+id, err)
	}
	return fromGetter(g), nil
}

// Remove deletes request id; the service unpins its CID.
func (c *Client) Remove(ctx context.Context, id string) error {
	if err := c.rc.DeleteByID(ctx, id); err != nil {
		return apiErr("remove "+id, err)
	}
	return nil
}

// ListFilter selects pins to list. Zero fields do not filter, except that
// the service lists only pinned requests when Statuses is empty.
type ListFilter struct {
	CIDs          []cid.Cid // at most 10
	Name          string    // exact match
	Statuses      []Status
	Before, After time.Time
	// Limit caps the results; 0 lists everything, page by page.
	Limit int
}

// List returns the requests that match f, newest first.
func (c *Client) List(ctx context.Context, f ListFilter) ([]PinStatus, error) {
	var opts []rclient.LsOption
	if len(f.CIDs) > 0 {
		opts = append(opts, rclient.PinOpts.FilterCIDs(f.CIDs...))
	}
	if f.Name != "" {
		opts = append(opts, rclient.PinOpts.FilterName(f.Name))
	}
	if len(f.Statuses) > 0 {
		sts := make([]rclient.Status, len(f.Statuses))
		for i, s := range f.Statuses {
			sts[i] = rclient.Status(s)
		}
		opts = append(opts, rclient.PinOpts.FilterStatus(sts...))
	}
	if !f.Before.IsZero() {
		opts = append(opts, rclient.PinOpts.FilterBefore(f.Before))
	}
	if !f.After.IsZero() {
		opts = append(opts, rclient.PinOpts.FilterAfter(f.After))
	}
	var gs []rclient.PinStatusGetter
	var err error
	if f.Limit > 0 {
		opts = append(opts, rclient.PinOpts.Limit(f.Limit))
		gs, _, err = c.rc.LsBatchSync(ctx, opts...)
	} else {
		opts = append(opts, rclient.PinOpts.Limit(maxLimit))
		gs, err = c.rc.LsSync(ctx, opts...)
	}
	if err != nil {
		return nil, apiErr("list", err)
	}
	out := make([]PinStatus, len(gs))
	for i, g := range gs {
		out[i] = fromGetter(g)
	}
	return out, nil
}

// WaitPinned polls request id every poll until it is pinned. A failed pin
// returns ErrPinFailed with the service's explanation.
func (c *Client) WaitPinned(ctx context.Context, id string, poll time.Duration) (PinStatus, error) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		ps, err := c.Get(ctx, id)
		if err != nil {
			return ps, err
		}
		switch ps.Status {
		case Pinned:
			return ps, nil
		case Failed:
			return ps, fmt.Errorf("%w: %s: %s", ErrPinFailed, ps.Pin.CID, ps.Info["status_details"])
		}
		select {
		case <-ctx.Done():
			return ps, fmt.Errorf("pinsvc: wait for %s (still %s): %w", id, ps.Status, ctx.Err())
		case <-t.C:
		}
	}
}
