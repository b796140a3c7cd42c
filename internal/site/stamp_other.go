//go:build !linux

package site

import "io/fs"

// stampOf is what stat says about a file: a change to its bytes changes
// its size or its mtime.
func stampOf(info fs.FileInfo) fileStamp {
	return fileStamp{size: info.Size(), mtime: info.ModTime().UnixNano()}
}
