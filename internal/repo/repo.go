package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// EnvPath names the environment variable that selects the repo.
const EnvPath = "ISLAND_PATH"

// Config says which repo to open and how.
type Config struct {
	// Path is the repo directory; created (mode 0700) if missing.
	Path string
	// HashOnRead re-hashes every block read from the store and fails the
	// read if it does not match its CID, at the cost of hashing each read.
	HashOnRead bool
	// StorageMax, if not 0, is the quota of this run instead of
	// config.json's storageMax (which stays as it is).
	StorageMax uint64
	// Logger receives what the repo does on its own (collections past the
	// watermark); nil is slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the default configuration; Path is left for the
// caller (see ResolvePath). The stores are fixed (see the package comment).
func DefaultConfig() Config {
	return Config{}
}

// ResolvePath picks the repo directory: flag if set (the --repo option),
// else $ISLAND_PATH, else ~/.island.
func ResolvePath(flag string, getenv func(string) string) (string, error) {
	p := flag
	if p == "" && getenv != nil {
		p = getenv(EnvPath)
	}
	if p == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("repo: no --repo, no $%s and no home directory: %w", EnvPath, err)
		}
		p = filepath.Join(home, ".island")
	}
	return filepath.Abs(p)
}

// RootsFunc returns CIDs whose whole DAGs garbage collection must keep.
type RootsFunc func(ctx context.Context) ([]cid.Cid, error)

// Repo is an open repo. Its methods are safe for concurrent use.
type Repo struct {
	path     string
	lockf    *os.File
	stores   *stores
	bstore   blockstore.Blockstore
	bserv    blockservice.BlockService
	dag      ipld.DAGService
	keys     *Keystore
	identity crypto.PrivKey
	gcLocker blockstore.GCLocker
	// hashOnRead is Config.HashOnRead (ReadBlock checks too).
	hashOnRead bool

	rootsMu sync.Mutex
	roots   map[string]RootsFunc
	// inFlight counts the Protect calls per root of a fetch in flight.
	inFlight map[cid.Cid]int
	// holdLocks serialise the read-modify-write of each (CID, holder).
	holdLocks keyedMutex

	// watermark is the share of the quota (percent) past which MakeRoom
	// collects garbage; auto is its last collection.
	watermark int
	auto      autoGC
	log       *slog.Logger

	closeOnce sync.Once
	closeErr  error
}

// Open opens the repo at cfg.Path, creating it on first use, and holds its
// lock until Close. If another process holds the lock, the error is a
// *LockedError naming that process.
func Open(ctx context.Context, cfg Config) (_ *Repo, err error) {
	if cfg.Path == "" {
		return nil, errors.New("repo: no path given")
	}
	dir, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("repo: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("repo: create %s: %w", dir, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	r := &Repo{path: dir, roots: map[string]RootsFunc{}, inFlight: map[cid.Cid]int{}, gcLocker: blockstore.NewGCLocker(),
		log: log.With("system", "repo")}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if r.lockf, err = lock(dir); err != nil {
		return nil, err
	}

	fc, err := readConfig(dir)
	fresh := errors.Is(err, fs.ErrNotExist)
	switch {
	case fresh:
		if err := checkFresh(dir); err != nil {
			return nil, err
		}
		fc = fileConfig{Version: configVersion, Datastore: KindFlatfs}
	case err != nil:
		return nil, err
	}

	if r.keys, err = openKeystore(filepath.Join(dir, keystoreDir)); err != nil {
		return nil, err
	}
	if r.identity, err = r.loadIdentity(fresh); err != nil {
		return nil, err
	}
	id, err := peer.IDFromPrivateKey(r.identity)
	if err != nil {
		return nil, fmt.Errorf("repo: identity: %w", err)
	}
	if !fresh && fc.PeerID != id.String() {
		return nil, fmt.Errorf("repo: %s says peer ID %s but keystore/%s holds the key of %s; restore the matching key or fix the config",
			filepath.Join(dir, configFile), fc.PeerID, SelfKey, id)
	}

	if r.stores, err = openStores(dir); err != nil {
		return nil, err
	}
	storageMax, watermark, err := fc.quota(dir)
	if err != nil {
		return nil, err
	}
	if storageMax == 0 {
		storageMax = defaultStorageMax(ctx, dir, r.stores)
		fc.StorageMax = roundDownSize(storageMax)
		// Recorded (and shown in config.json) so that the quota does not
		// move with the free space; a fresh repo writes it below.
		if !fresh {
			if err := writeConfig(dir, fc); err != nil {
				return nil, fmt.Errorf("repo: write config: %w", err)
			}
		}
		// Rounded for people to read: the quota is what config.json says.
		if storageMax, err = ParseSize(fc.StorageMax); err != nil {
			return nil, err
		}
	}
	if cfg.StorageMax != 0 {
		storageMax = cfg.StorageMax
	}
	r.watermark = watermark
	r.SetStorageMax(storageMax)
	// The identity store answers identity-hash CIDs (data inlined in the
	// CID) without touching the datastore, as every IPFS node does.
	r.bstore = blockstore.NewIdStore(blockstore.NewBlockstore(r.stores.root))
	if cfg.HashOnRead {
		r.bstore = &blockstore.ValidatingBlockstore{Blockstore: r.bstore}
		r.hashOnRead = true
	}
	// Offline: no exchange. The node builds its own blockservice with
	// bitswap over Blockstore(); the blockstore already skips writing blocks
	// it has, so the blockservice need not check too.
	r.bserv = blockservice.New(r.bstore, nil, blockservice.WriteThrough(true))
	r.dag = merkledag.NewDAGService(r.bserv)
	if err := r.migratePins(ctx); err != nil {
		return nil, err
	}

	if fresh {
		// config.json last: its presence marks a complete repo, so a crash
		// before this point just means initialising again.
		fc.PeerID = id.String()
		if err := writeConfig(dir, fc); err != nil {
			return nil, fmt.Errorf("repo: write config: %w", err)
		}
	}
	return r, nil
}

