package core

import (
	"testing"

	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// A pinning request's origins are dialed only when the node would dial
// them anyway: public addresses, and loopback or private ones only on a
// LAN node. Names, unix sockets, unspecified, multicast and link-local
// addresses never.
func TestDialableOrigin(t *testing.T) {
	const id = "/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"
	for _, tc := range []struct {
		addr        string
		online, lan bool
	}{
		{"/ip4/8.8.8.8/tcp/4001" + id, true, true},
		{"/ip6/2001:4860:4860::8888/udp/4001/quic-v1" + id, true, true},
		{"/ip4/127.0.0.1/tcp/4001" + id, false, true},
		{"/ip6/::1/tcp/4001" + id, false, true},
		{"/ip4/192.168.1.1/tcp/80" + id, false, true},
		{"/ip4/10.0.0.1/tcp/22" + id, false, true},
		{"/ip4/0.0.0.0/tcp/4001" + id, false, false},
		{"/ip4/169.254.169.254/tcp/80" + id, false, false},
		{"/ip4/224.0.0.1/tcp/80" + id, false, false},
		{"/dns4/localhost/tcp/4001" + id, false, false},
		{"/dns/example.org/tcp/4001" + id, false, false},
		{"/unix/tmp/sock" + id, false, false},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			a, err := ma.NewMultiaddr(tc.addr)
			require.NoError(t, err)
			require.Equal(t, tc.online, dialableOrigin(a, false), "online node")
			require.Equal(t, tc.lan, dialableOrigin(a, true), "LAN node")
		})
	}
}
