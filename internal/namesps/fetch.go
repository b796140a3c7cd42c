package namesps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-msgio"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/islandsite/island/internal/names"
)

// FetchProtocol is how a peer that joins a name's topic asks the peers
// already on it for the record they hold, since gossip only carries what
// is published from then on (go-libp2p-pubsub-router's fetch protocol,
// which Kubo's --enable-namesys-pubsub speaks). A request is one
// varint-length-prefixed protobuf FetchRequest{identifier = the routing
// key "/ipns/<binary peer ID>"}; the answer one FetchResponse{status, data
// = the record}, status 0 OK, 1 NOT_FOUND, 2 ERROR.
const FetchProtocol = protocol.ID("/libp2p/fetch/0.0.1")

const (
	fetchOK       = 0
	fetchNotFound = 1
	fetchError    = 2

	// maxFetchRequest bounds a request: an identifier is "/ipns/" and a
	// peer ID of well under 100 bytes.
	maxFetchRequest = 1 << 10
	// maxFetchResponse bounds an answer: the IPNS spec caps records at
	// 10 KiB.
	maxFetchResponse = 12 << 10
	// fetchTimeout bounds one exchange, either side.
	fetchTimeout = 10 * time.Second
	// maxFetchServing bounds the requests answered at once; more are
	// reset.
	maxFetchServing = 32
)

// appendFetchRequest encodes a FetchRequest.
func appendFetchRequest(b []byte, identifier string) []byte {
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	return protowire.AppendString(b, identifier)
}

// appendFetchResponse encodes a FetchResponse (proto3: a zero status is
// left out).
func appendFetchResponse(b []byte, status uint64, data []byte) []byte {
	if status != 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, status)
	}
	if len(data) > 0 {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, data)
	}
	return b
}

// parseFetchRequest decodes a FetchRequest from a peer; unknown fields are
// skipped, as protobuf wants.
func parseFetchRequest(b []byte) (identifier string, err error) {
	err = eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == 1 {
			if typ != protowire.BytesType {
				return errors.New("identifier is not a string")
			}
			identifier = string(v)
		}
		return nil
	})
	return identifier, err
}

// parseFetchResponse decodes a FetchResponse from a peer.
func parseFetchResponse(b []byte) (status uint64, data []byte, err error) {
	err = eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			status = n
		case num == 1:
			return errors.New("status is not a varint")
		case num == 2 && typ == protowire.BytesType:
			data = v
		case num == 2:
			return errors.New("data is not bytes")
		}
		return nil
	})
	return status, data, err
}

// eachField calls f with every field of the protobuf message b: v for the
// length-delimited ones, n for varints.
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return fmt.Errorf("fetch message: %w", protowire.ParseError(l))
		}
		b = b[l:]
		var v []byte
		var n uint64
		switch typ {
		case protowire.BytesType:
			v, l = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			n, l = protowire.ConsumeVarint(b)
		default:
			l = protowire.ConsumeFieldValue(num, typ, b)
		}
		if l < 0 {
			return fmt.Errorf("fetch message: %w", protowire.ParseError(l))
		}
		b = b[l:]
		if err := f(num, typ, v, n); err != nil {
			return fmt.Errorf("fetch message: %w", err)
		}
	}
	return nil
}

// nameOfKey is the IPNS name of a routing key "/ipns/<binary peer ID>".
func nameOfKey(key string) (ipns.Name, bool) {
	id, ok := strings.CutPrefix(key, ipns.NamespacePrefix)
	if !ok {
		return ipns.Name{}, false
	}
	p, err := peer.IDFromBytes([]byte(id))
	if err != nil {
		return ipns.Name{}, false
	}
	return ipns.NameFromPeer(p), true
}

// serveFetch answers one fetch request with the valid record held for
// the name asked, whatever the topic: records are public and signed.
func (s *Service) serveFetch(st network.Stream) {
	select {
	case s.serving <- struct{}{}:
		defer func() { <-s.serving }()
	default:
		_ = st.Reset()
		return
	}
	_ = st.SetDeadline(time.Now().Add(fetchTimeout))
	r := msgio.NewVarintReaderSize(st, maxFetchRequest)
	msg, err := r.ReadMsg()
	if err != nil {
		_ = st.Reset()
		return
	}
	id, err := parseFetchRequest(msg)
	r.ReleaseMsg(msg)
	if err != nil {
		s.log.Debug("bad fetch request", "from", st.Conn().RemotePeer(), "err", err)
		_ = st.Reset()
		return
	}
	status, data := uint64(fetchNotFound), []byte(nil)
	if name, ok := nameOfKey(id); ok {
		rec, err := s.cfg.Names.Held(s.ctx, name)
		switch {
		case err == nil:
			status, data = fetchOK, rec.Raw
		case !errors.Is(err, names.ErrNotFound) && !errors.As(err, new(*names.RecordError)):
			status = fetchError
		}
	}
	if err := msgio.NewVarintWriter(st).WriteMsg(appendFetchResponse(nil, status, data)); err != nil {
		_ = st.Reset()
		return
	}
	_ = st.Close()
}

// Fetch asks p for the record it holds of name; nil and no error when it
// holds none. The record is not checked: Accept does that.
func (s *Service) Fetch(ctx context.Context, p peer.ID, name ipns.Name) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	st, err := s.cfg.Host.NewStream(ctx, p, FetchProtocol)
	if err != nil {
		return nil, fmt.Errorf("namesps: fetch %s from %s: %w", name, p, err)
	}
	defer st.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(dl)
	}
	if err := msgio.NewVarintWriter(st).WriteMsg(appendFetchRequest(nil, string(name.RoutingKey()))); err != nil {
		_ = st.Reset()
		return nil, fmt.Errorf("namesps: fetch %s from %s: %w", name, p, err)
	}
	if err := st.CloseWrite(); err != nil {
		_ = st.Reset()
		return nil, fmt.Errorf("namesps: fetch %s from %s: %w", name, p, err)
	}
	msg, err := msgio.NewVarintReaderSize(st, maxFetchResponse).ReadMsg()
	if err != nil {
		_ = st.Reset()
		return nil, fmt.Errorf("namesps: fetch %s from %s: %w", name, p, err)
	}
	status, data, err := parseFetchResponse(msg)
	switch {
	case err != nil:
		return nil, fmt.Errorf("namesps: fetch %s from %s: %w", name, p, err)
	case status == fetchOK:
		return data, nil
	case status == fetchNotFound:
		return nil, nil
	}
	return nil, fmt.Errorf("namesps: fetch %s from %s: the peer answered status %d", name, p, status)
}
