package site

import (
	"io/fs"
	"syscall"
)

// stampOf is what stat says about a file: a change to its bytes changes
// the stamp. Inode and ctime catch what size and mtime miss: a file
// replaced by a rename, or rewritten with its mtime put back (cp -p, tar).
func stampOf(info fs.FileInfo) fileStamp {
	s := fileStamp{size: info.Size(), mtime: info.ModTime().UnixNano()}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		s.dev, s.ino = uint64(st.Dev), st.Ino
		s.ctime = st.Ctim.Nano()
	}
	return s
}
