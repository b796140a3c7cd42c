package pinsvc

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzPinRequest feeds arbitrary bodies to the POST /pins parser: no panic,
// every accepted Pin is within the spec's limits and survives a round trip.
func FuzzPinRequest(f *testing.F) {
	f.Add([]byte(`{"cid":"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"}`))
	f.Add([]byte(`{"cid":"QmPZ9gcCEpqKTo6aq61g2nXGUhM4iCL3ewB6LDXZCtioEB","name":"site","origins":["/ip4/127.0.0.1/tcp/4001"],"meta":{"a":"b"}}`))
	f.Add([]byte(`{"cid":"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy","origins":["/ip4/1.2.3.4/tcp/1","/ip4/1.2.3.4/tcp/1"]}`))
	f.Add([]byte(`{"cid":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParsePin(body)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		require.True(t, p.CID.Defined())
		require.LessOrEqual(t, len(p.Origins), maxOrigins)
		require.LessOrEqual(t, len(p.Meta), maxMetaProps)
		again, err := json.Marshal(p.wire())
		require.NoError(t, err)
		q, err := ParsePin(again)
		require.NoError(t, err)
		require.Equal(t, p.CID, q.CID)
		require.Equal(t, p.Name, q.Name)
		require.Len(t, q.Origins, len(p.Origins))
	})
}
