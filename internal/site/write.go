package site

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sync/errgroup"
)

// WriteDir writes the bundle to the directory out, atomically: it writes a
// temporary directory beside out and renames it into place, so a failure
// at any point leaves the previous output as it was. It refuses to replace
// a directory that does not look like a previous build (no index.html) or
// that holds the content the bundle was built from.
func WriteDir(b *Bundle, out string) error {
	if !b.Complete() {
		return fmt.Errorf("site: write %s: %w", out, errAbsent)
	}
	if err := checkOut(b, out); err != nil {
		return err
	}
	parent := filepath.Dir(filepath.Clean(out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("site: write %s: %w", out, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".tmp-")
	if err != nil {
		return fmt.Errorf("site: write %s: %w", out, err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := writeTree(b, tmp); err != nil {
		return fmt.Errorf("site: write %s: %w", out, err)
	}
	if err := replaceDir(tmp, out); err != nil {
		return fmt.Errorf("site: write %s: %w", out, err)
	}
	ok = true
	return nil
}

// checkOut refuses destinations whose replacement would lose someone's data.
func checkOut(b *Bundle, out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("site: write %s: %w", out, err)
	}
	for _, in := range b.inputs {
		content, err := filepath.Abs(in)
		if err == nil && (within(content, abs) || within(abs, content)) {
			return fmt.Errorf("site: write %s: the output directory and the content directory %s overlap; pass an --out outside the content", out, in)
		}
	}
	st, err := os.Lstat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("site: write %s: %w", out, err)
	case !st.IsDir():
		return fmt.Errorf("site: write %s: it exists and is not a directory; remove it or pass another --out", out)
	}
	ents, err := os.ReadDir(abs)
	if err != nil {
		return fmt.Errorf("site: write %s: %w", out, err)
	}
	if len(ents) > 0 && !slices.ContainsFunc(ents, func(e fs.DirEntry) bool { return e.Name() == "index.html" }) {
		return fmt.Errorf("site: write %s: it is not empty and holds no index.html, so it is not a previous build; "+
			"island replaces the whole directory: pass a new or empty --out", out)
	}
	return nil
}

// within reports whether p is dir or inside it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// writeTree writes every file of the bundle under dir, many at a time:
// creating directories and small files waits on the file system, not the
// CPU, so more writers than cores keep it busy.
func writeTree(b *Bundle, dir string) error {
	if err := os.Chmod(dir, 0o755); err != nil { // MkdirTemp makes 0700
		return err
	}
	var g errgroup.Group
	g.SetLimit(fsParallelism)
	for _, f := range b.files {
		g.Go(func() error {
			dst := filepath.Join(dir, filepath.FromSlash(f.Path))
			// Each page has a directory of its own: make it here, in parallel.
			if err := mkdirFast(filepath.Dir(dst)); err != nil {
				return err
			}
			return writeFile(f, dst)
		})
	}
	return g.Wait()
}

// mkdirFast makes a directory whose parent most likely exists, in one
// system call where os.MkdirAll would first stat it and its parent.
func mkdirFast(dir string) error {
	err := os.Mkdir(dir, 0o755)
	switch {
	case err == nil, errors.Is(err, fs.ErrExist):
		return nil // another writer may have made it first
	case errors.Is(err, fs.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	}
	return err
}

// fsParallelism bounds the goroutines creating or removing files.
const fsParallelism = 16

func writeFile(f File, dst string) (err error) {
	if f.src == "" {
		return os.WriteFile(dst, f.Data, 0o644)
	}
	in, err := os.Open(f.src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = io.Copy(out, in) // copy_file_range on Linux: no trip through user space
	return err
}

// replaceDir moves the new tree tmp to out and removes what was at out.
func replaceDir(tmp, out string) error {
	if _, err := os.Lstat(out); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(tmp, out)
	}
	if exchangeDirs(tmp, out) == nil {
		// tmp now holds the previous output.
		return removeTree(tmp)
	}
	// No atomic exchange here: two renames, the old tree put back on failure.
	old := tmp + ".old"
	if err := os.Rename(out, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		if rerr := os.Rename(old, out); rerr != nil {
			return fmt.Errorf("%w (and restoring the previous output from %s failed: %v)", err, old, rerr)
		}
		return err
	}
	return removeTree(old)
}

// removeTree is os.RemoveAll for a previous output, with the work spread
// over goroutines: first every directory is emptied of its files, then the
// directories go, deepest first, one depth at a time.
func removeTree(root string) error {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return err
	})
	if err != nil {
		return os.RemoveAll(root)
	}
	parallel := func(list []string, fn func(string) error) error {
		var g errgroup.Group
		g.SetLimit(fsParallelism)
		for _, d := range list {
			g.Go(func() error { return fn(d) })
		}
		return g.Wait()
	}
	err = parallel(dirs, func(d string) error {
		ents, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if !e.IsDir() {
				if err := os.Remove(filepath.Join(d, e.Name())); err != nil {
					return err
				}
			}
		}
		return nil
	})
	depth := func(p string) int { return strings.Count(p, string(filepath.Separator)) }
	slices.SortFunc(dirs, func(a, b string) int { return depth(b) - depth(a) })
	for i := 0; err == nil && i < len(dirs); {
		j := i
		for j < len(dirs) && depth(dirs[j]) == depth(dirs[i]) {
			j++
		}
		err = parallel(dirs[i:j], syscall.Rmdir) // os.Remove would try unlink first
		i = j
	}
	if err != nil {
		return os.RemoveAll(root) // whatever is left, the slow way
	}
	return nil
}
