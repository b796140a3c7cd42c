package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// echoRunner prints its arguments and exits with the number of arguments.
func echoRunner(ctx context.Context, req RunRequest, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "args=%s cwd=%s tty=%v\n", strings.Join(req.Args, ","), req.Cwd, req.TTY)
	fmt.Fprintln(stderr, "progress")
	return len(req.Args)
}

// startServer runs a real server on 127.0.0.1 port 0 and writes its URL into a repo dir.
func startServer(t *testing.T, run Runner) (*Server, string) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.Run = run
	cfg.Gatherer = prometheus.NewRegistry()
	s, err := New(context.Background(), cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, s.Close())
	})
	repo := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(repo, FileName), []byte(s.URL()+"\n"), 0o600))
	return s, repo
}

func TestRunThroughClient(t *testing.T) {
	_, repo := startServer(t, echoRunner)
	c, err := Dial(context.Background(), repo)
	require.NoError(t, err)
	var out, errb bytes.Buffer
	code, err := c.Run(context.Background(), RunRequest{Args: []string{"add", "x"}, Cwd: "/tmp", TTY: true}, &out, &errb)
	require.NoError(t, err)
	require.Equal(t, 2, code)
	require.Equal(t, "args=add,x cwd=/tmp tty=true\n", out.String())
	require.Equal(t, "progress\n", errb.String())
}

func TestDialWithoutDaemon(t *testing.T) {
	_, err := Dial(context.Background(), t.TempDir())
	require.ErrorIs(t, err, ErrNoDaemon)

	// A daemon killed with SIGKILL leaves its api file behind.
	stale := t.TempDir()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	require.NoError(t, os.WriteFile(filepath.Join(stale, FileName), []byte(url), 0o600))
	_, err = Dial(context.Background(), stale)
	require.ErrorIs(t, err, ErrNoDaemon)
}

func TestNewRefusesNonLoopback(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ListenAddr = "0.0.0.0:0"
	cfg.Run = echoRunner
	_, err := New(context.Background(), cfg)
	require.ErrorContains(t, err, "not a loopback address")
}

func TestGuard(t *testing.T) {
	s, _ := startServer(t, echoRunner)
	host := strings.TrimPrefix(s.URL(), "http://")
	tests := []struct {
		name   string
		method string
		path   string
		host   string
		header map[string]string
		ctype  string
		want   int
	}{
		{"command by POST", "POST", "/api/v0/run", host, nil, "application/json", 200},
		{"localhost name", "POST", "/api/v0/run", "localhost:5080", nil, "application/json", 200},
		{"command by GET", "GET", "/api/v0/run", host, nil, "", 405},
		{"rebound DNS name", "POST", "/api/v0/run", "evil.example:5080", nil, "application/json", 403},
		{"cross-origin page", "POST", "/api/v0/run", host, map[string]string{"Origin": "http://evil.example"}, "application/json", 403},
		{"same origin", "POST", "/api/v0/run", host, map[string]string{"Origin": "http://" + host}, "application/json", 200},
		{"cross-site fetch", "POST", "/api/v0/run", host, map[string]string{"Sec-Fetch-Site": "cross-site"}, "application/json", 403},
		{"form post", "POST", "/api/v0/run", host, nil, "text/plain", 415},
		{"metrics", "GET", "/debug/metrics/prometheus", host, nil, "", 200},
		{"metrics by POST", "POST", "/debug/metrics/prometheus", host, nil, "", 405},
		{"metrics from a page", "GET", "/debug/metrics/prometheus", host, map[string]string{"Origin": "http://evil.example"}, "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, s.URL()+tt.path, strings.NewReader(`{"args":["id"]}`))
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
		})
	}
}

func TestBadRequests(t *testing.T) {
	s, _ := startServer(t, echoRunner)
	for _, body := range []string{`{`, `{"args":"x"}`, `{"unknown":1}`, strings.Repeat(" ", maxRequestBody+1) + "{}"} {
		resp, err := http.Post(s.URL()+"/api/v0/run", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, body[:min(len(body), 20)])
	}
}

func TestCommandLimit(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	block := func(ctx context.Context, req RunRequest, stdout, stderr io.Writer) int {
		started <- struct{}{}
		<-release
		return 0
	}
	cfg := DefaultConfig()
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.Run = block
	cfg.MaxCommands = 1
	s, err := New(context.Background(), cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	defer s.Close()

	first := make(chan int, 1)
	go func() {
		resp, err := http.Post(s.URL()+"/api/v0/run", "application/json", strings.NewReader(`{"args":[]}`))
		if err != nil {
			first <- 0
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-started
	resp, err := http.Post(s.URL()+"/api/v0/run", "application/json", strings.NewReader(`{"args":[]}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	close(release)
	require.Equal(t, http.StatusOK, <-first)
}

func TestFramesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	fw := &frameWriter{w: &buf}
	big := bytes.Repeat([]byte("x"), maxFrame+10)
	_, err := stream{fw, frameStdout}.Write(big)
	require.NoError(t, err)
	_, err = stream{fw, frameStderr}.Write([]byte("err"))
	require.NoError(t, err)
	require.NoError(t, fw.exit(-3))
	var out, errb bytes.Buffer
	code, err := readFrames(&buf, &out, &errb)
	require.NoError(t, err)
	require.Equal(t, -3, code)
	require.Equal(t, big, out.Bytes())
	require.Equal(t, "err", errb.String())

	_, err = readFrames(strings.NewReader("\x01\x00\x00\x00\x05ab"), io.Discard, io.Discard)
	require.ErrorIs(t, err, errNoExit)
}

func FuzzReadFrames(f *testing.F) {
	f.Add([]byte("\x01\x00\x00\x00\x02hi\x03\x00\x00\x00\x04\x00\x00\x00\x01"))
	f.Add([]byte("\x09\x00\x00\x00\x00"))
	f.Add([]byte("\x01\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = readFrames(bytes.NewReader(data), io.Discard, io.Discard)
	})
}
