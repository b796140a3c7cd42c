package node

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	tls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	libp2pwebrtc "github.com/libp2p/go-libp2p/p2p/transport/webrtc"
	webtransport "github.com/libp2p/go-libp2p/p2p/transport/webtransport"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/pbnjay/memory"
)

// userAgent is what identify tells peers; it shows in their `peers` lists.
const userAgent = "island"

const (
	minMaxMemory = 128 << 20
	maxMaxMemory = 2 << 30
	// minFDs keeps a usable host even under a tiny `ulimit -n`.
	minFDs = 64
)

// newHost builds the libp2p host and starts listening. The host owns the
// connection manager and the resource manager (host.Close closes them).
func newHost(cfg *Config, log *slog.Logger, nat []libp2p.Option) (host.Host, error) {
	mgr, err := newResourceManager(cfg)
	if err != nil {
		return nil, err
	}
	cm, err := connmgr.NewConnManager(cfg.ConnMgrLow, cfg.ConnMgrHigh, connmgr.WithGracePeriod(cfg.ConnMgrGrace))
	if err != nil {
		mgr.Close()
		return nil, fmt.Errorf("node: connection manager: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(cfg.Identity),
		libp2p.UserAgent(userAgent),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Transport(webtransport.New),
		libp2p.Transport(libp2pwebrtc.New),
		// TLS first: on the hardware that matters AES-GCM is several times
		// faster than Noise's ChaCha20-Poly1305, which is bulk transfer's cost
		// on TCP. Noise stays for peers that only speak it.
		libp2p.Security(tls.ID, tls.New),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(mgr),
		libp2p.ConnectionManager(cm),
		// Listening happens below, once the host exists: when libp2p.New
		// itself fails to listen it leaves the half-started swarm running.
		libp2p.NoListenAddrs,
	}
	opts = append(opts, nat...)
	if cfg.ConnectionGater != nil {
		opts = append(opts, libp2p.ConnectionGater(cfg.ConnectionGater))
	}
	if cfg.Registerer != nil {
		opts = append(opts, libp2p.PrometheusRegisterer(cfg.Registerer))
	} else {
		opts = append(opts, libp2p.DisableMetrics())
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		// Closing twice is harmless; libp2p closes them only on some errors.
		_ = cm.Close()
		_ = mgr.Close()
		return nil, fmt.Errorf("node: libp2p host: %w", err)
	}
	if err := listen(h, cfg.ListenAddrs, log); err != nil {
		_ = h.Close()
		return nil, err
	}
	return h, nil
}

// listen listens on every address it can. One address that fails (an IPv6
// address on a machine without IPv6, say) is logged; all of them failing is
// an error, since the node could then only dial out.
func listen(h host.Host, addrs []string, log *slog.Logger) error {
	var errs []error
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err == nil {
			err = h.Network().Listen(a)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("listen on %s: %w", s, err))
		}
	}
	if len(addrs) > 0 && len(errs) == len(addrs) {
		return fmt.Errorf("node: %w", errors.Join(errs...))
	}
	for _, err := range errs {
		log.Warn("cannot listen", "err", err)
	}
	return nil
}

func newResourceManager(cfg *Config) (network.ResourceManager, error) {
	limits := resourceLimits(cfg.ResourceLimits, cfg.ConnMgrHigh)
	var opts []rcmgr.Option
	if cfg.Registerer != nil {
		str, err := rcmgr.NewStatsTraceReporter()
		if err != nil {
			return nil, fmt.Errorf("node: resource manager metrics: %w", err)
		}
		opts = append(opts, rcmgr.WithTraceReporter(str))
	}
	mgr, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits), opts...)
	if err != nil {
		return nil, fmt.Errorf("node: resource manager: %w", err)
	}
	return mgr, nil
}

// resourceLimits scales libp2p's default limits (plus its per-service limits
// for identify, ping, relay, AutoNAT and hole punching) to the memory and
// file descriptors this node may use, then makes sure the connection manager
// can reach its high water mark before the resource manager starts refusing
// connections: otherwise trimming would never happen and peers would just be
// refused.
func resourceLimits(rl ResourceLimits, connMgrHigh int) rcmgr.ConcreteLimitConfig {
	mem := rl.MaxMemory
	if mem == 0 {
		mem = min(max(int64(memory.TotalMemory()/8), minMaxMemory), maxMaxMemory)
	}
	fds := rl.MaxFileDescriptors
	if fds == 0 {
		fds = max(fdLimit()/2, minFDs)
	}
	scaling := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&scaling)
	scaled := scaling.Scale(mem, fds)

	system := scaled.ToPartialLimitConfig().System
	inbound := max(int(system.ConnsInbound), 2*connMgrHigh)
	conns := max(int(system.Conns), 2*connMgrHigh+int(system.ConnsOutbound))
	partial := rcmgr.PartialLimitConfig{
		System: rcmgr.ResourceLimits{
			Memory:       rcmgr.LimitVal64(mem),
			FD:           rcmgr.LimitVal(fds),
			ConnsInbound: rcmgr.LimitVal(inbound),
			Conns:        rcmgr.LimitVal(conns),
		},
	}
	return partial.Build(scaled)
}
