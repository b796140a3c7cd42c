package daemon

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"

	"github.com/islandsite/island/internal/names"
)

// gatewayNames is the name system the gateway resolves /ipns/ paths with:
// names.System's own resolver, whose cache a publish (ours, or a followed
// author's record arriving) updates at once. boxo's namesys caches a
// resolution under "/ipns/<name>" while its Publish refreshes "<name>", so
// through it the gateway kept serving the previous version of a site just
// published for the record's whole TTL.
type gatewayNames struct {
	namesys.NameSystem // Publish
	names              *names.System
}

func newGatewayNames(s *names.System) gatewayNames {
	return gatewayNames{NameSystem: s.NameSystem(), names: s}
}

// Resolve resolves the whole chain; the depth option is moot since the
// result is always immutable.
func (g gatewayNames) Resolve(ctx context.Context, p path.Path, _ ...namesys.ResolveOption) (namesys.Result, error) {
	if !p.Mutable() {
		return namesys.Result{Path: p}, nil
	}
	res, err := g.names.Resolve(ctx, p.String())
	if err != nil {
		if errors.Is(err, names.ErrNotFound) || errors.Is(err, names.ErrDNSDisabled) || errors.As(err, new(*names.RecordError)) {
			// The gateway answers these with 404.
			err = fmt.Errorf("%w: %w", namesys.ErrResolveFailed, err)
		}
		return namesys.Result{}, err
	}
	return namesys.Result{Path: res.Path, TTL: res.TTL}, nil
}

func (g gatewayNames) ResolveAsync(ctx context.Context, p path.Path, opts ...namesys.ResolveOption) <-chan namesys.AsyncResult {
	out := make(chan namesys.AsyncResult, 1)
	res, err := g.Resolve(ctx, p, opts...)
	out <- namesys.AsyncResult{Path: res.Path, TTL: res.TTL, LastMod: res.LastMod, Err: err}
	close(out)
	return out
}
