package namesps

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/names/namestest"
)

func TestTopic(t *testing.T) {
	key, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	id, err := peer.IDFromPrivateKey(key)
	require.NoError(t, err)
	name := ipns.NameFromPeer(id)
	topic := Topic(name)
	// go-libp2p-pubsub-router's KeyToTopic of "/ipns/<binary peer ID>".
	require.True(t, strings.HasPrefix(topic, "/record/L2lwbnMv"), topic)
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(topic, "/record/"))
	require.NoError(t, err)
	require.Equal(t, "/ipns/"+string(id), string(raw))
}

// pair is an author and a subscriber on one mocknet link, each with its
// own name system.
func pair(t *testing.T) (author, sub *Service, authorNames, subNames *names.System, got chan names.Record) {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { require.NoError(t, mn.Close()) })
	ha, err := mn.GenPeer()
	require.NoError(t, err)
	hb, err := mn.GenPeer()
	require.NoError(t, err)
	require.NoError(t, mn.LinkAll())
	// Separate routing too: what the subscriber holds came by push.
	ra, _ := namestest.Routing(t)
	rb, _ := namestest.Routing(t)
	authorNames = namestest.System(t, ra, nil, nil)
	subNames = namestest.System(t, rb, nil, nil)
	got = make(chan names.Record, 8)
	author, err = New(Config{Host: ha, Names: authorNames})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, author.Close()) })
	sub, err = New(Config{Host: hb, Names: subNames, OnRecord: func(rec names.Record) { got <- rec }})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sub.Close()) })
	_, err = mn.ConnectPeers(ha.ID(), hb.ID())
	require.NoError(t, err)
	return author, sub, authorNames, subNames, got
}

func TestPushReachesSubscriber(t *testing.T) {
	ctx := context.Background()
	author, sub, authorNames, subNames, got := pair(t)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)

	require.NoError(t, sub.Subscribe(name))
	require.NoError(t, author.Subscribe(name))
	require.Eventually(t, func() bool { return len(author.Peers(name)) == 1 }, 10*time.Second, 10*time.Millisecond)

	for seq := range 2 {
		rec, err := authorNames.Publish(ctx, key, path.FromCid(namestest.CID(t, fmt.Sprint(seq))))
		require.NoError(t, err)
		// Gossip is best effort (a message sent while the peers' streams
		// are still opening can be lost; followers also poll), so the
		// author sends again each second, as a republishing node would;
		// the same record twice is handed to OnRecord once.
		require.NoError(t, author.Publish(ctx, rec))
		resend := time.NewTicker(time.Second)
		deadline := time.After(10 * time.Second)
	wait:
		for {
			select {
			case in := <-got:
				require.Equal(t, rec.Seq, in.Seq)
				require.Equal(t, rec.Raw, in.Raw)
				break wait
			case <-resend.C:
				require.NoError(t, author.Publish(ctx, rec))
			case <-deadline:
				t.Fatalf("record seq %d never arrived", rec.Seq)
			}
		}
		resend.Stop()
		held, err := subNames.Held(ctx, name)
		require.NoError(t, err)
		require.Equal(t, rec.Seq, held.Seq)
	}

	// An older record is gossiped but not taken: the subscriber keeps the
	// newer one and OnRecord stays quiet.
	old, err := ipns.NewRecord(key, path.FromCid(namestest.CID(t, "old")), 1, time.Now().Add(time.Hour), time.Minute)
	require.NoError(t, err)
	oldRaw, err := ipns.MarshalRecord(old)
	require.NoError(t, err)
	require.NoError(t, author.Publish(ctx, names.Record{Name: name, Raw: oldRaw}))
	select {
	case in := <-got:
		t.Fatalf("an older record (seq %d) was taken", in.Seq)
	case <-time.After(500 * time.Millisecond):
	}
	held, err := subNames.Held(ctx, name)
	require.NoError(t, err)
	require.Equal(t, uint64(2), held.Seq)
}

func TestSubscribeAfterClose(t *testing.T) {
	author, _, _, _, _ := pair(t)
	require.NoError(t, author.Close())
	require.NoError(t, author.Close())
	require.ErrorContains(t, author.Subscribe(namestest.NameOf(t, namestest.Key(t))), "closed")
}

