package names

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/routing"
)

// NameSystem is the System as boxo's name system, for the gateway. It
// resolves through Resolve, whose cache a publish (ours, or a followed
// author's record arriving) updates at once: boxo's own namesys caches a
// resolution under "/ipns/<name>" while its Publish refreshes "<name>", so
// a gateway on it kept serving the previous version of a site just
// published for the record's whole TTL.
func (s *System) NameSystem() namesys.NameSystem { return nameSystem{s} }

type nameSystem struct{ s *System }

// Resolve resolves the whole chain; the depth option is moot since the
// result is always immutable.
func (n nameSystem) Resolve(ctx context.Context, p path.Path, _ ...namesys.ResolveOption) (namesys.Result, error) {
	if !p.Mutable() {
		return namesys.Result{Path: p}, nil
	}
	res, err := n.s.resolvePath(ctx, p, p.String(), false)
	if err != nil {
		if absent(err) || errors.Is(err, ErrDNSDisabled) {
			// The gateway answers these with 404.
			err = fmt.Errorf("%w: %w", namesys.ErrResolveFailed, err)
		}
		return namesys.Result{}, err
	}
	return namesys.Result{Path: res.Path, TTL: res.TTL}, nil
}

func (n nameSystem) ResolveAsync(ctx context.Context, p path.Path, opts ...namesys.ResolveOption) <-chan namesys.AsyncResult {
	out := make(chan namesys.AsyncResult, 1)
	res, err := n.Resolve(ctx, p, opts...)
	out <- namesys.AsyncResult{Path: res.Path, TTL: res.TTL, LastMod: res.LastMod, Err: err}
	close(out)
	return out
}

// Publish is System.Publish with boxo's options; EOL and TTL default to
// the System's, not boxo's.
func (n nameSystem) Publish(ctx context.Context, key crypto.PrivKey, value path.Path, opts ...namesys.PublishOption) error {
	po := namesys.PublishOptions{EOL: time.Now().Add(n.s.cfg.RecordLifetime), TTL: n.s.cfg.TTL}
	for _, opt := range opts {
		opt(&po)
	}
	_, err := n.s.publish(ctx, key, value, publishOptions{
		ttl: po.TTL, lifetime: time.Until(po.EOL), seq: po.Sequence, ipns: po.IPNSOptions,
	})
	return err
}

// absent reports an error meaning there is no usable record: none at all,
// or only bad ones.
func absent(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.As(err, new(*RecordError))
}

// ValueStore is routing with /ipns/ keys answered by the System, for the
// gateway's ?format=ipns-record: it returns the record /ipns/NAME resolves
// with, held locally or found in routing, also when the node's own routing
// holds none (--offline).
func (s *System) ValueStore() routing.ValueStore { return valueStore{s} }

type valueStore struct{ s *System }

func (v valueStore) GetValue(ctx context.Context, key string, opts ...routing.Option) ([]byte, error) {
	name, err := ipns.NameFromRoutingKey([]byte(key))
	if err != nil {
		return v.s.cfg.Routing.GetValue(ctx, key, opts...)
	}
	rec, err := v.s.bestRecord(ctx, name, false)
	if absent(err) {
		return nil, fmt.Errorf("%w: %w", routing.ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	return rec.Raw, nil
}

func (v valueStore) SearchValue(ctx context.Context, key string, opts ...routing.Option) (<-chan []byte, error) {
	if _, err := ipns.NameFromRoutingKey([]byte(key)); err != nil {
		return v.s.cfg.Routing.SearchValue(ctx, key, opts...)
	}
	b, err := v.GetValue(ctx, key, opts...)
	if err != nil {
		return nil, err
	}
	out := make(chan []byte, 1)
	out <- b
	close(out)
	return out, nil
}

// PutValue checks and keeps an IPNS record as PutRecord does, so it cannot
// go around the System's store; other values go to routing.
func (v valueStore) PutValue(ctx context.Context, key string, value []byte, opts ...routing.Option) error {
	name, err := ipns.NameFromRoutingKey([]byte(key))
	if err != nil {
		return v.s.cfg.Routing.PutValue(ctx, key, value, opts...)
	}
	_, err = v.s.PutRecord(ctx, name.String(), value)
	return err
}
