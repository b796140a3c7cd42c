package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"
)

// A file `get` writes goes to the disk past the page cache where the file
// system allows it (O_DIRECT, outDirect): the bytes go from the command's
// buffers to the device without a copy into the page cache. Written through
// the cache, a 256 MiB get spent more CPU copying into it than on anything
// else of its own, and, on a machine short of free pages, seconds finding
// them (docs/bench.md, "Where get's time goes"). The file is not kept in
// memory for a read that may never come; `cat` after `get` reads the disk.
const (
	// outAlign is the alignment O_DIRECT asks of a write's buffer, offset
	// and length: 4096 covers every logical block size Linux file systems
	// use.
	outAlign = 4096
	// outPiece is one write: large enough that a syscall is nothing next
	// to the copy it makes.
	outPiece = 1 << 20
	// outPieces are the buffers in turn: one filled from the daemon's
	// answer while the others are written.
	outPieces = 3
)

// writeNewFile creates path, which must not exist, and copies r into it.
// On a failure path is left to the caller to remove.
func writeNewFile(path string, r io.Reader) error {
	f, direct, err := createOut(path)
	if err != nil {
		return err
	}
	if !direct {
		_, err = io.CopyBuffer(f, onlyReader{r}, make([]byte, outPiece))
		return errors.Join(err, f.Close())
	}
	return errors.Join(writeDirect(f, r), f.Close())
}

// onlyReader hides a reader's WriterTo, so io.CopyBuffer uses the buffer.
type onlyReader struct{ io.Reader }

// writeDirect copies r into f, opened with O_DIRECT, in aligned pieces:
// one goroutine fills a piece from r while another writes the piece before
// it, so the command waits on neither the daemon nor the disk alone. A
// tail shorter than outAlign is written after O_DIRECT is turned off.
func writeDirect(f *os.File, r io.Reader) error {
	full := make(chan []byte, outPieces)
	free := make(chan []byte, outPieces)
	for range outPieces {
		free <- alignedBuffer(outPiece)
	}
	failed := make(chan struct{}) // closed when a write failed: stop reading
	var werr error
	written := make(chan struct{})
	go func() {
		defer close(written)
		for p := range full {
			if werr == nil {
				if werr = writePiece(f, p); werr != nil {
					close(failed)
				}
			}
			free <- p[:cap(p)]
		}
	}()
	var rerr error
	for rerr == nil {
		var p []byte
		select {
		case p = <-free:
		case <-failed:
			rerr = io.EOF
			continue
		}
		n, err := io.ReadFull(r, p)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			rerr = io.EOF
		case err != nil:
			rerr = err
		}
		if n > 0 {
			full <- p[:n]
		}
	}
	close(full)
	<-written
	if rerr != io.EOF {
		return rerr
	}
	return werr
}

// writePiece writes p to f: its aligned part with O_DIRECT, the rest
// (the file's tail) through the page cache. A device that refuses an
// O_DIRECT write after accepting the open gets the whole piece buffered.
func writePiece(f *os.File, p []byte) error {
	aligned := len(p) - len(p)%outAlign
	if aligned > 0 {
		n, err := f.Write(p[:aligned])
		p = p[n:]
		if err != nil && !errInvalid(err) {
			return err
		}
	}
	if len(p) == 0 {
		return nil
	}
	if err := setDirect(f, false); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	_, err := f.Write(p)
	return err
}

// alignedBuffer is n bytes starting at a multiple of outAlign.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+outAlign)
	off := 0
	if r := int(uintptr(unsafe.Pointer(&b[0])) % outAlign); r != 0 {
		off = outAlign - r
	}
	return b[off : off+n : off+n]
}
