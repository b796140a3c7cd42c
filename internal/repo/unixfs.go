package repo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ipfs/boxo/blockservice"
	bsfetcher "github.com/ipfs/boxo/fetcher/impl/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/boxo/path/resolver"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/ipfs/go-unixfsnode"
	dagpb "github.com/ipld/go-codec-dagpb"
)

// ParsePath reads a content path as people type it: CID[/sub/path],
// /ipfs/CID[/sub/path] or /ipns/NAME[/sub/path]. Only the /ipfs forms are
// immutable; resolving /ipns needs a name system.
func ParsePath(s string) (path.Path, error) {
	if s == "" {
		return nil, errors.New("repo: empty path; give a CID, CID/sub/path or /ipfs/CID/sub/path")
	}
	if !strings.HasPrefix(s, "/") {
		s = "/" + path.IPFSNamespace + "/" + s
	}
	p, err := path.NewPath(s)
	if err != nil {
		return nil, fmt.Errorf("repo: %q is not a content path (want CID[/sub/path], /ipfs/CID[/…] or /ipns/NAME[/…]): %w", s, err)
	}
	return p, nil
}

// Resolve follows the path's segments through UnixFS directories (HAMT
// shards included) from its root CID and returns the CID it names, using
// boxo's resolver over bserv. With an offline block service a block that is
// not stored is an ipld.ErrNotFound.
func Resolve(ctx context.Context, bserv blockservice.BlockService, p path.ImmutablePath) (cid.Cid, error) {
	cfg := bsfetcher.NewFetcherConfig(bserv)
	cfg.PrototypeChooser = dagpb.AddSupportToChooser(bsfetcher.DefaultPrototypeChooser)
	res := resolver.NewBasicResolver(cfg.WithReifier(unixfsnode.Reify))
	c, rest, err := res.ResolveToLastNode(ctx, p)
	if err != nil {
		return cid.Undef, fmt.Errorf("repo: resolve %s: %w", p, err)
	}
	if len(rest) > 0 {
		// The path goes on inside a block (dag-cbor fields): not a file.
		return cid.Undef, fmt.Errorf("repo: resolve %s: %q is inside block %s, not a file or directory", p, strings.Join(rest, "/"), c)
	}
	return c, nil
}

// Resolve resolves p against the repo alone (no peers).
func (r *Repo) Resolve(ctx context.Context, p path.Path) (cid.Cid, error) {
	ip, err := path.NewImmutablePath(p)
	if err != nil {
		return cid.Undef, fmt.Errorf("repo: %s: resolving /%s names needs a running node", p, p.Namespace())
	}
	return Resolve(ctx, r.bserv, ip)
}

// Entry kinds listed by List.
const (
	TypeFile      = "file"
	TypeDirectory = "directory"
	TypeSymlink   = "symlink"
	TypeOther     = "other"
)

// DirEntry is one entry of a UnixFS directory.
type DirEntry struct {
	Name string  `json:"name"`
	Cid  cid.Cid `json:"cid"`
	Type string  `json:"type"`
	// Size is the file's length in bytes (the target's length for a
	// symlink); 0 for a directory.
	Size uint64 `json:"size"`
}

// List returns the entries of the directory c (a plain or HAMT-sharded
// UnixFS directory) in name order, or, if c is a file or symlink, that one
// entry with an empty name.
func List(ctx context.Context, dag ipld.DAGService, c cid.Cid) ([]DirEntry, error) {
	nd, err := dag.Get(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("repo: ls %s: %w", c, err)
	}
	dir, err := uio.NewDirectoryFromNode(dag, nd)
	if errors.Is(err, uio.ErrNotADir) {
		e, err := describe(ctx, dag, "", c)
		if err != nil {
			return nil, err
		}
		return []DirEntry{e}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("repo: ls %s: %w", c, err)
	}
	var out []DirEntry
	err = dir.ForEachLink(ctx, func(l *ipld.Link) error {
		e, err := describe(ctx, dag, l.Name, l.Cid)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("repo: ls %s: %w", c, err)
	}
	// HAMT shards enumerate in hash order; people read names in order.
	sortEntries(out)
	return out, nil
}

// describe reads enough of c to say what it is and how big.
func describe(ctx context.Context, dag ipld.DAGService, name string, c cid.Cid) (DirEntry, error) {
	e := DirEntry{Name: name, Cid: c, Type: TypeFile}
	nd, err := dag.Get(ctx, c)
	if err != nil {
		return e, fmt.Errorf("repo: ls: %s: %w", name, err)
	}
	if c.Prefix().Codec == cid.Raw {
		// A raw block is a whole single-chunk file.
		e.Size = uint64(len(nd.RawData()))
		return e, nil
	}
	pn, ok := nd.(*merkledag.ProtoNode)
	if !ok {
		e.Type = TypeOther
		return e, nil
	}
	fsn, err := ft.FSNodeFromBytes(pn.Data())
	if err != nil {
		e.Type = TypeOther
		return e, nil
	}
	switch fsn.Type() {
	case ft.TDirectory, ft.THAMTShard:
		e.Type = TypeDirectory
	case ft.TSymlink:
		e.Type = TypeSymlink
		e.Size = uint64(len(fsn.Data()))
	default:
		e.Size = fsn.FileSize()
	}
	return e, nil
}

func sortEntries(es []DirEntry) {
	slices.SortFunc(es, func(a, b DirEntry) int { return strings.Compare(a.Name, b.Name) })
}

// Cat returns a reader of the file c (seekable; blocks are read as needed).
func Cat(ctx context.Context, dag ipld.DAGService, c cid.Cid) (uio.DagReader, error) {
	nd, err := dag.Get(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("repo: cat %s: %w", c, err)
	}
	rd, err := uio.NewDagReader(ctx, nd, dag)
	if errors.Is(err, uio.ErrIsDir) {
		return nil, fmt.Errorf("repo: cat %s: it is a directory; list it with ls", c)
	}
	if err != nil {
		return nil, fmt.Errorf("repo: cat %s: %w", c, err)
	}
	return rd, nil
}
