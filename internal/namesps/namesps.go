// Package namesps is IPNS over pubsub, as Kubo's --enable-namesys-pubsub
// does it: a name's signed records travel on the gossipsub topic
// "/record/" + base64url(routing key "/ipns/<binary peer ID>"), the message
// being the record's bytes, and subscribers find each other through the
// DHT (provider records of the topic, go-libp2p's routing discovery, as
// Kubo's pubsub does). It owns the pubsub instance on the node's host, the
// topics it joined, and the loops that take records off them into the
// name system (names.System.Accept). See docs/scale.md for why: a new
// version reaches followers in one network hop instead of their next
// periodic DHT lookup.
package namesps

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand"
	"sync"
	"time"

	"github.com/ipfs/boxo/ipns"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/discovery/backoff"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"

	"github.com/islandsite/island/internal/names"
)

// Config configures a Service.
type Config struct {
	// Host is the node's libp2p host.
	Host host.Host
	// Routing, if set, is used to find other subscribers of a topic and to
	// be found by them (Kubo does the same); without it only peers already
	// connected take part.
	Routing routing.ContentRouting
	// Names checks and keeps the records that arrive.
	Names *names.System
	// OnRecord, if set, is called with every record that arrives newer than
	// the one held (the follower fetches its version at once).
	OnRecord func(rec names.Record)
	Logger   *slog.Logger
}

// Service publishes and receives IPNS records over pubsub.
type Service struct {
	cfg    Config
	log    *slog.Logger
	ps     *pubsub.PubSub
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// serving holds a token per fetch request being answered.
	serving chan struct{}

	mu     sync.Mutex
	closed bool
	topics map[string]*topic
}

type topic struct {
	t   *pubsub.Topic
	sub *pubsub.Subscription // nil when only joined to publish
	// evts tells of peers joining the topic, whom a subscriber asks for
	// the record they hold (FetchProtocol); nil with sub.
	evts *pubsub.TopicEventHandler
	// stop ends askJoining, which Cancel of evts does not wake.
	stop context.CancelFunc
}

// Topic is the pubsub topic of name's records (go-libp2p-pubsub-router's
// KeyToTopic of the IPNS routing key).
func Topic(name ipns.Name) string {
	return "/record/" + base64.RawURLEncoding.EncodeToString(name.RoutingKey())
}

// Topic discovery backs off between DHT lookups from a minute to an hour,
// as Kubo's does: subscribers found once stay connected through the mesh.
const (
	discoveryMinBackoff = time.Minute
	discoveryMaxBackoff = time.Hour
)

