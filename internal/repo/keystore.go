package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/ipfs/boxo/keystore"
	"github.com/libp2p/go-libp2p/core/crypto"
)

const (
	keystoreDir = "keystore"
	// SelfKey names the node's identity in the keystore (as in Kubo): its
	// peer ID is the node's, and the IPNS name it signs is /ipns/<peer ID>.
	SelfKey = "self"
)

// ErrNoSuchKey and ErrKeyExists are boxo's, so that code written against
// boxo's keystore interface sees the errors it expects.
var (
	ErrNoSuchKey = keystore.ErrNoSuchKey
	ErrKeyExists = keystore.ErrKeyExists
	// ErrBadKeyName is a key name the keystore cannot hold as a file name.
	ErrBadKeyName = errors.New("repo: bad key name")
)

var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Keystore holds private keys, one file per key (mode 0600) in a directory
// of mode 0700. Keys are written atomically (a crash leaves the old key or
// the new one, never half of one) and never overwritten. It implements
// boxo's keystore.Keystore.
type Keystore struct {
	dir string
}

var _ keystore.Keystore = (*Keystore)(nil)

func openKeystore(dir string) (*Keystore, error) {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("repo: keystore: %w", err)
	}
	// Tighten a directory someone loosened: private keys live here.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("repo: keystore: %w", err)
	}
	return &Keystore{dir: dir}, nil
}

func checkKeyName(name string) error {
	if !keyName.MatchString(name) {
		return fmt.Errorf("%w %q: use 1-64 letters, digits, '.', '_' or '-', not starting with '.', '_' or '-'", ErrBadKeyName, name)
	}
	return nil
}

// Has reports whether a key called name exists.
func (k *Keystore) Has(name string) (bool, error) {
	if err := checkKeyName(name); err != nil {
		return false, err
	}
	_, err := os.Stat(filepath.Join(k.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Put stores key under name; ErrKeyExists if the name is taken.
func (k *Keystore) Put(name string, key crypto.PrivKey) error {
	if err := checkKeyName(name); err != nil {
		return err
	}
	b, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return fmt.Errorf("repo: key %s: %w", name, err)
	}
	p := filepath.Join(k.dir, name)
	// Link, not rename, into place: link fails if the name exists, so two
	// processes racing to create the same key cannot overwrite each other.
	tmp, err := os.CreateTemp(k.dir, ".tmp-"+name+"-")
	if err != nil {
		return fmt.Errorf("repo: key %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("repo: key %s: %w", name, err)
	}
	if _, err := tmp.Write(b); err != nil {
		return fmt.Errorf("repo: key %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("repo: key %s: %w", name, err)
	}
	if err := os.Link(tmp.Name(), p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ErrKeyExists
		}
		return fmt.Errorf("repo: key %s: %w", name, err)
	}
	if err := syncDir(k.dir); err != nil {
		return fmt.Errorf("repo: key %s: %w", name, err)
	}
	return nil
}

// Get returns the key called name, ErrNoSuchKey if there is none.
func (k *Keystore) Get(name string) (crypto.PrivKey, error) {
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	p := filepath.Join(k.dir, name)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoSuchKey
	}
	if err != nil {
		return nil, fmt.Errorf("repo: key %s: %w", name, err)
	}
	key, err := crypto.UnmarshalPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("repo: key file %s is damaged: %w", p, err)
	}
	return key, nil
}

// Generate creates, stores and returns a new Ed25519 key called name.
func (k *Keystore) Generate(name string) (crypto.PrivKey, error) {
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, fmt.Errorf("repo: generate key %s: %w", name, err)
	}
	if err := k.Put(name, key); err != nil {
		return nil, err
	}
	return key, nil
}

// Delete removes the key called name. The identity cannot be deleted.
func (k *Keystore) Delete(name string) error {
	if err := checkKeyName(name); err != nil {
		return err
	}
	if name == SelfKey {
		return fmt.Errorf("repo: the %q key is the node's identity and cannot be deleted", SelfKey)
	}
	err := os.Remove(filepath.Join(k.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNoSuchKey
	}
	if err != nil {
		return fmt.Errorf("repo: delete key %s: %w", name, err)
	}
	return syncDir(k.dir)
}

// List returns the names of all keys, sorted.
func (k *Keystore) List() ([]string, error) {
	ents, err := os.ReadDir(k.dir)
	if err != nil {
		return nil, fmt.Errorf("repo: keystore: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && keyName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}
