package repo

import (
	"context"
	"fmt"

	"github.com/ipfs/boxo/files"
	unixfile "github.com/ipfs/boxo/ipld/unixfs/file"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Get writes the UnixFS file, directory or symlink c to dest on disk. boxo's
// writer refuses entry names that would escape dest ("..", "/"), so a hostile
// DAG cannot write outside it.
func Get(ctx context.Context, dag ipld.DAGService, c cid.Cid, dest string) error {
	nd, err := dag.Get(ctx, c)
	if err != nil {
		return fmt.Errorf("repo: get %s: %w", c, err)
	}
	f, err := unixfile.NewUnixfsFile(ctx, dag, nd)
	if err != nil {
		return fmt.Errorf("repo: get %s: %w", c, err)
	}
	defer f.Close()
	if err := files.WriteTo(f, dest); err != nil {
		return fmt.Errorf("repo: get %s into %s: %w", c, dest, err)
	}
	return nil
}
