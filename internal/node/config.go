package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/amino"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/islandsite/island/internal/repo"
)

// Config is everything New needs. The caller owns Datastore, Blockstore and
// Identity: the node uses them but never closes them.
type Config struct {
	// Identity is the node's private key; its peer ID is the node's ID.
	Identity crypto.PrivKey
	// Datastore is the repo's root datastore. The node keeps the provider's
	// schedule and keystore and the DHT's records in it, under "/node/".
	Datastore datastore.Batching
	// Blockstore holds the blocks the node serves and the blocks it fetches.
	Blockstore blockstore.Blockstore
	// ReadBlock, if set, reads Blockstore's blocks into buffers the
	// trustless gateway reuses for every block of a CAR it writes (the
	// repo's ReadBlock); nil reads them with Blockstore's Get.
	ReadBlock repo.BlockReader
	// Stage, if set, opens a write-behind stage over Blockstore for each
	// Fetch: fetched blocks are staged and flushed into Blockstore every
	// stageFlushBytes and at the end, instead of being written (and synced)
	// one by one. Nil writes them straight into Blockstore.
	Stage func(ctx context.Context) (Stage, error)

	// Host, if set, is the libp2p host the node runs on instead of one New
	// builds (ListenAddrs, the connection manager's water marks,
	// ResourceLimits and ConnectionGater are then the host's business and
	// ignored): an in-process network such as the simulator's mocknet. The
	// node owns it from then on and closes it on Close.
	Host host.Host
	// DHTServer makes the WAN DHT answer queries from the start, instead of
	// waiting for AutoNAT to find the node reachable: for a host nothing can
	// probe (mocknet) or one known to be publicly reachable.
	DHTServer bool
	// KeptRoutingTable says whoever made the node fills its WAN routing
	// table (the simulator does, as a long-running node's is): the node
	// then neither dials its bootstrap peers nor refreshes the table with
	// lookups, and its provider starts at its first use rather than with
	// the node (its start probes the network). A node that has been
	// running a while did all that long ago; repeating it would only cost
	// the network.
	KeptRoutingTable bool

	// ListenAddrs are the multiaddrs to listen on; port 0 picks a free port.
	ListenAddrs []string
	// Bootstrap peers are dialed once the node is up and seed the WAN DHT.
	// Nil means none: the caller decides whether to use DefaultBootstrapPeers.
	Bootstrap []peer.AddrInfo
	// StaticRelays, when set, are the only relays the node reserves slots
	// on while AutoNAT finds it private (Kubo's
	// Swarm.RelayClient.StaticRelays). Without them it picks among its
	// connected peers and its WAN DHT peers that offer the relay service.
	StaticRelays []peer.AddrInfo
	// RelayService says when the node relays for peers behind NAT; ""
	// means RelayServiceAuto.
	RelayService RelayServiceMode
	// HolePunchWait is how long after a relayed connection opens the node
	// waits for hole punching to make a direct one before it takes the
	// relay's limits as final: bitswap holds back what does not fit through
	// the relay until then, and a Fetch that needs more ends with a
	// RelayOnlyError soon after. Zero means 15 s: hole punching starts as
	// soon as the relayed connection is up and succeeds within a few round
	// trips when it succeeds at all (libp2p's three attempts take up to
	// ~30 s when every packet is lost).
	HolePunchWait time.Duration
	// LoopbackOnLAN keeps loopback addresses in the LAN DHT. Without it a node
	// whose peers are all on 127.0.0.1 (tests, Kubo's test profile) has no
	// address the LAN DHT accepts and can neither provide nor be found.
	LoopbackOnLAN bool

	// ConnMgrLow and ConnMgrHigh are the connection manager's water marks:
	// above High it trims connections down to Low, oldest unprotected first.
	ConnMgrLow, ConnMgrHigh int
	// ConnMgrGrace protects new connections from trimming for this long.
	ConnMgrGrace time.Duration
	// ResourceLimits bound what peers can make the libp2p stack spend.
	ResourceLimits ResourceLimits
	// ConnectionGater, if set, decides which peers and addresses the host
	// may dial or accept (libp2p's connmgr.ConnectionGater; go-libp2p's
	// conngater package keeps deny lists, like Kubo's Swarm.AddrFilters).
	ConnectionGater connmgr.ConnectionGater

	// ReprovideInterval is how often every provided key is announced again.
	ReprovideInterval time.Duration
	// ProvideRoots lists the roots that must stay provided (the pins). At
	// start and then every ReprovideInterval the provider's keystore is reset
	// to these roots and every block of their DAGs found in Blockstore, so
	// unpinned content stops being announced. Nil keeps whatever Provide put
	// in the keystore, for ever.
	ProvideRoots func(ctx context.Context) ([]cid.Cid, error)

	// Trustless bounds the trustless gateway the node serves to peers over
	// libp2p (trustless.go): the blocks bitswap serves, as one CAR.
	Trustless TrustlessLimits
	// NoTrustless serves no trustless gateway: peers then fetch from the
	// node over bitswap only.
	NoTrustless bool

	// FetchTimeout is how long Fetch waits without receiving any block before
	// it gives up with a "no providers found" error.
	FetchTimeout time.Duration

	// Registerer receives libp2p, DHT, provider and bitswap metrics. Nil
	// disables metrics.
	Registerer prometheus.Registerer
	// Logger receives the node's logs and, at LibraryLogLevel and above, the
	// logs of libp2p, the DHT and boxo. Nil uses slog.Default().
	Logger *slog.Logger
	// LibraryLogLevel filters the libraries' logs (nil: warn);
	// GOLOG_LOG_LEVEL overrides it.
	LibraryLogLevel slog.Leveler
}

