package node

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/stretchr/testify/require"
)

const testRoot = "bafybeigb7o5fsklnc4gjte7ekivky3weta2qc3ebtykj3igcx7eanvkpvi"

func carRequest(t testing.TB, method, target, accept string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, "http://peer"+target, nil)
	require.NoError(t, err)
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	return r
}

// The CAR requests served without boxo are exactly the whole-DAG ones;
// everything else is left to boxo's handler.
func TestParseCARRequest(t *testing.T) {
	tests := []struct {
		name, method, target, accept string
		ok, dups                     bool
	}{
		{"island's request", "GET", "/ipfs/" + testRoot + "?format=car&dag-scope=all", carType + "; version=1; order=dfs; dups=y", true, true},
		{"format only", "GET", "/ipfs/" + testRoot + "?format=car", "", true, false},
		{"accept only", "GET", "/ipfs/" + testRoot, carType, true, false},
		{"head", "HEAD", "/ipfs/" + testRoot + "?format=car", "", true, false},
		{"dups n", "GET", "/ipfs/" + testRoot, carType + "; dups=n", true, false},
		{"order unk", "GET", "/ipfs/" + testRoot, carType + "; order=unk", true, false},
		{"any type with format", "GET", "/ipfs/" + testRoot + "?format=car", "*/*", true, false},
		{"raw block", "GET", "/ipfs/" + testRoot + "?format=raw", "", false, false},
		{"deserialized", "GET", "/ipfs/" + testRoot, "", false, false},
		{"sub path", "GET", "/ipfs/" + testRoot + "/a?format=car", "", false, false},
		{"entity bytes", "GET", "/ipfs/" + testRoot + "?format=car&entity-bytes=0:10", "", false, false},
		{"scope block", "GET", "/ipfs/" + testRoot + "?format=car&dag-scope=block", "", false, false},
		{"car version 2", "GET", "/ipfs/" + testRoot, carType + "; version=2", false, false},
		{"several types", "GET", "/ipfs/" + testRoot, carType + ", " + "application/vnd.ipld.raw", false, false},
		{"post", "POST", "/ipfs/" + testRoot + "?format=car", "", false, false},
		{"ipns", "GET", "/ipns/" + testRoot + "?format=car", "", false, false},
		{"not a CID", "GET", "/ipfs/nope?format=car", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, dups, ok := parseCARRequest(carRequest(t, tt.method, tt.target, tt.accept))
			require.Equal(t, tt.ok, ok)
			if ok {
				require.Equal(t, testRoot, root.String())
				require.Equal(t, tt.dups, dups)
			}
		})
	}
}

func FuzzParseCARRequest(f *testing.F) {
	f.Add("/ipfs/"+testRoot, "format=car&dag-scope=all", carType+"; version=1; order=dfs; dups=y")
	f.Add("/ipfs/"+testRoot, "format=raw", "")
	f.Add("/ipfs/x/y", "", "*/*")
	f.Fuzz(func(t *testing.T, p, query, accept string) {
		r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: p, RawQuery: query}, Header: http.Header{}}
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		root, _, ok := parseCARRequest(r)
		if !ok {
			return
		}
		rest, found := strings.CutPrefix(p, "/ipfs/")
		if c, err := cid.Decode(rest); !found || err != nil || !c.Equals(root) {
			t.Fatalf("accepted %q as a CAR of %s", p, root)
		}
	})
}

func TestParseWellKnown(t *testing.T) {
	tests := []struct {
		name, body, want, err string
	}{
		{"at root", `{"/ipfs/gateway":{"path":"/"}}`, "/", ""},
		{"nested", `{"/ipfs/gateway":{"path":"/gw"},"/other":{"path":"/o/"}}`, "/gw/", ""},
		{"missing", `{"/other":{"path":"/o/"}}`, "", "no /ipfs/gateway"},
		{"relative", `{"/ipfs/gateway":{"path":"gw/"}}`, "", "want an absolute path"},
		{"with query", `{"/ipfs/gateway":{"path":"/gw?x=1"}}`, "", "want an absolute path"},
		{"not json", `<html>`, "", "invalid character"},
		{"too large", `{"x":"` + strings.Repeat("a", wellKnownLimit) + `"}`, "", "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta, err := parseWellKnown([]byte(tt.body))
			var got string
			if err == nil {
				got, err = gatewayMount(meta)
			}
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func FuzzParseWellKnown(f *testing.F) {
	f.Add([]byte(`{"/ipfs/gateway":{"path":"/"}}`))
	f.Add([]byte(`{"/ipfs/gateway":{"path":"/a b/"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		meta, err := parseWellKnown(body)
		if err != nil {
			return
		}
		mount, err := gatewayMount(meta)
		if err != nil {
			return
		}
		if !strings.HasPrefix(mount, "/") || !strings.HasSuffix(mount, "/") {
			t.Fatalf("mount %q from %q", mount, body)
		}
		if _, err := url.Parse(mount + "ipfs/" + testRoot); err != nil {
			t.Fatalf("mount %q makes no URL: %v", mount, err)
		}
	})
}
