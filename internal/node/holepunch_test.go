package node

import (
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

func TestHolePunchReason(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"failed to dial: failed to dial 12D3KooWGXGknKJEVkKQLH9CssJxSoc595WU3WF1ZnbKRJhxXALF: all dials failed\n" +
			"  * [/ip6/3fff:0:a::1/tcp/12426] dial tcp6 [::]:4001->[3fff:0:a::1]:12426: i/o timeout\n" +
			"  * [/ip6/3fff:0:a::1/udp/41729/quic-v1] timeout: no recent network activity", "all dials failed"},
		{"failed to open hole-punching stream: stream reset", "failed to open hole-punching stream: stream reset"},
		{"context deadline exceeded", "context deadline exceeded"},
	} {
		require.Equal(t, tc.want, holePunchReason(tc.in), "%q", tc.in)
	}
}

func TestParseRelayService(t *testing.T) {
	for _, s := range []string{"auto", "on", "off"} {
		m, err := ParseRelayService(s)
		require.NoError(t, err)
		require.Equal(t, RelayServiceMode(s), m)
	}
	for _, s := range []string{"", "yes", "ON"} {
		_, err := ParseRelayService(s)
		require.ErrorContains(t, err, "want auto, on or off", "%q", s)
	}
}

func TestRelayOnlyErrorSaysWhy(t *testing.T) {
	c := cid.MustParse("bafkreih2h5qe6evozfovxx4h7uaxqaajvm547krzwzazhpclfk2shlbwl4")
	p, err := peer.Decode("12D3KooWGXGknKJEVkKQLH9CssJxSoc595WU3WF1ZnbKRJhxXALF")
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		err  RelayOnlyError
		want string
	}{
		{"none tried", RelayOnlyError{Cid: c, Peers: []peer.ID{p}}, "(no hole punch was tried)"},
		{"no public address", RelayOnlyError{Cid: c, Peers: []peer.ID{p}, NoPublicAddr: true}, "no hole punch was tried: this node knows no public address"},
		{"failed", RelayOnlyError{Cid: c, Peers: []peer.ID{p, p}, HolePunch: &HolePunch{Err: "failed to dial: all dials failed"}},
			p.String() + " (and 1 other peer(s)), reachable only through a relay, and no direct connection came (hole punching failed: all dials failed)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, tc.err.Error(), tc.want)
			require.Contains(t, tc.err.Error(), c.String()+" is held by "+p.String())
			require.ErrorIs(t, &tc.err, ErrRelayOnly)
		})
	}
}
