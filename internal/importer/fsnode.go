package importer

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/boxo/files"
)

// PathNode returns the file, directory or symlink at p on local disk as a
// files.Node, as a client streams it to a daemon (files.NewMultiFileReader):
// symlinks are not followed, a directory lists its entries sorted by name
// (the order AddNode imports them in) and leaves out hidden ones unless
// hidden is set, so that they are never sent. A special file (named pipe,
// socket, device) is an error naming it: from PathNode for p itself, from
// the directory iterator for an entry below. Files are opened only when
// read, one at a time. Errors name entries by p joined with their path
// below it.
func PathNode(p string, hidden bool) (files.Node, error) {
	return pathNode(p, p, hidden)
}

// FSNode is PathNode for root ("." for the whole FS) in fsys: what a client
// streams of an in-memory tree, such as a site bundle. It includes hidden
// entries; Options.Hidden decides whether they are imported. The Sys of the
// fs.FileInfo of its files is what a Cache sees, so AddNode with a Cache
// skips the unchanged files of a Versioned fs.FS as AddFS does.
func FSNode(fsys fs.FS, root string) (files.Node, error) {
	return fsNode(fsys, root, root, true)
}

// pathNode is PathNode naming the root display in errors.
func pathNode(p, display string, hidden bool) (files.Node, error) {
	st, err := os.Lstat(p)
	if err != nil {
		return nil, fmt.Errorf("importer: %w", err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, fmt.Errorf("importer: %w", err)
	}
	if st.IsDir() {
		// The directory itself is the FS, not an entry of its parent's:
		// "/" has no parent.
		return newFSNode(&fsEntry{fsys: os.DirFS(abs), p: ".", display: display, info: st}, hidden)
	}
	return newFSNode(&fsEntry{fsys: os.DirFS(filepath.Dir(abs)), p: filepath.Base(abs), display: display, info: st}, hidden)
}

// fsNode is FSNode naming the root display in errors and leaving out
// hidden entries unless hidden.
func fsNode(fsys fs.FS, root, display string, hidden bool) (files.Node, error) {
	if !fs.ValidPath(root) {
		return nil, fmt.Errorf("importer: %q is not a valid fs.FS path", root)
	}
	st, err := fs.Lstat(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("importer: %w", err)
	}
	return newFSNode(&fsEntry{fsys: fsys, p: root, display: display, info: st}, hidden)
}

// fsEntry is an entry of an fs.FS tree. Its files and directories carry
// it (fsBacked) so that the importer's Cache can know a file by its path
// and version without reading it, and read it after all if its blocks turn
// out to be gone.
type fsEntry struct {
	fsys    fs.FS
	p       string // in fsys: the key the Cache knows it by
	display string // what errors call it
	info    fs.FileInfo
}

// fsBacked is implemented by the files and directories of an fs.FS tree
// (PathNode, FSNode).
type fsBacked interface {
	source() *fsEntry
}

func (e *fsEntry) source() *fsEntry { return e }

// sourceOf returns nd's place in its fs.FS, or nil for a node that has
// none, such as a file of a multipart stream.
func sourceOf(nd files.Node) *fsEntry {
	if b, ok := nd.(fsBacked); ok {
		return b.source()
	}
	return nil
}

func (e *fsEntry) Mode() os.FileMode  { return e.info.Mode() }
func (e *fsEntry) ModTime() time.Time { return e.info.ModTime() }

// open opens the file for reading.
func (e *fsEntry) open() (fs.File, error) {
	f, err := e.fsys.Open(e.p)
	if err != nil {
		return nil, &entryError{e.display, err}
	}
	return f, nil
}

// child returns the entry name of the directory e, without its FileInfo.
func (e *fsEntry) child(name string) *fsEntry {
	return &fsEntry{fsys: e.fsys, p: path.Join(e.p, name), display: path.Join(e.display, name)}
}

// newFSNode returns e as a files.Node: an *fsFile, an *fsDir or a
// *files.Symlink (which files.NewMultiFileReader sends as a symlink).
func newFSNode(e *fsEntry, hidden bool) (files.Node, error) {
	switch mode := e.info.Mode(); {
	case mode.IsDir():
		return &fsDir{fsEntry: e, hidden: hidden}, nil
	case mode.IsRegular():
		return &fsFile{fsEntry: e}, nil
	case mode&fs.ModeSymlink != 0:
		target, err := fs.ReadLink(e.fsys, e.p)
		if err != nil {
			return nil, &entryError{e.display, err}
		}
		return files.NewSymlinkFile(target, e.info.ModTime()), nil
	default:
		return nil, unsupported(e.display, mode)
	}
}

// fsFile is a regular file of an fs.FS tree.
type fsFile struct {
	*fsEntry
	// f is opened by the first Read, so that a file the Cache vouches for
	// is never opened, and a directory of many files holds one open at a
	// time.
	f fs.File
}

func (f *fsFile) Read(b []byte) (int, error) {
	if f.f == nil {
		fh, err := f.open()
		if err != nil {
			return 0, err
		}
		f.f = fh
	}
	return f.f.Read(b)
}

func (f *fsFile) Close() error {
	if f.f == nil {
		return nil
	}
	err := f.f.Close()
	f.f = nil
	return err
}

func (f *fsFile) Size() (int64, error) { return f.info.Size(), nil }

// fsDir is a directory of an fs.FS tree.
type fsDir struct {
	*fsEntry
	hidden bool // list hidden entries
}

// Entries lists the directory afresh at each call.
func (d *fsDir) Entries() files.DirIterator { return &fsIter{dir: d} }

func (d *fsDir) Close() error { return nil }

// Size is the total size of the regular files below, hidden ones left out
// unless listed, as files.Node asks of a directory.
func (d *fsDir) Size() (int64, error) {
	var n int64
	err := fs.WalkDir(d.fsys, d.p, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != d.p && !d.hidden && isHidden(de.Name()) {
			if de.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if de.Type().IsRegular() {
			info, err := de.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, &entryError{d.display, err}
	}
	return n, nil
}

// fsIter lists a directory of an fs.FS tree, sorted by name (fs.ReadDir).
type fsIter struct {
	dir     *fsDir
	started bool
	ents    []fs.DirEntry
	name    string
	node    files.Node
	err     error
}

func (it *fsIter) Name() string     { return it.name }
func (it *fsIter) Node() files.Node { return it.node }
func (it *fsIter) Err() error       { return it.err }

func (it *fsIter) Next() bool {
	it.name, it.node = "", nil
	if it.err != nil {
		return false
	}
	if !it.started {
		it.started = true
		ents, err := fs.ReadDir(it.dir.fsys, it.dir.p)
		if err != nil {
			it.err = &entryError{it.dir.display, err}
			return false
		}
		it.ents = ents
	}
	for len(it.ents) > 0 {
		de := it.ents[0]
		it.ents = it.ents[1:]
		if !it.dir.hidden && isHidden(de.Name()) {
			continue
		}
		e := it.dir.child(de.Name())
		info, err := de.Info()
		if err != nil {
			it.err = &entryError{e.display, err}
			return false
		}
		e.info = info
		if it.node, it.err = newFSNode(e, it.dir.hidden); it.err != nil {
			return false
		}
		it.name = de.Name()
		return true
	}
	return false
}

// isHidden says whether an entry is hidden, as `ipfs add` decides it.
func isHidden(name string) bool { return strings.HasPrefix(name, ".") }