// ResourceLimits bound the libp2p resource manager. Zero values are derived
// from the machine, so a small machine gets small limits.
type ResourceLimits struct {
	// MaxMemory is the memory, in bytes, that connections and streams may
	// reserve. Zero means 1/8 of the machine's memory, within [128 MiB, 2 GiB].
	MaxMemory int64
	// MaxFileDescriptors is how many sockets the host may hold. Zero means
	// half of the process's file descriptor limit.
	MaxFileDescriptors int
}

// DefaultConfig returns the settings of a daemon on the Internet: listening
// on all interfaces on TCP and UDP port 4001 (QUIC, WebTransport and
// WebRTC-direct share the UDP port), no bootstrap peers (the caller adds
// DefaultBootstrapPeers when it wants the public network), Kubo's connection
// manager water marks and the Amino reprovide interval. Identity, Datastore
// and Blockstore are left for the caller.
func DefaultConfig() Config {
	return Config{
		ListenAddrs: []string{
			"/ip4/0.0.0.0/tcp/4001",
			"/ip6/::/tcp/4001",
			"/ip4/0.0.0.0/udp/4001/quic-v1",
			"/ip6/::/udp/4001/quic-v1",
			"/ip4/0.0.0.0/udp/4001/quic-v1/webtransport",
			"/ip6/::/udp/4001/quic-v1/webtransport",
			"/ip4/0.0.0.0/udp/4001/webrtc-direct",
			"/ip6/::/udp/4001/webrtc-direct",
		},
		// Kubo's defaults: enough peers for the DHT to route well without
		// keeping hundreds of idle connections on a personal machine.
		ConnMgrLow:        32,
		ConnMgrHigh:       96,
		ConnMgrGrace:      20 * time.Second,
		ReprovideInterval: amino.DefaultReprovideInterval,
		// Long enough for a provider record lookup on the real network (a few
		// seconds) plus slow peers; short enough that a typo'd CID fails.
		FetchTimeout:    time.Minute,
		RelayService:    RelayServiceAuto,
		HolePunchWait:   15 * time.Second,
		LibraryLogLevel: slog.LevelWarn,
	}
}

