package names_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/names/namestest"
)

// FuzzIPNSRecord feeds arbitrary bytes through the validation every record
// from outside goes through (PutRecord, routing, the local store): it must
// never panic, must explain every refusal, and must accept only what boxo's
// own validator accepts.
func FuzzIPNSRecord(f *testing.F) {
	key, _, err := crypto.GenerateEd25519Key(bytes.NewReader(make([]byte, 64)))
	require.NoError(f, err)
	name := namestest.NameOf(f, key)
	value := namestest.IPFSPath(f, "fuzz")
	seed := func(sk crypto.PrivKey, eol time.Time, opts ...ipns.Option) []byte {
		rec, err := ipns.NewRecord(sk, value, 3, eol, time.Minute, opts...)
		require.NoError(f, err)
		b, err := ipns.MarshalRecord(rec)
		require.NoError(f, err)
		return b
	}
	// Records valid for a long time, so the corpus stays meaningful.
	future := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Add(seed(key, future))
	f.Add(seed(key, future, ipns.WithV1Compatibility(false)))
	f.Add(seed(key, future, ipns.WithPublicKey(true)))
	f.Add(seed(key, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)))
	f.Add(seed(namestest.Key(f), future, ipns.WithPublicKey(true)))
	f.Add([]byte{})
	f.Add([]byte("\x0a\x00\x12\x00"))

	routingKey := string(name.RoutingKey())
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := names.CheckRecord(name, data)
		if err != nil {
			var rerr *names.RecordError
			require.ErrorAs(t, err, &rerr)
			require.NotEmpty(t, rerr.Detail)
			require.NotNil(t, rerr.Reason)
			return
		}
		require.NoError(t, ipns.Validator{}.Validate(routingKey, data))
		require.NotNil(t, rec.Value)
		require.True(t, rec.EOL.After(time.Now()))
	})
}
