package cli

import (
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"
)

func newEd25519(t *testing.T) (crypto.PrivKey, ipns.Name) {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	require.NoError(t, err)
	pid, err := peer.IDFromPrivateKey(k)
	require.NoError(t, err)
	return k, ipns.NameFromPeer(pid)
}

// signedRecord is a serialized IPNS record, like a gateway-conformance
// .ipns-record fixture.
func signedRecord(t *testing.T, k crypto.PrivKey, value string, seq uint64, eol time.Time, opts ...ipns.Option) []byte {
	t.Helper()
	p, err := path.NewPath(value)
	require.NoError(t, err)
	rec, err := ipns.NewRecord(k, p, seq, eol, time.Minute, opts...)
	require.NoError(t, err)
	b, err := ipns.MarshalRecord(rec)
	require.NoError(t, err)
	return b
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func TestRoutingPutGet(t *testing.T) {
	env := testEnv(t)
	key, name := newEd25519(t)
	forger, _ := newEd25519(t)
	key5 := "/ipns/" + name.String()
	hour := time.Now().Add(time.Hour)
	v5 := "/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
	v6 := "/ipfs/bafkreiey5jxe6ilpf62lnh77tm5ejbbmhbugzjuf6p2v3remlu73ced34q"
	rec5 := writeTemp(t, "5.ipns-record", signedRecord(t, key, v5, 5, hour))
	rec6 := signedRecord(t, key, v6, 6, hour)

	// In order: each put sees what the ones before stored.
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"valid", []string{"routing", "put", key5, rec5}, exitOK, "stored record for " + key5 + ": " + v5 + " (sequence 5, valid until ", ""},
		{"the same again", []string{"routing", "put", key5, rec5}, exitOK, "(sequence 5,", ""},
		{"lower sequence", []string{"routing", "put", key5, writeTemp(t, "3.ipns-record", signedRecord(t, key, v6, 3, hour))},
			exitFailure, "", "3.ipns-record: refused: names: record sequence 3 is lower than the 5 already held for " + name.String()},
		{"forged, embedding the forger's key", []string{"routing", "put", key5, writeTemp(t, "forged.ipns-record", signedRecord(t, forger, v6, 9, hour, ipns.WithPublicKey(true)))},
			exitFailure, "", "forged.ipns-record: refused: names: record for " + name.String() + " is signed by another key"},
		{"forged, signed by another key", []string{"routing", "put", key5, writeTemp(t, "forged2.ipns-record", signedRecord(t, forger, v6, 9, hour))},
			exitFailure, "", "forged2.ipns-record: refused: names: record for " + name.String() + " has a signature that does not verify"},
		{"expired", []string{"routing", "put", key5, writeTemp(t, "old.ipns-record", signedRecord(t, key, v6, 9, time.Now().Add(-time.Hour)))},
			exitFailure, "", "old.ipns-record: refused: names: record for " + name.String() + " expired at "},
		{"garbage", []string{"routing", "put", key5, writeTemp(t, "garbage.ipns-record", []byte("not a record\n"))},
			exitFailure, "", "garbage.ipns-record: refused: names: record for " + name.String() + " is malformed"},
		{"empty", []string{"routing", "put", key5, writeTemp(t, "empty.ipns-record", nil)},
			exitFailure, "", "empty.ipns-record: refused: names: record for " + name.String() + " is malformed"},
		{"too big", []string{"routing", "put", key5, writeTemp(t, "big.ipns-record", make([]byte, 1<<20))},
			exitFailure, "", "big.ipns-record: refused: an IPNS record has at most 10240 bytes"},
		{"missing file", []string{"routing", "put", key5, "nope.ipns-record"}, exitFailure, "", "nope.ipns-record: no such file"},
		{"not an ipns key", []string{"routing", "put", "/pk/" + name.String(), rec5}, exitUsage, "", "want /ipns/NAME"},
		{"bad name", []string{"routing", "put", "/ipns/nope", rec5}, exitUsage, "", `"/ipns/nope" is not an IPNS name`},
		{"one argument", []string{"routing", "put", key5}, exitUsage, "", "takes 2 argument(s), got 1"},
		{"get bad key", []string{"routing", "get", "nope"}, exitUsage, "", "want /ipns/NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, env, tt.args...)
			require.Equal(t, tt.code, code, stderr)
			require.Contains(t, stdout, tt.stdout)
			require.Contains(t, stderr, tt.stderr)
		})
	}

	// Nothing refused replaced the record: it is still the one put first.
	b5, err := os.ReadFile(rec5)
	require.NoError(t, err)
	require.Equal(t, string(b5), mustRun(t, env, "routing", "get", key5))
	require.Equal(t, v5+"\n", mustRun(t, env, "name", "resolve", name.String()))

	// A newer one replaces it; routing get hands back its exact bytes.
	var got core.Record
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, env, "routing", "put", "--json", "--allow-offline", key5, writeTemp(t, "6.ipns-record", rec6))), &got))
	require.Equal(t, core.Record{Name: name.String(), Value: v6, Seq: 6, EOL: got.EOL, TTL: "1m0s"}, got)
	require.Equal(t, string(rec6), mustRun(t, env, "routing", "get", key5))
	require.Equal(t, v6+"\n", mustRun(t, env, "name", "resolve", key5))

	_, other := newEd25519(t)
	code, _, stderr := runCLI(t, env, "routing", "get", "/ipns/"+other.String())
	require.Equal(t, exitFailure, code)
	require.Contains(t, stderr, "island: routing get: names: not found")
}
