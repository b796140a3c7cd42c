// Package repo owns island's on-disk state: one directory holding the
// config file, the block store and the metadata datastore, the keystore
// (the node's Ed25519 identity and named keys) and the lock that keeps a
// second process out. On top of the stores it owns pins, garbage collection
// with a pluggable root set, CAR import and export, and verification.
//
// Layout of a repo directory:
//
//	config.json   version, peer ID, datastore kind
//	repo.lock     flock'ed while open; holds the owner's pid
//	keystore/     one file per key (0600), directory 0700; "self" is the identity
//	blocks/       flatfs: blocks of 256 KiB and more (file chunks), one file each
//	datastore/    pebble: smaller blocks (under /blocks), pins (/island/pins), names, provider state
//
// Why two stores: a flatfs block costs a file create, an fsync, a rename and
// a directory fsync whatever its size, a pebble block only its bytes in a
// sequential log fsynced once per import. Big chunks are 2-5x faster in
// flatfs (pebble writes them twice and compacts them), small blocks 4-8x
// faster in pebble (BenchmarkBlockWrites); see smallBlockMax.
//
// Durability: every write a method acknowledges (an import, a pin, a CAR)
// survives a crash of the process or the machine. Block files are fsynced
// before they are renamed into place; pebble's log is fsynced by Sync, which
// imports, Pin, Unpin and every other method here call before returning.
// An import's full file chunks are written with O_DIRECT (flatfs as patched
// in third_party/go-ds-flatfs): no copy into the page cache and no
// write-back at fsync, which were a third of `add`'s CPU.
//
// Pins and holders: a pin records who keeps a CID, not just that someone
// does. Each holder (the user; a published site, by its IPNS name; a
// followed site; a Pinning Service request; a "legacy" pin from before
// holders) holds a CID in one mode, recursive or direct, and the CID stays
// pinned while any holder is left, so one holder letting go never takes
// what another still wants. Each (CID, holder) is one datastore key under
// /island/pins/holds, so a Pin or an Unpin is one synced write. Pins made
// by earlier versions with boxo's pinner (under /pins) are moved to holds
// the first time a repo is opened; the pinner is not used after that.
//
// Roots: what gc keeps and the node keeps announced is one root set
// (Roots): the pins, recursive ones whole and direct ones as single
// blocks, plus every source given to RegisterRoots (site history, followed
// sites), whose DAGs are kept whole.
//
// Three ways in, by where the blocks come from: an Import (add, CAR) stages
// a whole DAG and commits it all or nothing; a Stage (blocks fetched from
// peers) stages them and flushes every few tens of MiB, so a long fetch keeps
// its progress while no block pays its own fsyncs; Blockstore().Put writes
// one block at once, for the odd single block.
package repo
