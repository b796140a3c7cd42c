//go:build !linux

package flatfs

import "os"

// writeNewFile creates name and writes val to it (O_DIRECT is Linux's).
func writeNewFile(name string, val []byte) (*os.File, error) {
	return writeNewFileBuffered(name, val)
}
