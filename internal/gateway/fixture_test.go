package gateway

import (
	"context"
	cryptorand "crypto/rand"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	offlinerouting "github.com/ipfs/boxo/routing/offline"
	"github.com/ipfs/go-cid"
	pebble "github.com/ipfs/go-ds-pebble"
	"github.com/islandsite/island/internal/testutil"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/stretchr/testify/require"
)

// bigFileSize spans four 1 MiB chunks, so ranges and entity-bytes cross
// block boundaries.
const bigFileSize = 3<<20 + 1234

// ipnsTTL is the TTL of the fixture's IPNS record, which /ipns/ responses
// turn into Cache-Control max-age.
const ipnsTTL = 5 * time.Minute

// fixture is a node's worth of content: the hand-made site (with a big
// file added), the generated corpus, an IPNS record naming the site and a
// DNSLink record for example.org.
type fixture struct {
	store   *testStore
	bserv   blockservice.BlockService
	siteDir string
	site    cid.Cid
	corpus  cid.Cid
	big     []byte
	name    ipns.Name
	key     crypto.PrivKey
	record  []byte
	routing routing.Routing
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{}
	f.store, f.bserv = newTestStore(tb)

	// The site of testdata/ plus a big file, in a copy so testdata stays small.
	f.siteDir = filepath.Join(tb.TempDir(), "site")
	require.NoError(tb, os.CopyFS(f.siteDir, os.DirFS(filepath.Join("testdata", "site"))))
	f.big = make([]byte, bigFileSize)
	rng := rand.NewChaCha8([32]byte{'i', 's', 'l', 'a', 'n', 'd'})
	_, _ = rng.Read(f.big)
	require.NoError(tb, os.WriteFile(filepath.Join(f.siteDir, "big.bin"), f.big, 0o644))
	f.site = f.store.addTree(tb, f.siteDir)
	f.corpus = f.store.addTree(tb, testutil.Corpus(tb, 20, 3))

	ds, err := pebble.NewDatastore(filepath.Join(tb.TempDir(), "records"))
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, ds.Close()) })
	f.routing = offlinerouting.NewOfflineRouter(ds, record.NamespacedValidator{
		"ipns": ipns.Validator{},
		"pk":   record.PublicKeyValidator{},
	})
	f.key, _, err = crypto.GenerateEd25519Key(cryptorand.Reader)
	require.NoError(tb, err)
	pid, err := peer.IDFromPrivateKey(f.key)
	require.NoError(tb, err)
	f.name = ipns.NameFromPeer(pid)
	f.record = f.publish(tb, f.site, 1)
	return f
}

// publish points the fixture's name at root with sequence seq and returns
// the record.
func (f *fixture) publish(tb testing.TB, root cid.Cid, seq uint64) []byte {
	tb.Helper()
	rec, err := ipns.NewRecord(f.key, path.FromCid(root), seq, time.Now().Add(24*time.Hour), ipnsTTL)
	require.NoError(tb, err)
	raw, err := ipns.MarshalRecord(rec)
	require.NoError(tb, err)
	require.NoError(tb, f.routing.PutValue(context.Background(), string(f.name.RoutingKey()), raw))
	return raw
}

// child is the CID of a direct child of the site's root directory.
func (f *fixture) child(tb testing.TB, name string) cid.Cid {
	tb.Helper()
	nd, err := f.store.dag.Get(context.Background(), f.site)
	require.NoError(tb, err)
	for _, l := range nd.Links() {
		if l.Name == name {
			return l.Cid
		}
	}
	tb.Fatalf("the site has no %s", name)
	return cid.Undef
}

// namesysWith is a name system over the fixture's routing with DNSLink
// records for links only.
func namesysWith(f *fixture, links map[string]string) (namesys.NameSystem, error) {
	return namesys.NewNameSystem(f.routing, namesys.WithDNSResolverWithTTL(dnslinkTXT(links)))
}

// config is a gateway over the fixture, resolving names the way the node
// does: a name system over the routing that holds the record, and DNSLink
// for example.org only.
func (f *fixture) config(tb testing.TB) Config {
	tb.Helper()
	ns, err := namesysWith(f, map[string]string{"example.org": "/ipfs/" + f.site.String()})
	require.NoError(tb, err)
	cfg := DefaultConfig()
	cfg.BlockService = f.bserv
	cfg.NameSystem = ns
	cfg.Routing = f.routing
	cfg.SubdomainHosts = []string{"gw.example.net"}
	return cfg
}

// dnslinkTXT answers DNSLink TXT lookups for the domains in links (domain →
// content path) and "no such record" for all others, sending no DNS query.
func dnslinkTXT(links map[string]string) namesys.LookupTXTWithTTLFunc {
	return func(ctx context.Context, name string) ([]string, time.Duration, error) {
		domain := strings.TrimSuffix(strings.ToLower(strings.TrimPrefix(name, "_dnslink.")), ".")
		if p, ok := links[domain]; ok {
			return []string{"dnslink=" + p}, 0, nil
		}
		return offlineLookupTXT(ctx, name)
	}
}
