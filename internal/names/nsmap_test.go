package names_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/names/namestest"
)

// A request's IPFS_NS_MAP (WithNSMap) goes before the configured overrides,
// only for resolutions made with its context.
func TestWithNSMap(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	configured, other, fromRequest := namestest.IPFSPath(t, "configured"), namestest.IPFSPath(t, "other"), namestest.IPFSPath(t, "request")
	s := namestest.System(t, r, nil, func(c *names.Config) {
		c.DNSLinkOverrides = map[string]string{"conf.example": configured.String(), "both.example": other.String()}
	})
	key := namestest.Key(t)
	published := namestest.IPFSPath(t, "published")
	_, err := s.Publish(ctx, key, published)
	require.NoError(t, err)
	req := names.WithNSMap(ctx, map[string]string{
		"Both.Example.": fromRequest.String(),
		"req.example":   "/ipns/" + namestest.NameOf(t, key).String(),
		"bad.example":   "notapath",
	})

	tests := []struct {
		name    string
		ctx     context.Context
		input   string
		want    string
		wantErr string
	}{
		{"request override wins", req, "both.example", fromRequest.String(), ""},
		{"configured without request entry", req, "conf.example", configured.String(), ""},
		{"request override to a name", req, "/ipns/req.example/sub", published.String() + "/sub", ""},
		{"bad request value names its domain", req, "bad.example", "", `DNSLink override for bad.example: "notapath" is not a content path`},
		{"without the context: configured", ctx, "both.example", other.String(), ""},
		{"without the context: none", ctx, "req.example", "", "cannot look up the DNSLink of req.example"},
		{"without the context: bad entry unseen", ctx, "bad.example", "", "cannot look up the DNSLink of bad.example"},
		{"empty map: configured", names.WithNSMap(req, nil), "both.example", other.String(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Resolve(tt.ctx, tt.input)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, res.Path.String())
			// The gateway's name system honours the context too.
			nres, err := s.NameSystem().Resolve(tt.ctx, namestest.Path(t, "/ipns/"+strings.TrimPrefix(tt.input, "/ipns/")))
			require.NoError(t, err)
			require.Equal(t, tt.want, nres.Path.String())
		})
	}

	// The map was copied: changing it later changes nothing.
	m := map[string]string{"late.example": fromRequest.String()}
	late := names.WithNSMap(ctx, m)
	m["late.example"] = "notapath"
	res, err := s.Resolve(late, "late.example")
	require.NoError(t, err)
	require.Equal(t, fromRequest.String(), res.Path.String())
}

// Requests with different maps for one domain, at once: each sees its own,
// none sees another's (nothing is cached across them).
func TestWithNSMapIsolatesRequests(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	s := namestest.System(t, r, nil, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			want := namestest.IPFSPath(t, fmt.Sprint("site ", i%4)).String()
			rctx := names.WithNSMap(ctx, map[string]string{"shared.example": want})
			res, err := s.Resolve(rctx, "shared.example")
			if err == nil && res.Path.String() != want {
				err = fmt.Errorf("request %d got %s, want %s", i, res.Path, want)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	_, err := s.Resolve(ctx, "shared.example")
	require.ErrorIs(t, err, names.ErrDNSDisabled)
}
