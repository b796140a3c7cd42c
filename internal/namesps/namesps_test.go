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
