package node

import (
	"testing"

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
