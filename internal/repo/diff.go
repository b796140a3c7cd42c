package repo

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Change is one file (or symlink) that differs between two trees.
type Change struct {
	// Path is relative to the trees' roots, "/"-separated.
	Path string
	// Kind is "added", "changed" or "removed".
	Kind string
	// Size is the file's length in the newer tree (the older one for a
	// removed file), in bytes.
	Size uint64
}

// Change kinds.
const (
	Added   = "added"
	Changed = "changed"
	Removed = "removed"
)

// DiffResult is what changed from one UnixFS tree to another, counted per
// file; directories count only through the files in them.
type DiffResult struct {
	Added, Changed, Removed int
	// BytesAdded counts the bytes of added files and of changed files'
	// new contents; BytesRemoved those of removed files and of changed
	// files' old contents.
	BytesAdded, BytesRemoved uint64
	// Pages counts the HTML files (.html, .htm) among them, by kind.
	Pages map[string]int
	// Changes lists the first of the changed files, in path order within
	// each directory; Truncated says there were more than the limit.
	Changes   []Change
	Truncated bool
}

// Diff compares the UnixFS trees from and to, reading their blocks from
// dag. Subtrees with the same CID are skipped without reading them, so the
// work grows with what changed, not with the trees. At most limit changes
// are listed (all are counted); visiting more than maxNodes entries is an
// error, so a huge change cannot keep the caller busy without end.
func Diff(ctx context.Context, dag ipld.DAGService, from, to cid.Cid, limit, maxNodes int) (DiffResult, error) {
	d := differ{dag: dag, limit: limit, budget: maxNodes, max: maxNodes, out: DiffResult{Pages: map[string]int{}}}
	if err := d.compare(ctx, "", from, to); err != nil {
		return DiffResult{}, fmt.Errorf("repo: diff %s %s: %w", from, to, err)
	}
	return d.out, nil
}

type differ struct {
	dag    ipld.DAGService
	limit  int
	budget int
	max    int
	out    DiffResult
}

func (d *differ) spend() error {
	d.budget--
	if d.budget < 0 {
		return fmt.Errorf("more entries changed than the %d a diff reads", d.max)
	}
	return nil
}

// compare compares two entries at p; an undefined CID is a missing side.
func (d *differ) compare(ctx context.Context, p string, a, b cid.Cid) error {
	if a.Defined() && b.Defined() && a.Equals(b) {
		return nil
	}
	if err := d.spend(); err != nil {
		return err
	}
	ea, err := d.list(ctx, a)
	if err != nil {
		return err
	}
	eb, err := d.list(ctx, b)
	if err != nil {
		return err
	}
	// A missing side is an empty directory next to a directory: all its
	// files come, or all go.
	if !a.Defined() && eb.dir {
		ea.dir = true
	}
	if !b.Defined() && ea.dir {
		eb.dir = true
	}
	switch {
	case ea.dir && eb.dir:
		byName := map[string]cid.Cid{}
		for _, e := range ea.entries {
			byName[e.Name] = e.Cid
		}
		for _, e := range eb.entries {
			if err := d.compare(ctx, path.Join(p, e.Name), byName[e.Name], e.Cid); err != nil {
				return err
			}
			delete(byName, e.Name)
		}
		for _, e := range ea.entries {
			if old, ok := byName[e.Name]; ok {
				if err := d.compare(ctx, path.Join(p, e.Name), old, cid.Undef); err != nil {
					return err
				}
			}
		}
		return nil
	case ea.dir || eb.dir:
		// A directory replaced by a file or the other way round: all of
		// one side goes, all of the other comes.
		if err := d.compare(ctx, p, a, cid.Undef); err != nil {
			return err
		}
		return d.compare(ctx, p, cid.Undef, b)
	case a.Defined() && b.Defined():
		d.note(Change{Path: p, Kind: Changed, Size: eb.size})
		d.out.Changed++
		d.out.BytesAdded += eb.size
		d.out.BytesRemoved += ea.size
	case b.Defined():
		d.note(Change{Path: p, Kind: Added, Size: eb.size})
		d.out.Added++
		d.out.BytesAdded += eb.size
	case a.Defined():
		d.note(Change{Path: p, Kind: Removed, Size: ea.size})
		d.out.Removed++
		d.out.BytesRemoved += ea.size
	}
	return nil
}

func (d *differ) note(c Change) {
	c.Path = strings.TrimPrefix(c.Path, "/")
	if ext := strings.ToLower(path.Ext(c.Path)); ext == ".html" || ext == ".htm" {
		d.out.Pages[c.Kind]++
	}
	if len(d.out.Changes) < d.limit {
		d.out.Changes = append(d.out.Changes, c)
		return
	}
	d.out.Truncated = true
}

// side is one entry of a comparison: a directory's entries, or a file's size.
type side struct {
	dir     bool
	entries []DirEntry
	size    uint64
}

func (d *differ) list(ctx context.Context, c cid.Cid) (side, error) {
	if !c.Defined() {
		return side{}, nil
	}
	es, err := List(ctx, d.dag, c)
	if err != nil {
		return side{}, err
	}
	if len(es) == 1 && es[0].Name == "" && es[0].Type != TypeDirectory {
		return side{size: es[0].Size}, nil
	}
	return side{dir: true, entries: es}, nil
}
