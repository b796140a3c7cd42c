package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"github.com/ipfs/boxo/files"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/islandsite/island/internal/history"
	"github.com/islandsite/island/internal/importer"
)

// What a publish against a base version (PublishRequest.Base) may send:
// the files it changes are held in memory until the new version is built,
// so they are bounded; a bigger change is sent as the whole site.
const (
	MaxPatchFiles   = 4096
	MaxPatchBytes   = 64 << 20
	MaxPatchRemoves = 4096
	// maxPatchDepth bounds how deeply the changed files nest.
	maxPatchDepth = 64
)

// patch is the change a publish against a base version makes: files added
// or replaced, by bundle path, and paths removed.
type patch struct {
	files    map[string][]byte
	removes  map[string]bool
	removed  map[string]bool            // the removes the base had
	children map[string]map[string]bool // directory → the names the change puts in it
	touched  map[string]bool            // every directory a change is below
}

// basePatch checks that base is the current version of the site called
// name and reads the change site and removes make to it.
func (c *Core) basePatch(ctx context.Context, name, base string, site files.Directory, removes []string) (cid.Cid, *patch, error) {
	want, err := cid.Decode(base)
	if err != nil {
		return cid.Undef, nil, Errorf(CodeInvalid, "base %q: not a CID: %v", base, err)
	}
	cur, err := c.history.Current(ctx, name)
	switch {
	case errors.Is(err, history.ErrNoHistory):
		return cid.Undef, nil, Errorf(CodeConflict, "%s has no version yet: send the whole site", name)
	case err != nil:
		return cid.Undef, nil, err
	case !cur.CID.Equals(want):
		return cid.Undef, nil, Errorf(CodeConflict, "the current version of %s is %s, not the base %s: send the whole site", name, cur.CID, want)
	}
	p, err := readPatch(site, removes)
	if err != nil {
		return cid.Undef, nil, err
	}
	return want, p, nil
}

// readPatch reads the changed files into memory, within the bounds.
func readPatch(site files.Directory, removes []string) (*patch, error) {
	p := &patch{files: map[string][]byte{}, removes: map[string]bool{}, removed: map[string]bool{},
		children: map[string]map[string]bool{}, touched: map[string]bool{}}
	if len(removes) > MaxPatchRemoves {
		return nil, Errorf(CodeInvalid, "%d paths to remove, more than the %d a change may name: send the whole site", len(removes), MaxPatchRemoves)
	}
	for _, r := range removes {
		if !fs.ValidPath(r) || r == "." {
			return nil, Errorf(CodeInvalid, "remove %q: not a path in the site (slash-separated, relative, no . or ..)", r)
		}
		p.removes[r] = true
		p.mark(r)
	}
	budget := int64(MaxPatchBytes)
	var walk func(dir string, d files.Directory, depth int) error
	walk = func(dir string, d files.Directory, depth int) error {
		if depth > maxPatchDepth {
			return Errorf(CodeInvalid, "%s: directories nested more than %d deep", dir, maxPatchDepth)
		}
		it := d.Entries()
		for it.Next() {
			name := it.Name()
			if err := importer.CheckName(name); err != nil {
				return Errorf(CodeInvalid, "%s: %v", dir, err)
			}
			full := path.Join(dir, name)
			switch nd := it.Node().(type) {
			case files.Directory:
				if err := walk(full, nd, depth+1); err != nil {
					return err
				}
			case *files.Symlink:
				return Errorf(CodeInvalid, "%s: a change to a site holds files only", full)
			case files.File:
				if len(p.files) == MaxPatchFiles {
					return Errorf(CodeInvalid, "more than %d changed files: send the whole site", MaxPatchFiles)
				}
				data, err := io.ReadAll(io.LimitReader(nd, budget+1))
				nd.Close()
				if err != nil {
					return fmt.Errorf("read %s: %w", full, err)
				}
				if budget -= int64(len(data)); budget < 0 {
					return Errorf(CodeInvalid, "changed files of more than %d MiB: send the whole site", MaxPatchBytes>>20)
				}
				if _, twice := p.files[full]; twice || p.removes[full] {
					return Errorf(CodeInvalid, "%s: named twice in the change", full)
				}
				p.files[full] = data
				p.mark(full)
			default:
				return Errorf(CodeInvalid, "%s: a change to a site holds files only", full)
			}
		}
		return it.Err()
	}
	if err := walk("", site, 0); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *patch) hasFile(full string) bool {
	_, ok := p.files[full]
	return ok
}

// mark notes that the change reaches the file or directory at p.
func (p *patch) mark(file string) {
	for dir, name := path.Split(file); ; dir, name = path.Split(dir) {
		dir = path.Clean(dir)
		if dir == "." {
			dir = ""
		}
		if p.children[dir] == nil {
			p.children[dir] = map[string]bool{}
		}
		p.children[dir][name] = true
		p.touched[dir] = true
		if dir == "" {
			return
		}
	}
}

// tree is the base version with the change made: the base's entries the
// change does not reach as importer.Known (linked as they are, unread),
// the directories it reaches rebuilt from their links. A directory the
// change leaves empty is left out, as a build of the same files has none.
func (p *patch) tree(ctx context.Context, dag ipld.DAGService, base cid.Cid) (files.Directory, error) {
	root, err := dag.Get(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("read the base %s: %w", base, err)
	}
	d, err := p.dir(ctx, dag, root, "")
	if err != nil {
		return nil, err
	}
	for r := range p.removes {
		if !p.removed[r] {
			return nil, Errorf(CodeInvalid, "remove %s: the base version has no such file", r)
		}
	}
	if d == nil {
		return files.NewMapDirectory(nil), nil
	}
	return d, nil
}

// dir is the directory at dir (nd in the base, nil when the base has
// none) with the change made; nil when it ends up empty.
func (p *patch) dir(ctx context.Context, dag ipld.DAGService, nd ipld.Node, dir string) (files.Directory, error) {
	entries := map[string]files.Node{}
	if nd != nil {
		bd, err := uio.NewDirectoryFromNode(dag, nd)
		if err != nil {
			return nil, fmt.Errorf("the base's %s/: %w", dir, err)
		}
		err = bd.ForEachLink(ctx, func(l *ipld.Link) error {
			full := path.Join(dir, l.Name)
			switch {
			case p.removes[full]:
				p.removed[full] = true
			case p.hasFile(full):
				// The change's file replaces it, below.
			case p.touched[full]:
				child, err := l.GetNode(ctx, dag)
				if err != nil {
					return fmt.Errorf("the base's %s: %w", full, err)
				}
				if _, err := uio.NewDirectoryFromNode(dag, child); err != nil {
					child = nil // a file the change puts a directory in place of
				}
				sub, err := p.dir(ctx, dag, child, full)
				if err != nil {
					return err
				}
				if sub != nil {
					entries[l.Name] = sub
				}
			default:
				entries[l.Name] = &importer.Known{Cid: l.Cid, Tsize: l.Size}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for name := range p.children[dir] {
		full := path.Join(dir, name)
		if data, ok := p.files[full]; ok {
			entries[name] = files.NewBytesFile(data)
			continue
		}
		if _, done := entries[name]; done || !p.touched[full] || p.removes[full] {
			continue
		}
		sub, err := p.dir(ctx, dag, nil, full)
		if err != nil {
			return nil, err
		}
		if sub != nil {
			entries[name] = sub
		}
	}
	if len(entries) == 0 {
		return nil, nil
	}
	return files.NewMapDirectory(entries), nil
}
