package cli

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// createOut creates path for writing, with O_DIRECT where the file system
// takes it (tmpfs and some FUSE file systems refuse it: then buffered).
func createOut(path string) (f *os.File, direct bool, err error) {
	const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL | syscall.O_NOFOLLOW
	f, err = os.OpenFile(path, flags|syscall.O_DIRECT, 0o666)
	if err == nil {
		return f, true, nil
	}
	if !errInvalid(err) {
		return nil, false, err
	}
	f, err = os.OpenFile(path, flags, 0o666)
	return f, false, err
}

// setDirect turns O_DIRECT on or off for f's later writes.
func setDirect(f *os.File, on bool) error {
	fd := int(f.Fd())
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	if on {
		fl |= unix.O_DIRECT
	} else {
		fl &^= unix.O_DIRECT
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl)
	return err
}

// errInvalid is how Linux refuses O_DIRECT: on open, or on a write the
// file system cannot do directly.
func errInvalid(err error) bool { return errors.Is(err, syscall.EINVAL) }