// New starts gossipsub on cfg.Host.
func New(cfg Config) (*Service, error) {
	if cfg.Host == nil || cfg.Names == nil {
		return nil, errors.New("namesps: Host and Names are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("system", "namesps"), topics: map[string]*topic{},
		serving: make(chan struct{}, maxFetchServing)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	var opts []pubsub.Option
	if cfg.Routing != nil {
		// Gossipsub asks discovery every second for every topic with
		// fewer than Dlo peers, which a name with a few followers always
		// has: without a cache that is a DHT lookup per topic per second
		// (a node following 1,000 sites would do 1,000 a second). Kubo
		// (TopicDiscovery) caches answers behind the same backoff.
		d, err := backoff.NewBackoffDiscovery(drouting.NewRoutingDiscovery(cfg.Routing),
			backoff.NewExponentialBackoff(discoveryMinBackoff, discoveryMaxBackoff, backoff.FullJitter,
				time.Second, 5.0, 0, mrand.NewSource(time.Now().UnixNano())))
		if err != nil {
			s.cancel()
			return nil, fmt.Errorf("namesps: discovery: %w", err)
		}
		opts = append(opts, pubsub.WithDiscovery(d))
	}
	ps, err := pubsub.NewGossipSub(s.ctx, cfg.Host, opts...)
	if err != nil {
		s.cancel()
		return nil, fmt.Errorf("namesps: gossipsub: %w", err)
	}
	s.ps = ps
	cfg.Host.SetStreamHandler(FetchProtocol, s.serveFetch)
	return s, nil
}

// Close leaves every topic and stops pubsub; it waits for the receiving
// loops. It is idempotent.
func (s *Service) Close() error {
	s.cfg.Host.RemoveStreamHandler(FetchProtocol)
	s.mu.Lock()
	s.closed = true
	for _, t := range s.topics {
		t.unsubscribe()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// join returns name's topic, joining it (with a validator that drops
// anything but a valid record of the name) on first use. Caller holds mu.
func (s *Service) joinLocked(name ipns.Name) (*topic, error) {
	if s.closed {
		return nil, errors.New("namesps: closed")
	}
	id := Topic(name)
	if t, ok := s.topics[id]; ok {
		return t, nil
	}
	err := s.ps.RegisterTopicValidator(id, func(_ context.Context, _ peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		if _, err := names.CheckRecord(name, m.GetData()); err != nil {
			return pubsub.ValidationReject
		}
		return pubsub.ValidationAccept
	})
	if err != nil {
		return nil, fmt.Errorf("namesps: validator for %s: %w", name, err)
	}
	pt, err := s.ps.Join(id)
	if err != nil {
		return nil, fmt.Errorf("namesps: join %s: %w", name, err)
	}
	t := &topic{t: pt}
	s.topics[id] = t
	return t, nil
}

// Publish sends rec to the subscribers of its name. It fits
// names.Config.Push. Like Kubo's publisher it subscribes to the topic
// itself, which is how subscribers find it (routing discovery advertises
// subscriptions).
func (s *Service) Publish(ctx context.Context, rec names.Record) error {
	s.mu.Lock()
	t, err := s.subscribeLocked(rec.Name)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := t.t.Publish(ctx, rec.Raw); err != nil {
		return fmt.Errorf("namesps: publish %s: %w", rec.Name, err)
	}
	return nil
}

// Subscribe receives name's records from now on: each valid one newer
// than the record held is kept and handed to OnRecord. Subscribing twice
// is one subscription.
func (s *Service) Subscribe(name ipns.Name) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.subscribeLocked(name)
	return err
}

func (s *Service) subscribeLocked(name ipns.Name) (*topic, error) {
	t, err := s.joinLocked(name)
	if err != nil {
		return nil, err
	}
	if t.sub != nil {
		return t, nil
	}
	if t.sub, err = t.t.Subscribe(); err != nil {
		return nil, fmt.Errorf("namesps: subscribe %s: %w", name, err)
	}
	if t.evts, err = t.t.EventHandler(); err != nil {
		t.sub.Cancel()
		t.sub = nil
		return nil, fmt.Errorf("namesps: subscribe %s: %w", name, err)
	}
	sub, evts := t.sub, t.evts
	ctx, stop := context.WithCancel(s.ctx)
	t.stop = stop
	s.wg.Go(func() { s.receive(name, sub) })
	s.wg.Go(func() { s.askJoining(ctx, name, evts) })
	return t, nil
}

func (t *topic) unsubscribe() {
	if t.sub != nil {
		t.sub.Cancel()
		t.evts.Cancel()
		t.stop()
		t.sub, t.evts, t.stop = nil, nil, nil
	}
}

// Peers lists the peers known to be on name's topic.
func (s *Service) Peers(name ipns.Name) []peer.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.topics[Topic(name)]; ok {
		return t.t.ListPeers()
	}
	return nil
}

// Unsubscribe stops receiving name's records.
func (s *Service) Unsubscribe(name ipns.Name) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.topics[Topic(name)]; ok {
		t.unsubscribe()
	}
}

func (s *Service) receive(name ipns.Name, sub *pubsub.Subscription) {
	for {
		m, err := sub.Next(s.ctx)
		if err != nil {
			return // cancelled or closed
		}
		s.take(name, m.GetData(), m.ReceivedFrom)
	}
}

// askJoining asks each peer that joins name's topic for the record it
// holds, one at a time (Kubo does the same): a subscriber that was away
// when the last version was published learns of it from whoever is on the
// topic, the author or another follower.
func (s *Service) askJoining(ctx context.Context, name ipns.Name, evts *pubsub.TopicEventHandler) {
	for {
		ev, err := evts.NextPeerEvent(ctx)
		if err != nil {
			return // cancelled or closed
		}
		if ev.Type != pubsub.PeerJoin {
			continue
		}
		data, err := s.Fetch(ctx, ev.Peer, name)
		if err != nil {
			s.log.Debug("asking a joining peer for its record failed", "name", name.String(), "peer", ev.Peer, "err", err)
			continue
		}
		if data != nil {
			s.take(name, data, ev.Peer)
		}
	}
}

// take keeps a record of name that from sent, if it is newer than the one
// held, and tells OnRecord.
func (s *Service) take(name ipns.Name, data []byte, from peer.ID) {
	rec, stored, err := s.cfg.Names.Accept(s.ctx, name.String(), data)
	switch {
	case errors.Is(err, names.ErrLowerSequence):
		return // an older record, still gossiping
	case err != nil:
		s.log.Debug("record from pubsub refused", "name", name.String(), "from", from, "err", err)
		return
	}
	if stored && s.cfg.OnRecord != nil {
		s.cfg.OnRecord(rec)
	}
}
