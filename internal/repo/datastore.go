package repo

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	"github.com/ipfs/boxo/blockstore"
	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/mount"
	"github.com/ipfs/go-datastore/namespace"
	flatfs "github.com/ipfs/go-ds-flatfs"
	pebbleds "github.com/ipfs/go-ds-pebble"
)

// stores are the datastores of an open repo.
type stores struct {
	// root is what the blockstore, the pinner and later namesys and the
	// provider use; keys under /blocks are blocks.
	root ds.Batching
	// blocks is the store under /blocks, keyed like the blockstore's
	// datastore keys (dshelp.MultihashToDsKey): ImportCAR stages into a
	// batch of it.
	blocks ds.Batching
	close  func() error
}

// metadataCache bounds pebble's block cache. Metadata (pins, IPNS records,
// provider state) is small; the default 8 MiB cache would do, but this is
// memory the node holds for its whole life, so say it explicitly.
const metadataCache = 8 << 20

func openPebble(dir string) (*pebbleds.Datastore, error) {
	// Writes are not fsynced one by one (pebble.NoSync, go-ds-pebble's
	// default): Sync fsyncs the write-ahead log, and everything that
	// acknowledges a write calls it first. Fsyncing each small Put of the
	// DHT provider's keystore would cost a disk flush per CID.
	d, err := pebbleds.NewDatastore(dir, pebbleds.WithCacheSize(metadataCache),
		pebbleds.WithPebbleOpts(&pebble.Options{}))
	if err != nil {
		return nil, fmt.Errorf("repo: open datastore %s: %w", dir, err)
	}
	return d, nil
}

func openStores(repoDir, kind string) (*stores, error) {
	meta, err := openPebble(filepath.Join(repoDir, "datastore"))
	if err != nil {
		return nil, err
	}
	switch kind {
	case KindPebble:
		return &stores{
			root:   meta,
			blocks: namespace.Wrap(meta, blockstore.BlockPrefix),
			close:  meta.Close,
		}, nil
	case KindFlatfs:
		dir := filepath.Join(repoDir, "blocks")
		// sync=true: every block file is fsynced (in parallel, up to 16 at
		// a time within a batch) and its directory too, before the batch
		// that wrote it commits. Kubo's default, and measured here to be
		// the fastest durable option (see BenchmarkAdd512MiB).
		blocks, err := flatfs.CreateOrOpen(dir, flatfs.NextToLast(2), true)
		if err != nil {
			meta.Close()
			return nil, fmt.Errorf("repo: open block store %s: %w", dir, err)
		}
		root := mount.New([]mount.Mount{
			{Prefix: blockstore.BlockPrefix, Datastore: blocks},
			{Prefix: ds.NewKey("/"), Datastore: meta},
		})
		return &stores{
			root:   root,
			blocks: blocks,
			close: func() error {
				return errors.Join(blocks.Close(), meta.Close())
			},
		}, nil
	}
	meta.Close()
	return nil, fmt.Errorf("repo: unknown datastore kind %q (want %q or %q)", kind, KindFlatfs, KindPebble)
}

// blockKey is the root-datastore key of block c.
func blockKey(c cid.Cid) ds.Key {
	return blockstore.BlockPrefix.Child(dshelp.MultihashToDsKey(c.Hash()))
}
