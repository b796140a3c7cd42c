package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/ipld/go-car/v2"
	"github.com/islandsite/island/internal/testutil"
	"github.com/stretchr/testify/require"
)

// corpusSmallRoot is Kubo's root CID for gen-corpus.py OUT 20 3 with the
// unixfs-v1-2025 profile (testdata/vectors): island's importer must match.
const corpusSmallRoot = "bafybeihmb6x4fmamq4ndyw567bhfaxpp26qyl4umntmd3psktjx5ckvwqm"

// carBlocks reads a CAR response: its roots and the CIDs of its blocks,
// each checked against its bytes.
func carBlocks(tb testing.TB, body []byte) (roots, blocks []cid.Cid) {
	tb.Helper()
	br, err := car.NewBlockReader(bytes.NewReader(body))
	require.NoError(tb, err)
	for {
		blk, err := br.Next()
		if err != nil {
			break
		}
		c, err := blk.Cid().Prefix().Sum(blk.RawData())
		require.NoError(tb, err)
		require.True(tb, c.Equals(blk.Cid()), "block %s does not hash to its CID", blk.Cid())
		blocks = append(blocks, blk.Cid())
	}
	return br.Roots, blocks
}

func TestGatewaySpec(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(t)
	const statusURL = "http://127.0.0.1:5080"
	cfg.StatusURL = statusURL
	g := startGateway(t, cfg)
	base := g.URL()
	u, err := url.Parse(base)
	require.NoError(t, err)
	port := u.Port()
	site := f.site.String()
	name := f.name.String()
	sub := site + ".ipfs.localhost:" + port
	index := readFile(t, f.siteDir, "index.html")
	notFound := readFile(t, f.siteDir, "404.html")
	rootBlock, err := f.store.blocks.Get(context.Background(), f.site)
	require.NoError(t, err)

	type row struct {
		name    string
		method  string
		url     string
		host    string
		headers []string
		status  int
		check   func(t *testing.T, r response)
	}
	header := func(key, want string) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			t.Helper()
			require.Equal(t, want, r.header.Get(key), key)
		}
	}
	body := func(want []byte) func(*testing.T, response) {
		return func(t *testing.T, r response) { t.Helper(); sameBytes(t, want, r.body, "body") }
	}
	contains := func(want ...string) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			t.Helper()
			for _, w := range want {
				require.Contains(t, string(r.body), w)
			}
		}
	}
	all := func(checks ...func(*testing.T, response)) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			t.Helper()
			for _, c := range checks {
				c(t, r)
			}
		}
	}
	carCount := func(root string, wantBlocks int) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			t.Helper()
			require.Contains(t, r.header.Get("Content-Type"), "application/vnd.ipld.car")
			roots, blocks := carBlocks(t, r.body)
			require.Equal(t, []cid.Cid{f.child(t, root)}, roots, "the CAR's root is the path's last segment")
			require.Len(t, blocks, wantBlocks, "blocks in the CAR")
			require.True(t, blocks[0].Equals(f.site), "the CAR starts at the root")
		}
	}

	rows := []row{
		// Path gateway and web site features.
		{name: "index.html of a directory", url: "/ipfs/" + site + "/", status: 200, check: all(
			body(index),
			header("Content-Type", "text/html"),
			header("Cache-Control", "public, max-age=29030400, immutable"),
			header("X-Ipfs-Path", "/ipfs/"+site+"/"),
			func(t *testing.T, r response) { require.NotEmpty(t, r.header.Get("Etag")) },
		)},
		{name: "directory without slash redirects", url: "/ipfs/" + site, status: 301, check: header("Location", "/ipfs/"+site+"/")},
		{name: "stylesheet type", url: "/ipfs/" + site + "/style.css", status: 200, check: header("Content-Type", "text/css; charset=utf-8")},
		{name: "image type", url: "/ipfs/" + site + "/img/island.png", status: 200, check: header("Content-Type", "image/png")},
		{name: "feed type", url: "/ipfs/" + site + "/feed.xml", status: 200, check: func(t *testing.T, r response) {
			require.Contains(t, r.header.Get("Content-Type"), "xml")
		}},
		{name: "nested page", url: "/ipfs/" + site + "/posts/first-post/", status: 200, check: body(readFile(t, f.siteDir, "posts", "first-post", "index.html"))},
		{name: "directory listing", url: "/ipfs/" + site + "/files/", headers: []string{"Accept: text/html"}, status: 200, check: all(
			header("Content-Type", "text/html"), contains("notes.txt", "data.json"),
		)},
		{name: "whole big file", url: "/ipfs/" + site + "/big.bin", status: 200, check: body(f.big)},
		{name: "range across a chunk boundary", url: "/ipfs/" + site + "/big.bin", headers: []string{"Range: bytes=1048570-1048589"}, status: 206, check: all(
			body(f.big[1048570:1048590]),
			header("Content-Range", fmt.Sprintf("bytes 1048570-1048589/%d", bigFileSize)),
		)},
		{name: "suffix range", url: "/ipfs/" + site + "/big.bin", headers: []string{"Range: bytes=-100"}, status: 206, check: body(f.big[bigFileSize-100:])},
		{name: "unsatisfiable range", url: "/ipfs/" + site + "/big.bin", headers: []string{fmt.Sprintf("Range: bytes=%d-", bigFileSize+10)}, status: 416},
		{name: "HEAD has no body", method: "HEAD", url: "/ipfs/" + site + "/style.css", status: 200, check: all(
			body(nil), header("Content-Length", fmt.Sprint(len(readFile(t, f.siteDir, "style.css")))),
		)},
		{name: "CIDv0 on the path gateway", url: "/ipfs/" + cid.NewCidV0(f.site.Hash()).String() + "/", status: 200, check: body(index)},

		// Errors.
		{name: "bad CID", url: "/ipfs/not-a-cid/", status: 400},
		{name: "bad CID as HTML page", url: "/ipfs/not-a-cid/", headers: []string{"Accept: text/html"}, status: 400, check: all(
			header("Content-Type", "text/html"), contains("<html", "400"),
		)},
		{name: "missing path in an existing DAG", url: "/ipfs/" + site + "/no/such/page", status: 404},
		{name: "unknown top-level path", url: "/favicon.ico", status: 404},
		{name: "only-if-cached hit", url: "/ipfs/" + site + "/", headers: []string{"Cache-Control: only-if-cached"}, status: 200},
		{name: "only-if-cached miss on a valid CID", url: "/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/", headers: []string{"Cache-Control: only-if-cached"}, status: 412},
		{name: "POST refused", method: "POST", url: "/ipfs/" + site + "/", status: 405, check: func(t *testing.T, r response) {
			require.Equal(t, []string{"GET", "HEAD", "OPTIONS"}, r.header.Values("Allow"))
		}},
		{name: "PUT refused", method: "PUT", url: "/ipfs/" + site + "/new.txt", status: 405},
		{name: "DELETE refused", method: "DELETE", url: "/ipfs/" + site + "/", status: 405},
		{name: "CONNECT opens a proxy tunnel", method: "CONNECT", url: "", host: sub, status: 200},
		{name: "OPTIONS allowed", method: "OPTIONS", url: "/ipfs/" + site + "/", status: 200, check: header("Access-Control-Allow-Origin", "*")},

		// Trustless responses.
		{name: "raw block by format", url: "/ipfs/" + site + "?format=raw", status: 200, check: all(
			body(rootBlock.RawData()), header("Content-Type", "application/vnd.ipld.raw"),
		)},
		{name: "raw block by Accept", url: "/ipfs/" + site, headers: []string{"Accept: application/vnd.ipld.raw"}, status: 200, check: body(rootBlock.RawData())},
		{name: "identity CID", url: "/ipfs/bafkqablimvwgy3y", status: 200, check: body([]byte("hello"))},
		{name: "CAR of the whole site", url: "/ipfs/" + site + "?format=car", status: 200, check: func(t *testing.T, r response) {
			roots, blocks := carBlocks(t, r.body)
			require.Equal(t, []cid.Cid{f.site}, roots)
			var want int
			require.NoError(t, fs.WalkDir(os.DirFS(f.siteDir), ".", func(p string, d fs.DirEntry, err error) error {
				want++ // one block per file and directory, plus the big file's leaves
				return err
			}))
			require.Len(t, blocks, want+4, "the site's blocks")
		}},
		{name: "CAR dag-scope=block", url: "/ipfs/" + site + "/big.bin?format=car&dag-scope=block", status: 200, check: carCount("big.bin", 2)},
		{name: "CAR dag-scope=entity of a file", url: "/ipfs/" + site + "/big.bin", headers: []string{"Accept: application/vnd.ipld.car; dag-scope=entity"}, status: 200, check: carCount("big.bin", 6)},
		{name: "CAR entity-bytes", url: "/ipfs/" + site + "/big.bin?format=car&dag-scope=entity&entity-bytes=1048570:1048589", status: 200, check: carCount("big.bin", 4)},
		{name: "CAR of a directory entity", url: "/ipfs/" + site + "/files?format=car&dag-scope=entity", status: 200, check: carCount("files", 2)},
		{name: "bad entity-bytes", url: "/ipfs/" + site + "/big.bin?format=car&entity-bytes=x:y", status: 400},
		{name: "unknown vnd format", url: "/ipfs/" + site + "/", headers: []string{"Accept: application/vnd.ipld.nonsense"}, status: 400},

		// Subdomain gateway.
		{name: "path to subdomain redirect", url: "/ipfs/" + site + "/about/", host: "localhost:" + port, status: 301, check: header("Location", "http://"+sub+"/about/")},
		{name: "subdomain serves the site", url: "/", host: sub, status: 200, check: body(index)},
		{name: "CIDv0 redirects to a CIDv1 base32 subdomain", url: "/ipfs/" + cid.NewCidV0(f.site.Hash()).String() + "/about/", host: "localhost:" + port, status: 301, check: header("Location", "http://"+sub+"/about/")},
		{name: "site 404.html with status 404", url: "/no/such/page", host: sub, status: 404, check: body(notFound)},
		{name: "_redirects rule", url: "/old-post", host: sub, status: 301, check: header("Location", "/posts/first-post/")},
		{name: "ipns name to subdomain", url: "/ipns/" + name + "/", host: "localhost:" + port, status: 301, check: header("Location", "http://"+name+".ipns.localhost:"+port+"/")},
		{name: "ipns subdomain", url: "/", host: name + ".ipns.localhost:" + port, status: 200, check: body(index)},
		{name: "DNSLink name inlined on the subdomain", url: "/ipns/example.org/about/", host: "localhost:" + port, status: 301, check: header("Location", "http://example-org.ipns.localhost:"+port+"/about/")},
		{name: "inlined DNSLink subdomain", url: "/", host: "example-org.ipns.localhost:" + port, status: 200, check: body(index)},
		{name: "DNSLink site 404.html", url: "/gone", host: "example-org.ipns.localhost:" + port, status: 404, check: body(notFound)},
		{name: "another subdomain host", url: "/about/", host: site + ".ipfs.gw.example.net", status: 200, check: body(readFile(t, f.siteDir, "about", "index.html"))},
		{name: "another subdomain host redirects paths", url: "/ipfs/" + site + "/", host: "gw.example.net", status: 301, check: header("Location", "http://"+site+".ipfs.gw.example.net/")},
		{name: "DNSLink gateway by Host", url: "/about/", host: "example.org:" + port, status: 200, check: body(readFile(t, f.siteDir, "about", "index.html"))},

		// IPNS.
		{name: "ipns path", url: "/ipns/" + name + "/", status: 200, check: all(
			body(index), header("Cache-Control", fmt.Sprintf("public, max-age=%d", int(ipnsTTL.Seconds()))),
		)},
		{name: "ipns sub path", url: "/ipns/" + name + "/style.css", status: 200, check: body(readFile(t, f.siteDir, "style.css"))},
		{name: "ipns record", url: "/ipns/" + name + "?format=ipns-record", status: 200, check: all(
			body(f.record), header("Content-Type", "application/vnd.ipfs.ipns-record"),
		)},
		{name: "DNSLink path", url: "/ipns/example.org/", status: 200, check: body(index)},
		{name: "unknown ipns name", url: "/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8/", status: 404},
		{name: "unknown ipns record", url: "/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8?format=ipns-record", status: 404},
		{name: "unknown DNSLink name", url: "/ipns/nothing.example/", status: 404},
		{name: "malformed ipns name", url: "/ipns/no%20such%20name/", status: 400},
		{name: "CID where a name belongs", url: "/ipns/" + site + "/", status: 400},

		// The gateway's own "/" leads to the status page on the API's
		// origin; the gateway itself serves no status at all.
		{name: "home redirects to the status page", url: "/", status: 303, check: all(
			header("Location", statusURL+"/"), header("Cache-Control", "no-store"))},
		{name: "home on localhost", url: "/", host: "localhost:" + port, status: 303, check: header("Location", statusURL+"/")},
		{name: "home on an IPv6 address", url: "/", host: "[::1]:" + port, status: 303},
		{name: "home on another subdomain host", url: "/", host: "GW.example.net:" + port, status: 303},
		{name: "no status API on the gateway", url: "/api/status", status: 404},
		{name: "no status API on localhost", url: "/api/status", host: "localhost:" + port, status: 404},
		{name: "no home for a rebound DNS name", url: "/", host: "rebound.example:" + port, status: 404},
		{name: "home is read-only", method: "POST", url: "/", status: 405},
		{name: "content open to other origins", url: "/ipfs/" + site + "/style.css", headers: []string{"Origin: https://elsewhere.example"}, status: 200, check: header("Access-Control-Allow-Origin", "*")},
		{name: "no status for a rebound DNS name", url: "/api/status", host: "rebound.example:" + port, headers: []string{"X-Forwarded-Host: localhost"}, status: 404},
		{name: "no status page for a rebound DNS name", url: "/", host: "rebound.example:" + port, status: 404},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			r := fetch(t, base, method, tc.url, tc.host, tc.headers...)
			require.Equal(t, tc.status, r.status, "%s %s (Host %s): %s", method, tc.url, tc.host, r.body)
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}

	t.Run("Etag and If-None-Match", func(t *testing.T) {
		for _, p := range []string{"/ipfs/" + site + "/", "/ipfs/" + site + "/style.css", "/ipfs/" + site + "/files/"} {
			first := fetch(t, base, "GET", p, "")
			etag := first.header.Get("Etag")
			require.NotEmpty(t, etag, p)
			again := fetch(t, base, "GET", p, "", "If-None-Match: "+etag)
			require.Equal(t, 304, again.status, p)
			require.Empty(t, again.body)
			other := fetch(t, base, "GET", p, "", `If-None-Match: "other"`)
			require.Equal(t, 200, other.status, p)
		}
	})
}

// TestGatewayCorpus serves every file of the generated corpus through the
// path gateway and the subdomain gateway, byte for byte.
func TestGatewayCorpus(t *testing.T) {
	f := newFixture(t)
	require.Equal(t, corpusSmallRoot, f.corpus.String(), "the importer must make Kubo's CIDs")
	g := startGateway(t, f.config(t))
	u, err := url.Parse(g.URL())
	require.NoError(t, err)
	dir := testutil.Corpus(t, 20, 3)
	var n int
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		require.NoError(t, err)
		rel = filepath.ToSlash(rel)
		want := readFile(t, p)
		r := fetch(t, g.URL(), "GET", "/ipfs/"+f.corpus.String()+"/"+rel, "")
		require.Equal(t, 200, r.status, rel)
		sameBytes(t, want, r.body, rel)
		r = fetch(t, g.URL(), "GET", "/"+rel, f.corpus.String()+".ipfs.localhost:"+u.Port())
		require.Equal(t, 200, r.status, rel)
		sameBytes(t, want, r.body, rel)
		n++
		return nil
	}))
	require.Greater(t, n, 20)
}
