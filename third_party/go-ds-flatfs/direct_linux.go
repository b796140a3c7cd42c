package flatfs

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

// directAlign is the alignment O_DIRECT asks of a write's buffer, length
// and offset: 4096 covers every logical block size Linux file systems use.
const directAlign = 4096

// directable says whether val can be written with O_DIRECT in one write.
func directable(val []byte) bool {
	return len(val) > 0 && len(val)%directAlign == 0 && uintptr(unsafe.Pointer(&val[0]))%directAlign == 0
}

// writeNewFile creates name and writes val to it. Aligned values (file
// chunks of 1 MiB) are written with O_DIRECT: the bytes go from val to the
// device without a copy into the page cache and without the write-back that
// fsync would then do, which is most of the CPU a durable write costs. The
// caller still fsyncs (metadata, the device's cache). A file system that
// refuses O_DIRECT (tmpfs, some FUSE) gets a buffered write instead.
func writeNewFile(name string, val []byte) (*os.File, error) {
	if directable(val) {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_DIRECT, 0o666)
		if err == nil {
			if _, err = f.Write(val); err == nil {
				return f, nil
			}
			f.Close()
			os.Remove(name)
		}
		if !errors.Is(err, syscall.EINVAL) {
			return nil, err
		}
	}
	return writeNewFileBuffered(name, val)
}
