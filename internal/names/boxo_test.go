package names_test

import (
	"context"
	"testing"
	"time"

	"github.com/ipfs/boxo/namesys"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/names/namestest"
)

// IPFS_NS_MAP is the CLI's to read (it reports a bad value and ignores
// it); a malformed one must not stop a System from being built or used.
func TestNewIgnoresIPFSNSMap(t *testing.T) {
	for _, v := range []string{"example.com", "example.com:notapath", "a.com:/ipfs/bafkqaaa"} {
		t.Run(v, func(t *testing.T) {
			t.Setenv("IPFS_NS_MAP", v)
			ctx := context.Background()
			r, _ := namestest.Routing(t)
			s := namestest.System(t, r, nil, nil)
			key := namestest.Key(t)
			value := namestest.IPFSPath(t, "v")
			_, err := s.Publish(ctx, key, value)
			require.NoError(t, err)
			res, err := s.Resolve(ctx, namestest.NameOf(t, key).String())
			require.NoError(t, err)
			require.Equal(t, value.String(), res.Path.String())

			// Only Config.DNSLinkOverrides override DNSLink.
			_, err = s.NameSystem().Resolve(ctx, namestest.Path(t, "/ipns/a.com"))
			require.ErrorIs(t, err, names.ErrDNSDisabled)
		})
	}
}

// Publishing through the boxo interface is a System publish: the System's
// TTL unless told otherwise, a sequence above everything known, and the
// record resolves at once.
func TestNameSystemPublish(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	s := namestest.System(t, r, nil, nil)
	ns := s.NameSystem()
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)

	require.NoError(t, ns.Publish(ctx, key, namestest.IPFSPath(t, "one")))
	res, err := s.Resolve(ctx, name.String())
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.Seq)
	require.Equal(t, namestest.IPFSPath(t, "one").String(), res.Path.String())
	rec, err := names.CheckRecord(name, res.Record)
	require.NoError(t, err)
	require.Equal(t, names.DefaultConfig().TTL, rec.TTL)

	eol := time.Now().Add(time.Hour)
	require.NoError(t, ns.Publish(ctx, key, namestest.IPFSPath(t, "two"),
		namesys.PublishWithTTL(time.Minute), namesys.PublishWithEOL(eol), namesys.PublishWithSequence(7)))
	nres, err := ns.Resolve(ctx, name.AsPath())
	require.NoError(t, err)
	require.Equal(t, namestest.IPFSPath(t, "two").String(), nres.Path.String())
	res, err = s.Resolve(ctx, name.String())
	require.NoError(t, err)
	require.Equal(t, uint64(7), res.Seq)
	require.WithinDuration(t, eol, res.EOL, time.Second)

	err = ns.Publish(ctx, key, namestest.IPFSPath(t, "three"), namesys.PublishWithSequence(7))
	require.ErrorIs(t, err, namesys.ErrInvalidSequence)
}

// The value store answers /ipns/ keys with the record the System resolves
// with, also when its routing holds none, and passes other keys through.
func TestValueStore(t *testing.T) {
	ctx := context.Background()
	r, rds := namestest.Routing(t)
	s := namestest.System(t, r, nil, nil)
	vs := s.ValueStore()
	key := namestest.Key(t)
	name := namestest.NameOf(t, key)

	_, err := vs.GetValue(ctx, string(name.RoutingKey()))
	require.ErrorIs(t, err, routing.ErrNotFound)

	rec, err := s.Publish(ctx, key, namestest.IPFSPath(t, "v"))
	require.NoError(t, err)
	namestest.ClearRouting(t, rds)
	got, err := vs.GetValue(ctx, string(name.RoutingKey()))
	require.NoError(t, err)
	require.Equal(t, rec.Raw, got)
	ch, err := vs.SearchValue(ctx, string(name.RoutingKey()))
	require.NoError(t, err)
	require.Equal(t, rec.Raw, <-ch)

	// A record put through it is checked and kept like PutRecord's.
	other := namestest.System(t, r, nil, nil)
	require.Error(t, other.ValueStore().PutValue(ctx, string(name.RoutingKey()), []byte("junk")))
	require.NoError(t, other.ValueStore().PutValue(ctx, string(name.RoutingKey()), rec.Raw))
	raw, err := other.Record(ctx, name.String())
	require.NoError(t, err)
	require.Equal(t, rec.Raw, raw)

	_, err = vs.GetValue(ctx, "/pk/"+string(name.Peer()))
	require.ErrorIs(t, err, routing.ErrNotFound)
}

// The gateway sees a new version the moment it is published, even right
// after resolving (and caching) the one before.
func TestNameSystemSeesAPublishAtOnce(t *testing.T) {
	ctx := context.Background()
	r, _ := namestest.Routing(t)
	s := namestest.System(t, r, nil, nil)
	gw := s.NameSystem()
	key := namestest.Key(t)
	p := namestest.Path(t, "/ipns/"+namestest.NameOf(t, key).String()+"/sub")

	_, err := gw.Resolve(ctx, p)
	require.ErrorIs(t, err, namesys.ErrResolveFailed, "nothing published yet: the gateway answers 404")

	for _, v := range []string{"one", "two"} {
		_, err := s.Publish(ctx, key, namestest.IPFSPath(t, v))
		require.NoError(t, err)
		res, err := gw.Resolve(ctx, p)
		require.NoError(t, err)
		require.Equal(t, "/ipfs/"+namestest.CID(t, v).String()+"/sub", res.Path.String())
		ar := <-gw.ResolveAsync(ctx, p)
		require.NoError(t, ar.Err)
		require.Equal(t, res.Path.String(), ar.Path.String())
	}

	imm := namestest.IPFSPath(t, "x")
	res, err := gw.Resolve(ctx, imm)
	require.NoError(t, err)
	require.Equal(t, imm.String(), res.Path.String())
}
