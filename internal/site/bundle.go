package site

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"time"
)

// File is one file of the bundle.
type File struct {
	// Path is slash-separated and relative to the bundle root: "posts/x/index.html".
	Path string
	// Data holds a generated file. It is nil for a file copied from
	// content/static, which is read from disk only when opened, so that big
	// static files never sit in memory: use Open.
	Data []byte
	// Size is the file's length in bytes.
	Size int64

	src     string    // content/static file on disk, when Data is nil
	stamp   fileStamp // src's when the bundle was built
	settled bool      // see fileStamp.settledAt
	// digest is the SHA-256 of Data when a Builder knew it; zero if not.
	digest [sha256.Size]byte
	// absent marks a page a Builder reused from a cache file, which keeps
	// its digest and size but not its bytes (see Bundle.Complete).
	absent bool
}

// Held reports whether the bundle holds the file's bytes (see
// Bundle.Complete).
func (f File) Held() bool { return !f.absent }

// errAbsent is what reading a page the bundle does not hold gives.
var errAbsent = errors.New("the page was reused from a render cache, which keeps no page bytes; build the site again without it")

// Identity names the file's bytes across builds and processes: two files
// of builds of one content folder with equal identities hold the same
// bytes. A generated file is known by the SHA-256 of its bytes (kept by a
// Builder, so a page it did not render again is not hashed again); a
// static file by its source and stat when the stat can be trusted to show
// a change (as SourceStamp), else by the SHA-256 of its bytes.
func (f File) Identity() (string, error) {
	switch {
	case f.src == "" && f.digest != [sha256.Size]byte{}:
		return "sha256:" + hex.EncodeToString(f.digest[:]), nil
	case f.src == "":
		sum := sha256.Sum256(f.Data)
		return "sha256:" + hex.EncodeToString(sum[:]), nil
	case f.settled:
		st := f.stamp
		return fmt.Sprintf("stat:%d:%d:%d:%d:%d:%s", st.size, st.mtime, st.ctime, st.dev, st.ino, f.src), nil
	}
	r, err := f.Open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("site: read %s: %w", f.src, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// version identifies the file's bytes for an importer's cache, or is nil.
// Two files with equal versions have the same bytes: a generated file is
// known by its Data, which no one modifies and which the version keeps from
// being freed and its memory reused, so bundles from a Builder that share a
// page share its version; a static file by its path and stat, when the
// stat can be trusted to show a change.
func (f File) version() any {
	if f.absent {
		return nil // no bytes to point to: never taken for another file's
	}
	if f.src == "" {
		v := dataVersion{n: len(f.Data)}
		if len(f.Data) > 0 {
			v.p = &f.Data[0]
		}
		return v
	}
	if !f.settled {
		return nil
	}
	return staticVersion{src: f.src, stamp: f.stamp}
}

type dataVersion struct {
	p *byte
	n int
}

type staticVersion struct {
	src   string
	stamp fileStamp
}

// FileVersion makes a version an importer.Versioned.
func (v dataVersion) FileVersion() any   { return v }
func (v staticVersion) FileVersion() any { return v }

// Open returns the file's contents.
func (f File) Open() (io.ReadCloser, error) {
	if f.absent {
		return nil, fmt.Errorf("site: open %s: %w", f.Path, errAbsent)
	}
	if f.src == "" {
		return io.NopCloser(bytes.NewReader(f.Data)), nil
	}
	r, err := os.Open(f.src)
	if err != nil {
		return nil, fmt.Errorf("site: open static file: %w", err)
	}
	return r, nil
}

// Bundle is a rendered site: every file, in memory or (static files) on
// disk, in a fixed order.
type Bundle struct {
	files  []File // sorted by Path
	byPath map[string]int
	dirs   map[string][]fs.DirEntry // directory → its entries, sorted by name
	pages  int
	static int
	// inputs are what the bundle was built from; WriteDir refuses to
	// replace any of them or anything holding one.
	inputs    []string
	lifetime  time.Duration
	changesAt time.Time
}

// ChangesAt is the first time after the build at which the same sources
// would build differently (a post dated later, a Hugo page's publishDate
// or expiryDate); zero when no such time is known.
func (b *Bundle) ChangesAt() time.Time { return b.changesAt }

// Lifetime is site.toml's lifetime for the records of the site's name, or
// 0 when it sets none.
func (b *Bundle) Lifetime() time.Duration { return b.lifetime }

func newBundle(files []File, pages, static int) *Bundle {
	slices.SortFunc(files, func(a, b File) int { return cmp.Compare(a.Path, b.Path) })
	b := &Bundle{files: files, byPath: make(map[string]int, len(files)), dirs: map[string][]fs.DirEntry{".": nil},
		pages: pages, static: static}
	registered := map[string]bool{".": true}
	for i, f := range files {
		b.byPath[f.Path] = i
		dir := path.Dir(f.Path)
		for d := dir; !registered[d]; d = path.Dir(d) {
			registered[d] = true
			parent := path.Dir(d)
			b.dirs[parent] = append(b.dirs[parent], dirEntry{info: fileInfo{name: path.Base(d), dir: true}})
		}
		b.dirs[dir] = append(b.dirs[dir], dirEntry{info: f.info()})
	}
	for _, ents := range b.dirs {
		slices.SortFunc(ents, func(a, b fs.DirEntry) int { return cmp.Compare(a.Name(), b.Name()) })
	}
	return b
}

// Files lists every file of the bundle, sorted by path. The Data slices
// are the bundle's own: read them, do not modify them.
func (b *Bundle) Files() []File { return slices.Clone(b.files) }

// Complete reports whether every file of the bundle can be read. A
// Builder started from a cache file (LoadCache) reuses the pages it did not
// render again by their digest alone: such a bundle tells which files
// changed (File.Identity) and holds those, but it cannot be written or
// sent whole.
func (b *Bundle) Complete() bool {
	for _, f := range b.files {
		if f.absent {
			return false
		}
	}
	return true
}

// Pages is the number of HTML pages the build generated.
func (b *Bundle) Pages() int { return b.pages }

// StaticFiles is the number of files copied from content/static.
func (b *Bundle) StaticFiles() int { return b.static }

// FS is the bundle as a read-only file system: the same bytes WriteDir
// writes, directories with mode 0755, files 0644, every ModTime zero. A
// file's FileInfo.Sys, when not nil, has a method FileVersion() any whose
// result is equal (==) for two files only if they hold the same bytes:
// importer.Cache uses it to skip the files a bundle from a Builder shares
// with the bundle imported before it.
func (b *Bundle) FS() fs.FS { return bundleFS{b} }

type bundleFS struct{ b *Bundle }

var (
	_ fs.ReadDirFS  = bundleFS{}
	_ fs.ReadFileFS = bundleFS{}
	_ fs.StatFS     = bundleFS{}
)

func (fsys bundleFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if i, ok := fsys.b.byPath[name]; ok {
		f := fsys.b.files[i]
		info := f.info()
		if f.absent {
			return nil, &fs.PathError{Op: "open", Path: name, Err: errAbsent}
		}
		if f.src == "" {
			return &memFile{Reader: bytes.NewReader(f.Data), info: info}, nil
		}
		r, err := os.Open(f.src)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &diskFile{File: r, info: info}, nil
	}
	if ents, ok := fsys.b.dirs[name]; ok {
		return &dirFile{info: fileInfo{name: path.Base(name), dir: true}, ents: ents}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func (fsys bundleFS) ReadDir(name string) ([]fs.DirEntry, error) {
	ents, ok := fsys.b.dirs[name]
	if !ok || !fs.ValidPath(name) {
		if _, isFile := fsys.b.byPath[name]; isFile {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
		}
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Clone(ents), nil
}

func (fsys bundleFS) ReadFile(name string) ([]byte, error) {
	if i, ok := fsys.b.byPath[name]; ok && fs.ValidPath(name) {
		f := fsys.b.files[i]
		if f.absent {
			return nil, &fs.PathError{Op: "read", Path: name, Err: errAbsent}
		}
		if f.src == "" {
			return slices.Clone(f.Data), nil
		}
		data, err := os.ReadFile(f.src)
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		return data, nil
	}
	if _, ok := fsys.b.dirs[name]; ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
}

func (fsys bundleFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	if i, ok := fsys.b.byPath[name]; ok {
		return fsys.b.files[i].info(), nil
	}
	if _, ok := fsys.b.dirs[name]; ok {
		return fileInfo{name: path.Base(name), dir: true}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

// fileInfo describes a bundle file or directory; nothing depends on the
// machine or the time of the build.
type fileInfo struct {
	name string
	size int64
	dir  bool
	sys  any // File.version
}

func (f File) info() fileInfo {
	return fileInfo{name: path.Base(f.Path), size: f.Size, sys: f.version()}
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64 {
	if i.dir {
		return 0
	}
	return i.size
}
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return i.sys }

type dirEntry struct{ info fileInfo }

func (e dirEntry) Name() string               { return e.info.name }
func (e dirEntry) IsDir() bool                { return e.info.dir }
func (e dirEntry) Type() fs.FileMode          { return e.info.Mode().Type() }
func (e dirEntry) Info() (fs.FileInfo, error) { return e.info, nil }
func (e dirEntry) String() string             { return fs.FormatDirEntry(e) }

type memFile struct {
	*bytes.Reader
	info fileInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

type diskFile struct {
	*os.File
	info fileInfo
}

func (f *diskFile) Stat() (fs.FileInfo, error) { return f.info, nil }

type dirFile struct {
	info fileInfo
	ents []fs.DirEntry
	pos  int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.ents[d.pos:]
	if n <= 0 {
		d.pos = len(d.ents)
		return slices.Clone(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.pos += n
	return slices.Clone(rest[:n]), nil
}