// DefaultBootstrapPeers returns the public Amino DHT bootstrap peers.
func DefaultBootstrapPeers() []peer.AddrInfo {
	return dht.GetDefaultBootstrapPeerAddrInfos()
}

// ParsePeerAddrs turns multiaddrs ending in /p2p/<id> (bootstrap peers,
// static relays) into AddrInfos, merging addresses of the same peer.
func ParsePeerAddrs(addrs []string) ([]peer.AddrInfo, error) {
	mas := make([]ma.Multiaddr, 0, len(addrs))
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("node: peer address %q: %w", s, err)
		}
		mas = append(mas, a)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(mas...)
	if err != nil {
		return nil, fmt.Errorf("node: peer addresses must end in /p2p/<peer ID>: %w", err)
	}
	return infos, nil
}

func (c *Config) validate() error {
	var errs []error
	if c.Identity == nil {
		errs = append(errs, errors.New("Identity is required"))
	}
	if c.Datastore == nil {
		errs = append(errs, errors.New("Datastore is required"))
	}
	if c.Blockstore == nil {
		errs = append(errs, errors.New("Blockstore is required"))
	}
	if c.ConnMgrLow < 0 || c.ConnMgrHigh < c.ConnMgrLow {
		errs = append(errs, fmt.Errorf("connection manager water marks low=%d high=%d: need 0 <= low <= high", c.ConnMgrLow, c.ConnMgrHigh))
	}
	if c.ReprovideInterval < 0 {
		errs = append(errs, fmt.Errorf("ReprovideInterval %s is negative", c.ReprovideInterval))
	}
	if c.HolePunchWait < 0 {
		errs = append(errs, fmt.Errorf("HolePunchWait %s is negative", c.HolePunchWait))
	}
	if c.FetchTimeout < 0 {
		errs = append(errs, fmt.Errorf("FetchTimeout %s is negative", c.FetchTimeout))
	}
	if c.ResourceLimits.MaxMemory < 0 || c.ResourceLimits.MaxFileDescriptors < 0 {
		errs = append(errs, fmt.Errorf("resource limits %+v: must not be negative", c.ResourceLimits))
	}
	if _, err := ParseRelayService(string(c.RelayService)); err != nil {
		errs = append(errs, fmt.Errorf("RelayService %q: want auto, on or off", c.RelayService))
	}
	for _, s := range c.ListenAddrs {
		if _, err := ma.NewMultiaddr(s); err != nil {
			errs = append(errs, fmt.Errorf("listen address %q: %w", s, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("node: config: %w", err)
	}
	return nil
}

// withDefaults fills the zero values that have an obvious default.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.ConnMgrLow == 0 && c.ConnMgrHigh == 0 {
		c.ConnMgrLow, c.ConnMgrHigh = d.ConnMgrLow, d.ConnMgrHigh
	}
	if c.ConnMgrGrace == 0 {
		c.ConnMgrGrace = d.ConnMgrGrace
	}
	if c.ReprovideInterval == 0 {
		c.ReprovideInterval = d.ReprovideInterval
	}
	if c.FetchTimeout == 0 {
		c.FetchTimeout = d.FetchTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.HolePunchWait == 0 {
		c.HolePunchWait = d.HolePunchWait
	}
	if c.RelayService == "" {
		c.RelayService = d.RelayService
	}
	if c.LibraryLogLevel == nil {
		c.LibraryLogLevel = slog.LevelWarn
	}
	return c
}

// Stage is a write-behind blockstore (repo.Stage): blocks put into it are
// readable from it at once and part of the Blockstore after Flush, which
// returns them. Close discards what was not flushed.
type Stage interface {
	blockstore.Blockstore
	Flush(ctx context.Context) ([]blocks.Block, error)
	Err() error
	Close() error
}
