package pinsvc

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const tokenBytes = 32

// LoadOrCreateToken returns the bearer token stored at path, creating it
// (32 random bytes, hex, mode 0600) when the file does not exist. A token
// file that group or others may read or write is refused: anyone who can
// read it can pin on this node.
func LoadOrCreateToken(path string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("pinsvc: token dir: %w", err)
	}
	buf := make([]byte, tokenBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("pinsvc: token: %w", err)
	}
	token := hex.EncodeToString(buf)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return loadToken(path)
	case err != nil:
		return "", fmt.Errorf("pinsvc: create token file: %w", err)
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return "", fmt.Errorf("pinsvc: write token file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("pinsvc: write token file %s: %w", path, err)
	}
	return token, nil
}

func loadToken(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("pinsvc: token file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("pinsvc: token file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("pinsvc: token file %s has mode %04o, open to group or others: run chmod 600 %s", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("pinsvc: read token file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if raw, err := hex.DecodeString(token); err != nil || len(raw) < 16 {
		return "", fmt.Errorf("pinsvc: token file %s does not hold a hex token of at least 16 bytes; delete it to make a new one", path)
	}
	return token, nil
}
