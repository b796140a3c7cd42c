package httpserver

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func hello(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") }

func listen(t *testing.T, h http.HandlerFunc) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Name, cfg.Addr, cfg.Handler = "test", "127.0.0.1:0", h
	s, err := Listen(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func get(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestListenFailsAtOnce(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	for _, addr := range []string{busy.Addr().String(), "127.0.0.1", "nohost:x"} {
		cfg := DefaultConfig()
		cfg.Name, cfg.Addr, cfg.Handler = "gateway", addr, http.HandlerFunc(hello)
		_, err := Listen(context.Background(), cfg)
		require.ErrorContains(t, err, "gateway: ", addr)
	}
}

func TestServeUntilCanceled(t *testing.T) {
	s := listen(t, hello)
	require.Regexp(t, `^http://127\.0\.0\.1:\d+$`, s.URL())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	require.Equal(t, "hello", get(t, s.URL()))
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
}

func TestShutdownCutsSlowResponses(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	cfg := DefaultConfig()
	cfg.Name, cfg.Addr, cfg.ShutdownGrace = "test", "127.0.0.1:0", 50*time.Millisecond
	cfg.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	s, err := Listen(context.Background(), cfg)
	require.NoError(t, err)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	go func() {
		if resp, err := http.Get(s.URL()); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its grace period")
	}
}

func TestServeReportsFailure(t *testing.T) {
	s := listen(t, hello)
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background()) }()
	require.Equal(t, "hello", get(t, s.URL()))
	// The listener dying under the server (not a Close) is a failure the
	// daemon must stop for.
	require.NoError(t, s.ln.Close())
	err := <-done
	require.ErrorContains(t, err, "test: serve "+s.URL())
}

func TestCloseWithoutServe(t *testing.T) {
	s := listen(t, hello)
	require.NoError(t, s.Close())
	require.NoError(t, s.Serve(context.Background()), "serving a closed server ends at once")
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "http://127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 1}, "http://127.0.0.1:1"},
		{&net.TCPAddr{Port: 2}, "http://127.0.0.1:2"},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 3}, "http://[::1]:3"},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 4}, "http://192.0.2.1:4"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, BaseURL(tt.addr))
	}
}

// A given listener is served as it is, and closed with the server.
func TestServeGivenListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg := DefaultConfig()
	cfg.Name, cfg.Addr, cfg.Listener, cfg.Handler = "test", "not an address", ln, http.HandlerFunc(hello)
	s, err := Listen(context.Background(), cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	require.Equal(t, "hello", get(t, "http://"+ln.Addr().String()+"/"))
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, s.Close())
	_, err = ln.Accept()
	require.ErrorIs(t, err, net.ErrClosed)
}
