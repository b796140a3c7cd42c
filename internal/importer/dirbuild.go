package importer

import (
	"context"

	ft "github.com/ipfs/boxo/ipld/unixfs"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	ipld "github.com/ipfs/go-ipld-format"
)

// dirBuilder makes a directory node as NewDirectory's directory does from
// the same children added in the same order, without its cost on a wide
// directory: boxo's BasicDirectory looks the name up among the links it
// holds (a linear scan, three times) on every AddChild, so a directory of
// n entries took n² string comparisons (posts/ of a 2,000-post site: ~6
// million on every publish). The importer never adds a name twice (dir
// refuses a name listed twice), so the links are only collected and the
// node made once. A directory past the HAMT threshold is left to boxo,
// given the same children in the same order.
type dirBuilder struct {
	dag   ipld.DAGService
	names []string
	nodes []ipld.Node
}

func newDirBuilder(dag ipld.DAGService) *dirBuilder { return &dirBuilder{dag: dag} }

// AddChild adds the entry name, which the directory does not hold yet.
func (d *dirBuilder) AddChild(_ context.Context, name string, nd ipld.Node) error {
	d.names = append(d.names, name)
	d.nodes = append(d.nodes, nd)
	return nil
}

// GetNode makes the directory's node.
func (d *dirBuilder) GetNode(ctx context.Context) (ipld.Node, error) {
	// The block size is what boxo compares with the threshold in this
	// estimation mode (exactly, > not >=); in another, boxo decides.
	if profile.HAMTSizeEstimation == uio.SizeEstimationBlock {
		nd := ft.EmptyDirNode()
		if err := nd.SetCidBuilder(profile.CidBuilder()); err != nil {
			return nil, err
		}
		for i, name := range d.names {
			link, err := ipld.MakeLink(d.nodes[i])
			if err != nil {
				return nil, err
			}
			if err := nd.AddRawLink(name, link); err != nil {
				return nil, err
			}
		}
		// Encoded once here; the CID reuses the encoding.
		if len(nd.RawData()) <= profile.HAMTShardingSize {
			return nd, nil
		}
	}
	dir, err := NewDirectory(d.dag)
	if err != nil {
		return nil, err
	}
	for i, name := range d.names {
		if err := dir.AddChild(ctx, name, d.nodes[i]); err != nil {
			return nil, err
		}
	}
	return dir.GetNode()
}
