//go:build !linux

package cli

import "os"

// createOut creates path for writing; O_DIRECT is Linux's.
func createOut(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	return f, false, err
}

func setDirect(*os.File, bool) error { return nil }

func errInvalid(error) bool { return false }
