package api_test

import (
	"context"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/api"
	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/core/coretest"
)

// serve runs an API server for c on 127.0.0.1 port 0 until the test ends.
func serve(t *testing.T, c core.API, edit func(*api.Config)) *api.Server {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.API = c
	cfg.Gatherer = prometheus.NewRegistry()
	if edit != nil {
		edit(&cfg)
	}
	s, err := api.New(context.Background(), cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, s.Close())
	})
	return s
}

var openCore = coretest.OpenCore

// TestClient runs the shared suite through the HTTP client: the daemon's
// API must give what the in-process Core gives.
func TestClient(t *testing.T) {
	coretest.Run(t, func(t *testing.T) core.API {
		c, dir := openCore(t)
		s := serve(t, c, nil)
		require.NoError(t, os.WriteFile(filepath.Join(dir, api.FileName), []byte(s.URL()+"\n"), 0o600))
		client, err := api.Dial(context.Background(), dir)
		require.NoError(t, err)
		return client
	})
}

func TestDial(t *testing.T) {
	c, dir := openCore(t)
	_, err := api.Dial(context.Background(), dir)
	require.ErrorIs(t, err, api.ErrNoDaemon, "no api file")

	s := serve(t, c, nil)
	write := func(url string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, api.FileName), []byte(url+"\n"), 0o600))
	}
	write(s.URL())
	client, err := api.Dial(context.Background(), dir)
	require.NoError(t, err)
	require.Equal(t, s.URL(), client.URL())

	// A daemon killed with SIGKILL leaves its api file behind.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	write(dead.URL)
	_, err = api.Dial(context.Background(), dir)
	require.ErrorIs(t, err, api.ErrNoDaemon, "nothing answers")

	// Another repo's daemon took the port since: it must not get our commands.
	other, _ := openCore(t)
	write(serve(t, other, nil).URL())
	_, err = api.Dial(context.Background(), dir)
	require.ErrorIs(t, err, api.ErrNoDaemon, "a stranger answers")

	// Something that is no island answers.
	stranger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"id":"x"}`) }))
	defer stranger.Close()
	write(stranger.URL)
	_, err = api.Dial(context.Background(), dir)
	require.ErrorIs(t, err, api.ErrNoDaemon)

	write("ftp://nope")
	_, err = api.Dial(context.Background(), dir)
	require.ErrorContains(t, err, "not an http:// URL")
}

func TestToken(t *testing.T) {
	c, dir := openCore(t)
	s := serve(t, c, func(cfg *api.Config) { cfg.Token = "s3cret" })
	require.NoError(t, os.WriteFile(filepath.Join(dir, api.FileName), []byte(s.URL()), 0o600))

	_, err := api.NewClient(s.URL(), "").ID(context.Background())
	require.Equal(t, core.CodeUnauthorized, core.ErrorCode(err), "%v", err)
	_, err = api.NewClient(s.URL(), "wrong").ID(context.Background())
	require.Equal(t, core.CodeUnauthorized, core.ErrorCode(err))
	_, err = api.Dial(context.Background(), dir)
	require.ErrorContains(t, err, "refused this repo's API token")

	tokenFile := filepath.Join(dir, api.TokenFile)
	require.NoError(t, os.WriteFile(tokenFile, []byte("s3cret\n"), 0o644))
	_, err = api.Dial(context.Background(), dir)
	require.ErrorContains(t, err, "open to group or others", "a token others can read is refused")
	require.NoError(t, os.Chmod(tokenFile, 0o600))
	client, err := api.Dial(context.Background(), dir)
	require.NoError(t, err)
	id, err := client.ID(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, id.ID)
}

func TestNewRefusesOpenAPIWithoutToken(t *testing.T) {
	c, _ := openCore(t)
	cfg := api.DefaultConfig()
	cfg.ListenAddr = "0.0.0.0:0"
	cfg.API = c
	_, err := api.New(context.Background(), cfg)
	require.ErrorContains(t, err, "not a loopback address")
	cfg.Token = "t"
	s, err := api.New(context.Background(), cfg)
	require.NoError(t, err, "beyond loopback with a token")
	require.NoError(t, s.Close())
}

func TestGuard(t *testing.T) {
	c, _ := openCore(t)
	s := serve(t, c, func(cfg *api.Config) { cfg.Profiling = true })
	host := strings.TrimPrefix(s.URL(), "http://")
	tests := []struct {
		name   string
		method string
		path   string
		host   string
		header map[string]string
		ctype  string
		body   string
		want   int
	}{
		{"read", "GET", "/api/v1/id", host, nil, "", "", 200},
		{"localhost name", "GET", "/api/v1/id", "localhost:5080", nil, "", "", 200},
		{"change by POST with JSON", "POST", "/api/v1/key/gen", host, nil, "application/json", `{"name":"a"}`, 200},
		{"change by GET", "GET", "/api/v1/key/gen", host, nil, "", "", 405},
		{"rebound DNS name", "GET", "/api/v1/id", "evil.example:5080", nil, "", "", 403},
		{"cross-origin page", "POST", "/api/v1/key/gen", host, map[string]string{"Origin": "http://evil.example"}, "application/json", `{"name":"b"}`, 403},
		{"same origin", "POST", "/api/v1/key/gen", host, map[string]string{"Origin": "http://" + host}, "application/json", `{"name":"c"}`, 200},
		{"cross-site fetch", "GET", "/api/v1/id", host, map[string]string{"Sec-Fetch-Site": "cross-site"}, "", "", 403},
		{"form post", "POST", "/api/v1/key/gen", host, nil, "application/x-www-form-urlencoded", "name=d", 400},
		{"text post", "POST", "/api/v1/key/gen", host, nil, "text/plain", `{"name":"e"}`, 400},
		{"form upload", "POST", "/api/v1/add", host, nil, "multipart/form-data; boundary=x", "", 400},
		{"unknown field", "POST", "/api/v1/key/gen", host, nil, "application/json", `{"name":"f","x":1}`, 400},
		{"two values", "POST", "/api/v1/key/gen", host, nil, "application/json", `{"name":"g"}{}`, 400},
		{"too big", "POST", "/api/v1/key/gen", host, nil, "application/json", `{"name":"` + strings.Repeat("h", 2<<20) + `"}`, 400},
		{"unknown operation", "POST", "/api/v1/frobnicate", host, nil, "application/json", `{}`, 404},
		{"the spec", "GET", "/api/v1/openapi.yaml", host, nil, "", "", 200},
		{"metrics", "GET", "/debug/metrics/prometheus", host, nil, "", "", 200},
		{"metrics from a page", "GET", "/debug/metrics/prometheus", host, map[string]string{"Origin": "http://evil.example"}, "", "", 403},
		{"profiles", "GET", "/debug/pprof/heap?debug=1", host, nil, "", "", 200},
		{"profiles from a page", "GET", "/debug/pprof/heap", host, map[string]string{"Sec-Fetch-Site": "cross-site"}, "", "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, s.URL()+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			req.Host = tt.host
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, tt.want, resp.StatusCode, string(body))
			if tt.want >= 400 && tt.path != "/api/v1/key/gen" || tt.want == 403 {
				require.Contains(t, string(body), `"error"`)
			}
		})
	}
}

// TestProfilingOnlyWhenAsked: the daemon serves Go's profiles only with
// --pprof (api.Config.Profiling), and with --api-auth only to the token.
func TestProfilingOnlyWhenAsked(t *testing.T) {
	c, _ := openCore(t)
	get := func(s *api.Server, token string) int {
		t.Helper()
		req, err := http.NewRequest("GET", s.URL()+"/debug/pprof/heap?debug=1", nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusNotFound, get(serve(t, c, nil), ""))
	s := serve(t, c, func(cfg *api.Config) { cfg.Profiling, cfg.Token = true, "secret" })
	require.Equal(t, http.StatusUnauthorized, get(s, ""))
	require.Equal(t, http.StatusOK, get(s, "secret"))
}

// blocking is an API whose Ls waits until released: it fills the server's
// request slots.
type blocking struct {
	core.API
	started chan struct{}
	release chan struct{}
}

func (b blocking) Ls(context.Context, core.PathRequest) ([]core.LsEntry, error) {
	b.started <- struct{}{}
	<-b.release
	return nil, nil
}

func TestRequestLimit(t *testing.T) {
	b := blocking{started: make(chan struct{}, 1), release: make(chan struct{})}
	s := serve(t, b, func(cfg *api.Config) { cfg.MaxRequests = 1 })
	client := api.NewClient(s.URL(), "")
	first := make(chan error, 1)
	go func() {
		_, err := client.Ls(context.Background(), core.PathRequest{Path: "x"})
		first <- err
	}()
	<-b.started
	_, err := client.Ls(context.Background(), core.PathRequest{Path: "x"})
	require.Equal(t, core.CodeUnavailable, core.ErrorCode(err), "%v", err)
	require.ErrorContains(t, err, "busy")
	close(b.release)
	require.NoError(t, <-first)
}

// failing is an API whose Cat fails after its first bytes.
type failing struct{ core.API }

type brokenReader struct{ sent bool }

func (r *brokenReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, "first bytes"), nil
	}
	return 0, core.Errorf(core.CodeNotFound, "cat: block bafy… is gone")
}

func (failing) Cat(context.Context, core.PathRequest) (io.ReadCloser, error) {
	return io.NopCloser(&brokenReader{}), nil
}

func TestStreamErrorArrivesInTrailer(t *testing.T) {
	s := serve(t, failing{}, nil)
	rc, err := api.NewClient(s.URL(), "").Cat(context.Background(), core.PathRequest{Path: "x"})
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.Equal(t, "first bytes", string(b))
	require.Equal(t, core.CodeNotFound, core.ErrorCode(err), "%v", err)
	require.ErrorContains(t, err, "is gone")
}

func (failing) Get(context.Context, core.PathRequest) (core.Tree, error) {
	return core.Tree{CID: "bafyfile", Node: files.NewReaderFile(&brokenReader{})}, nil
}

// TestGetAnswersAFileAsBytes checks the two forms of a get's answer: a
// file as its bytes when Accept lists application/octet-stream (the
// client's), multipart/mixed otherwise and for a directory; both read back
// the same, and a failure after the first byte arrives in either.
func TestGetAnswersAFileAsBytes(t *testing.T) {
	data := strings.Repeat("island ", 200_000)
	for _, tc := range []struct {
		name   string
		node   func() files.Node
		accept string
		want   string
	}{
		{"file, bytes accepted", func() files.Node { return files.NewBytesFile([]byte(data)) }, "application/octet-stream, multipart/mixed", "application/octet-stream"},
		{"file, no Accept", func() files.Node { return files.NewBytesFile([]byte(data)) }, "", "multipart/mixed"},
		{"file, multipart only", func() files.Node { return files.NewBytesFile([]byte(data)) }, "multipart/mixed", "multipart/mixed"},
		{"directory, bytes accepted", func() files.Node {
			return files.NewMapDirectory(map[string]files.Node{"a": files.NewBytesFile([]byte(data))})
		}, "application/octet-stream", "multipart/mixed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serve(t, tree{node: tc.node}, nil)
			req, err := http.NewRequest(http.MethodPost, s.URL()+api.Prefix+"/get", strings.NewReader(`{"path":"x"}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			require.NoError(t, err)
			require.Equal(t, tc.want, mt)

			// The client reads either form back as the tree.
			got, err := api.NewClient(s.URL(), "").Get(context.Background(), core.PathRequest{Path: "x"})
			require.NoError(t, err)
			defer got.Node.Close()
			require.Equal(t, "bafytree", got.CID)
			out := filepath.Join(t.TempDir(), "out")
			require.NoError(t, files.WriteTo(got.Node, out))
			if _, dir := tc.node().(files.Directory); dir {
				out = filepath.Join(out, "a")
			}
			b, err := os.ReadFile(out)
			require.NoError(t, err)
			require.Equal(t, data, string(b))
		})
	}

	t.Run("a failure after the first byte", func(t *testing.T) {
		s := serve(t, failing{}, nil)
		got, err := api.NewClient(s.URL(), "").Get(context.Background(), core.PathRequest{Path: "x"})
		require.NoError(t, err)
		defer got.Node.Close()
		b, err := io.ReadAll(got.Node.(files.File))
		require.Equal(t, "first bytes", string(b))
		require.Equal(t, core.CodeNotFound, core.ErrorCode(err), "%v", err)
		require.ErrorContains(t, err, "is gone")
	})
}

// tree answers every get with a new tree from node.
type tree struct {
	core.API
	node func() files.Node
}

func (tr tree) Get(context.Context, core.PathRequest) (core.Tree, error) {
	return core.Tree{CID: "bafytree", Node: tr.node()}, nil
}
