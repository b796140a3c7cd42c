package testnet

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/islandsite/island/internal/repo"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/stretchr/testify/require"
)

// Store is what a node keeps its state in: a real island repo (flatfs for
// big blocks, pebble for small blocks and metadata), as the daemon uses, or
// for benchmarks a memory store.
type Store struct {
	Dir        string     // empty for a memory store
	Repo       *repo.Repo // nil for a memory store
	Datastore  datastore.Batching
	Blockstore blockstore.Blockstore
	// Identity is the repo's own key (a fresh one for a memory store).
	Identity crypto.PrivKey

	closeOnce sync.Once
	closeErr  error
	closeFn   func() error
}

// OpenStore opens (or creates) the repo in dir and closes it in tb.Cleanup
// unless the test closed it first.
func OpenStore(tb testing.TB, dir string) *Store {
	tb.Helper()
	r, err := repo.Open(context.Background(), repo.Config{Path: dir})
	require.NoError(tb, err)
	s := &Store{Dir: dir, Repo: r, Datastore: r.Datastore(), Blockstore: r.Blockstore(), Identity: r.Identity(), closeFn: r.Close}
	tb.Cleanup(func() { require.NoError(tb, s.Close()) })
	return s
}

// NewStore opens a fresh repo in a temporary directory.
func NewStore(tb testing.TB) *Store {
	tb.Helper()
	return OpenStore(tb, tb.TempDir())
}

// NewMemStore is a store in memory. Benchmarks use it to measure the node
// without the disk; tests use the on-disk stores.
func NewMemStore(tb testing.TB) *Store {
	tb.Helper()
	ds := dssync.MutexWrap(datastore.NewMapDatastore())
	s := &Store{Datastore: ds, Blockstore: blockstore.NewIdStore(blockstore.NewBlockstore(ds)), Identity: NewKey(tb), closeFn: ds.Close}
	tb.Cleanup(func() { require.NoError(tb, s.Close()) })
	return s
}

// Close closes the store; it may be called more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.closeFn() })
	return s.closeErr
}

// NewKey makes a node identity.
func NewKey(tb testing.TB) crypto.PrivKey {
	tb.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	require.NoError(tb, err)
	return k
}