func (r *Repo) loadIdentity(fresh bool) (crypto.PrivKey, error) {
	key, err := r.keys.Get(SelfKey)
	switch {
	case err == nil:
		if key.Type() != crypto.Ed25519 {
			return nil, fmt.Errorf("repo: keystore/%s is a %s key, island needs Ed25519", SelfKey, key.Type())
		}
		return key, nil
	case errors.Is(err, ErrNoSuchKey) && fresh:
		return r.keys.Generate(SelfKey)
	case errors.Is(err, ErrNoSuchKey):
		return nil, fmt.Errorf("repo: %s has no identity key (keystore/%s); restore it from a backup", r.path, SelfKey)
	default:
		return nil, err
	}
}

// Close releases everything, the lock last. It is idempotent.
func (r *Repo) Close() error {
	r.closeOnce.Do(func() {
		var errs []error
		if r.bserv != nil {
			errs = append(errs, r.bserv.Close())
		}
		if r.stores != nil {
			if err := r.stores.close(); err != nil {
				errs = append(errs, fmt.Errorf("repo: close datastore: %w", err))
			}
		}
		if r.lockf != nil {
			errs = append(errs, unlock(r.lockf))
		}
		r.closeErr = errors.Join(errs...)
	})
	return r.closeErr
}

// Path is the repo directory (absolute).
func (r *Repo) Path() string { return r.path }

// Datastore is the root datastore. Blocks live under /blocks and pins
// under /island/pins (boxo's pinner, which earlier versions used, wrote
// under /pins); give namesys and the DHT provider this store itself, not a
// namespace.Wrap of it (see docs/stack.md: boxo's stores prefix their own keys,
// and wrapping again breaks them).
func (r *Repo) Datastore() ds.Batching { return r.stores.root }

// Blockstore is the block store (hash-checking reads if Config.HashOnRead).
func (r *Repo) Blockstore() blockstore.Blockstore { return r.bstore }

// BlockService is the offline block service over Blockstore.
func (r *Repo) BlockService() blockservice.BlockService { return r.bserv }

// DAG is the offline DAG service over Blockstore: it never fetches from
// peers, so a missing block is an error at once.
func (r *Repo) DAG() ipld.DAGService { return r.dag }

// Identity is the node's Ed25519 private key (keystore/self).
func (r *Repo) Identity() crypto.PrivKey { return r.identity }

// PeerID is the peer ID of Identity.
func (r *Repo) PeerID() peer.ID {
	id, _ := peer.IDFromPrivateKey(r.identity) // checked in Open
	return id
}

// Keys is the keystore for the identity and named keys.
func (r *Repo) Keys() *Keystore { return r.keys }

// PinLock keeps garbage collection from starting until Unlock. Hold it from
// before writing the first block of a DAG until the DAG is pinned (or
// registered as a root), or GC may sweep the blocks in between. A fetch
// from peers, which may take minutes, holds no PinLock: it is Protected
// instead, so a waiting GC never keeps adds and publishes waiting on it.
func (r *Repo) PinLock(ctx context.Context) blockstore.Unlocker {
	return r.gcLocker.PinLock(ctx)
}

// Sync makes every write made so far durable.
func (r *Repo) Sync(ctx context.Context) error {
	// Only pebble buffers writes (flatfs syncs each file as it writes it),
	// and both mounts are the same pebble: sync it once, not per mount.
	if err := r.stores.meta.Sync(ctx, ds.NewKey("/")); err != nil {
		return fmt.Errorf("repo: sync: %w", err)
	}
	return nil
}
