package node

import (
	libp2pwebrtc "github.com/libp2p/go-libp2p/p2p/transport/webrtc"
	webtransport "github.com/libp2p/go-libp2p/p2p/transport/webtransport"
	ma "github.com/multiformats/go-multiaddr"
)

// BrowserDialable reports whether a web browser can dial a by itself, with
// no gateway between: WebTransport or WebRTC-direct with the certificate
// hash the browser pins (it has no other way to trust the node's
// self-signed certificate), or secure WebSockets. A relayed address counts
// when its hop to the relay does.
func BrowserDialable(a ma.Multiaddr) bool {
	hop, _ := ma.SplitFunc(a, func(c ma.Component) bool { return c.Code() == ma.P_CIRCUIT })
	if ok, hashes := webtransport.IsWebtransportMultiaddr(hop); ok && hashes > 0 {
		return true
	}
	if ok, hashes := libp2pwebrtc.IsWebRTCDirectMultiaddr(hop); ok && hashes > 0 {
		return true
	}
	tls := false
	for _, c := range hop {
		switch c.Code() {
		case ma.P_WSS:
			return true
		case ma.P_TLS:
			tls = true
		case ma.P_WS:
			return tls
		}
	}
	return false
}
