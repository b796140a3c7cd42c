package repo

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

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
	// root is what the blockstore, the pins, namesys and the
	// provider use: a mount of blocks at /blocks over meta.
	root ds.Batching
	// blocks holds the blocks, keyed like the blockstore's datastore keys
	// (dshelp.MultihashToDsKey); imports stage into one batch of it.
	blocks *blockStore
	meta   *pebbleds.Datastore
}

func (s *stores) close() error {
	return errors.Join(s.blocks.big.Close(), s.meta.Close())
}

// compactBlocks compacts the small blocks' key range of pebble, which
// frees the space of those deleted.
func (s *stores) compactBlocks(ctx context.Context) error {
	start := blockstore.BlockPrefix.Bytes()
	end := append(slices.Clone(start), 0xff)
	return s.meta.DB.Compact(ctx, start, end, false)
}

// metadataCache bounds pebble's block cache. Metadata (pins, IPNS records,
// provider state) is small; this is memory the node holds for its whole
// life, so it is set here rather than left to pebble's default.
const metadataCache = 8 << 20

func openStores(repoDir string) (*stores, error) {
	metaDir := filepath.Join(repoDir, "datastore")
	// Writes are not fsynced one by one (pebble.NoSync, go-ds-pebble's
	// default): Sync fsyncs the write-ahead log, and everything that
	// acknowledges a write calls it first. Fsyncing each small Put of the
	// DHT provider's keystore would cost a disk flush per CID.
	meta, err := pebbleds.NewDatastore(metaDir, pebbleds.WithCacheSize(metadataCache),
		pebbleds.WithPebbleOpts(&pebble.Options{}))
	if err != nil {
		return nil, fmt.Errorf("repo: open datastore %s: %w", metaDir, err)
	}
	blocksDir := filepath.Join(repoDir, "blocks")
	// sync=true: every block file is fsynced (up to 16 in parallel within a
	// batch), then renamed into place and its directory fsynced, before the
	// batch that wrote it commits. Opening removes the staging directory
	// (.temp) a crash left behind.
	//
	// 32 shard directories (next-to-last/1) rather than Kubo's 1024: a
	// commit fsyncs every directory it renamed into, about a millisecond
	// each, and 512 one-MiB chunks land in ~400 of 1024 directories but in
	// at most 32 (measured: 0.3-0.5 s less per 512 MiB add). Only blocks of
	// 256 KiB and up live here, so even a 10 GB repo puts ~1,000 files in a
	// directory, which ext4's hashed directories handle without effort.
	big, err := flatfs.CreateOrOpen(blocksDir, flatfs.NextToLast(1), true)
	if err != nil {
		meta.Close()
		return nil, fmt.Errorf("repo: open block store %s: %w", blocksDir, err)
	}
	blocks := &blockStore{small: namespace.Wrap(meta, blockstore.BlockPrefix), meta: meta, big: big, stagedMax: stagedSmallMax}
	blocks.quota.usage = blocks.diskUsage
	root := mount.New([]mount.Mount{
		{Prefix: blockstore.BlockPrefix, Datastore: blocks},
		{Prefix: ds.NewKey("/"), Datastore: metaView{meta}},
	})
	return &stores{root: root, blocks: blocks, meta: meta}, nil
}

// blockKey is the root-datastore key of block c.
func blockKey(c cid.Cid) ds.Key {
	return blockstore.BlockPrefix.Child(dshelp.MultihashToDsKey(c.Hash()))
}
