package repo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KindFlatfs is the datastore layout of a repo: big blocks each in its own
// fsynced file (go-ds-flatfs) under blocks/, small blocks and everything
// else in pebble under datastore/. config.json records it so a later layout
// can be told apart.
const KindFlatfs = "flatfs"

const (
	configFile    = "config.json"
	configVersion = 1
)

// fileConfig is config.json.
type fileConfig struct {
	Version int `json:"version"`
	// PeerID is derived from keystore/self and kept here for people and
	// scripts; Open checks that the two agree.
	PeerID    string `json:"peerID"`
	Datastore string `json:"datastore"`
	// StorageMax is the repo's quota ("50GB", as Kubo's
	// Datastore.StorageMax): recorded when the repo is created, or first
	// opened by a version that has quotas, as what it used then plus half
	// the free disk.
	StorageMax string `json:"storageMax,omitempty"`
	// StorageGCWatermark is the share of StorageMax (percent) past which
	// garbage is collected before writes; 0 is DefaultGCWatermark.
	StorageGCWatermark int `json:"storageGCWatermark,omitempty"`
}

// quota reads the quota settings, naming the file when they are wrong.
func (c fileConfig) quota(dir string) (max uint64, watermark int, err error) {
	p := filepath.Join(dir, configFile)
	if c.StorageMax != "" {
		if max, err = ParseSize(c.StorageMax); err != nil {
			return 0, 0, fmt.Errorf("repo: %s: storageMax: %w", p, err)
		}
	}
	watermark = c.StorageGCWatermark
	switch {
	case watermark == 0:
		watermark = DefaultGCWatermark
	case watermark < 1 || watermark > 100:
		return 0, 0, fmt.Errorf("repo: %s: storageGCWatermark %d: want a percentage from 1 to 100", p, watermark)
	}
	return max, watermark, nil
}

// readConfig returns the repo's config, or fs.ErrNotExist for a directory
// that was never (completely) initialised.
func readConfig(dir string) (fileConfig, error) {
	p := filepath.Join(dir, configFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return fileConfig{}, err
	}
	var c fileConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return fileConfig{}, fmt.Errorf("repo: %s is not valid JSON (%v); fix or remove it", p, err)
	}
	if c.Version != configVersion {
		return fileConfig{}, fmt.Errorf("repo: %s has version %d, this island understands %d", p, c.Version, configVersion)
	}
	if c.Datastore != KindFlatfs {
		return fileConfig{}, fmt.Errorf("repo: %s: unknown datastore %q (this island knows %q)", p, c.Datastore, KindFlatfs)
	}
	return c, nil
}

func writeConfig(dir string, c fileConfig) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, configFile), append(b, '\n'), 0o600)
}

// repoEntries are the names a repo directory may hold; a directory holding
// anything else is not taken over as a new repo.
var repoEntries = map[string]bool{
	configFile: true, lockFile: true, keystoreDir: true, "blocks": true, "datastore": true,
	// written by the daemon (see docs/interface.md)
	"api": true, "gateway": true,
}

// checkFresh refuses to initialise a repo in a directory that holds
// something else, so a mistyped --repo never scribbles into a user's files.
// Leftovers of an interrupted initialisation are fine.
func checkFresh(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("repo: %w", err)
	}
	for _, e := range ents {
		if !repoEntries[e.Name()] && !strings.HasPrefix(e.Name(), ".tmp-") {
			return fmt.Errorf("repo: %s is not an island repo (it holds %q but no %s); choose another --repo or ISLAND_PATH", dir, e.Name(), configFile)
		}
	}
	return nil
}

// WriteFileAtomic replaces p with data so that after a crash p holds either
// the old or the new content, complete: write a temporary file, fsync it,
// rename it over p, fsync the directory.
func WriteFileAtomic(p string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(p)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(p)+"-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return err
	}
	return nil
}