// A subscriber that joins after the last publish asks the peers on the
// topic for their record (FetchProtocol), so it needs no new gossip.
func TestJoiningSubscriberFetchesHeldRecord(t *testing.T) {
	ctx := context.Background()
	author, sub, authorNames, subNames, got := pair(t)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)
	rec, err := authorNames.Publish(ctx, key, path.FromCid(namestest.CID(t, "v1")))
	require.NoError(t, err)
	require.NoError(t, author.Subscribe(name))

	require.NoError(t, sub.Subscribe(name))
	select {
	case in := <-got:
		require.Equal(t, rec.Raw, in.Raw)
	case <-time.After(10 * time.Second):
		t.Fatal("the record held on the topic never arrived")
	}
	held, err := subNames.Held(ctx, name)
	require.NoError(t, err)
	require.Equal(t, rec.Seq, held.Seq)
}

func TestFetch(t *testing.T) {
	ctx := context.Background()
	author, sub, authorNames, _, _ := pair(t)
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)
	authorID := author.cfg.Host.ID()

	data, err := sub.Fetch(ctx, authorID, name)
	require.NoError(t, err)
	require.Nil(t, data, "no record held: NOT_FOUND")

	rec, err := authorNames.Publish(ctx, key, path.FromCid(namestest.CID(t, "v1")))
	require.NoError(t, err)
	data, err = sub.Fetch(ctx, authorID, name)
	require.NoError(t, err)
	require.Equal(t, rec.Raw, data)

	for _, tt := range []struct {
		name string
		send []byte
	}{
		{"not protobuf", []byte{0x05, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"identifier a varint", []byte{0x02, 0x08, 0x01}},
		{"over the size bound", append([]byte{0x80, 0x10}, make([]byte, 2048)...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := sub.cfg.Host.NewStream(ctx, authorID, FetchProtocol)
			require.NoError(t, err)
			defer st.Close()
			// The server may reset before all of it is written.
			_, _ = st.Write(tt.send)
			_ = st.CloseWrite()
			require.NoError(t, st.SetReadDeadline(time.Now().Add(10*time.Second)))
			n, err := st.Read(make([]byte, 64))
			require.Error(t, err, "the stream is reset, not answered")
			require.Zero(t, n)
		})
	}
	// The server is still there for good requests.
	data, err = sub.Fetch(ctx, authorID, name)
	require.NoError(t, err)
	require.Equal(t, rec.Raw, data)
}

func TestFetchMessages(t *testing.T) {
	id, err := parseFetchRequest(appendFetchRequest(nil, "/ipns/key"))
	require.NoError(t, err)
	require.Equal(t, "/ipns/key", id)
	for _, tt := range []struct {
		status uint64
		data   []byte
	}{{fetchOK, []byte("record")}, {fetchNotFound, nil}, {fetchError, nil}} {
		status, data, err := parseFetchResponse(appendFetchResponse(nil, tt.status, tt.data))
		require.NoError(t, err)
		require.Equal(t, tt.status, status)
		require.Equal(t, tt.data, data)
	}
	// go-libp2p-pubsub-router's encoding (gogo protobuf) of
	// FetchRequest{"/ipns/a"} and FetchResponse{NOT_FOUND}.
	id, err = parseFetchRequest([]byte{0x0a, 0x07, '/', 'i', 'p', 'n', 's', '/', 'a'})
	require.NoError(t, err)
	require.Equal(t, "/ipns/a", id)
	status, _, err := parseFetchResponse([]byte{0x08, 0x01})
	require.NoError(t, err)
	require.Equal(t, uint64(fetchNotFound), status)
	_, err = parseFetchRequest([]byte{0x08})
	require.Error(t, err)
}

func FuzzFetchMessages(f *testing.F) {
	f.Add(appendFetchRequest(nil, "/ipns/key"))
	f.Add(appendFetchResponse(nil, fetchNotFound, []byte("x")))
	f.Add([]byte{0x0a, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if id, err := parseFetchRequest(b); err == nil {
			again, err := parseFetchRequest(appendFetchRequest(nil, id))
			require.NoError(t, err)
			require.Equal(t, id, again)
		}
		if status, data, err := parseFetchResponse(b); err == nil {
			s2, d2, err := parseFetchResponse(appendFetchResponse(nil, status, data))
			require.NoError(t, err)
			require.Equal(t, status, s2)
			require.Equal(t, len(data), len(d2))
		}
		_, _ = nameOfKey(string(b))
	})
}
