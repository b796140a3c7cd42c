package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const lockFile = "repo.lock"

// LockedError says another process holds the repo.
type LockedError struct {
	Path string
	// PID is the holder's process id, 0 if it could not be read.
	PID int
}

func (e *LockedError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = "pid " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("repo: %s is in use by %s (a daemon? stop it or use its API)", e.Path, who)
}

// lock takes an exclusive flock on dir/repo.lock and records our pid in it.
// The kernel drops the lock when the process dies, however it dies, so a
// crash never leaves a stale lock behind.
func lock(dir string) (*os.File, error) {
	p := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("repo: open lock %s: %w", p, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			b, _ := os.ReadFile(p)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			return nil, &LockedError{Path: dir, PID: pid}
		}
		return nil, fmt.Errorf("repo: lock %s: %w", p, err)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("repo: write lock %s: %w", p, err)
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("repo: write lock %s: %w", p, err)
	}
	return f, nil
}

// unlock releases the lock. The file stays: removing it would let a third
// process lock a fresh inode while a second still waits on the old one.
func unlock(f *os.File) error {
	// Clear the pid so nobody blames us after we are gone; closing releases the flock.
	_ = f.Truncate(0)
	return f.Close()
}
