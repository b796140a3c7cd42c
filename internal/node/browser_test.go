package node

import (
	"testing"

	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

func TestBrowserDialable(t *testing.T) {
	const (
		hash  = "uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g"
		relay = "/p2p/12D3KooWGzBRMr4WKGYKsKsvGZJbgTLWojsbFFMi4B5Vf3XbVREB"
	)
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"/ip4/127.0.0.1/udp/4001/quic-v1/webtransport/certhash/" + hash + "/certhash/" + hash, true},
		{"/ip4/127.0.0.1/udp/4001/quic-v1/webtransport", false}, // nothing to pin
		{"/ip6/::1/udp/4001/webrtc-direct/certhash/" + hash + relay, true},
		{"/ip4/127.0.0.1/udp/4001/webrtc-direct", false},
		{"/dns4/example.net/tcp/443/wss", true},
		{"/dns4/example.net/tcp/443/tls/sni/example.net/ws", true},
		{"/ip4/127.0.0.1/tcp/80/ws", false}, // a page served over https may not use it
		{"/ip4/127.0.0.1/tcp/4001", false},
		{"/ip4/127.0.0.1/udp/4001/quic-v1", false},
		{"/ip4/1.2.3.4/udp/4001/quic-v1/webtransport/certhash/" + hash + relay + "/p2p-circuit", true},
		{"/ip4/1.2.3.4/tcp/4001" + relay + "/p2p-circuit", false},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			require.Equal(t, tc.want, BrowserDialable(ma.StringCast(tc.addr)))
		})
	}
}
