package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ipfs/boxo/ipns"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/codec/dagjson"
	"github.com/ipld/go-ipld-prime/datamodel"
	"github.com/ipld/go-ipld-prime/fluent/qp"
	cidlink "github.com/ipld/go-ipld-prime/linking/cid"
	"github.com/ipld/go-ipld-prime/node/basicnode"
	mh "github.com/multiformats/go-multihash"
)

// ManifestFormat names the form of a history export's root block.
const ManifestFormat = "island-history/v1"

// maxManifestBytes bounds a manifest read from a file: about 8,000
// versions, far more than a person publishes.
const maxManifestBytes = 4 << 20

// ErrBadManifest means a history export's root is not a manifest.
var ErrBadManifest = errors.New("history: not a history export")

// Manifest is the root block of a history export: a dag-json map
//
//	{"format": "island-history/v1", "name": "k51…", "record": <bytes>,
//	 "versions": [{"entry": "<signed entry, JSON>", "content": <link>}, …]}
//
// Each version links to its content, so the export, a CAR of the
// manifest's DAG, holds every version's blocks too: Kubo's `dag import`
// reads it, and `island history import` checks each signed entry, the
// chain of versions and each link against its entry. record is the signed
// IPNS record of the name held when exporting, if any.
func Manifest(n ipns.Name, entries []Entry, record []byte) (blocks.Block, error) {
	var encErr error
	nd, err := qp.BuildMap(basicnode.Prototype.Any, -1, func(ma datamodel.MapAssembler) {
		qp.MapEntry(ma, "format", qp.String(ManifestFormat))
		qp.MapEntry(ma, "name", qp.String(n.String()))
		if record != nil {
			qp.MapEntry(ma, "record", qp.Bytes(record))
		}
		qp.MapEntry(ma, "versions", qp.List(int64(len(entries)), func(la datamodel.ListAssembler) {
			for _, e := range entries {
				b, err := json.Marshal(e)
				if err != nil {
					encErr = err
					return
				}
				qp.ListEntry(la, qp.Map(2, func(ma datamodel.MapAssembler) {
					qp.MapEntry(ma, "entry", qp.String(string(b)))
					qp.MapEntry(ma, "content", qp.Link(cidlink.Link{Cid: e.CID}))
				}))
			}
		}))
	})
	if err == nil {
		err = encErr
	}
	if err != nil {
		return nil, fmt.Errorf("history: manifest of %s: %w", n, err)
	}
	var buf bytes.Buffer
	if err := dagjson.Encode(nd, &buf); err != nil {
		return nil, fmt.Errorf("history: manifest of %s: %w", n, err)
	}
	c, err := cid.Prefix{Version: 1, Codec: cid.DagJSON, MhType: mh.SHA2_256, MhLength: -1}.Sum(buf.Bytes())
	if err != nil {
		return nil, err
	}
	return blocks.NewBlockWithCid(buf.Bytes(), c)
}

// ReadManifest reads what Manifest wrote: the name, its versions (not yet
// verified: Import does that) and the record, if any.
func ReadManifest(b blocks.Block) (ipns.Name, []Entry, []byte, error) {
	fail := func(format string, args ...any) (ipns.Name, []Entry, []byte, error) {
		return ipns.Name{}, nil, nil, fmt.Errorf("%w: %s: %s", ErrBadManifest, b.Cid(), fmt.Sprintf(format, args...))
	}
	if b.Cid().Prefix().Codec != cid.DagJSON || len(b.RawData()) > maxManifestBytes {
		return fail("its root is not a dag-json manifest of at most %d bytes", maxManifestBytes)
	}
	nb := basicnode.Prototype.Any.NewBuilder()
	if err := dagjson.Decode(nb, bytes.NewReader(b.RawData())); err != nil {
		return fail("%v", err)
	}
	nd := nb.Build()
	str := func(nd datamodel.Node, key string) (string, error) {
		v, err := nd.LookupByString(key)
		if err != nil {
			return "", err
		}
		return v.AsString()
	}
	if f, err := str(nd, "format"); err != nil || f != ManifestFormat {
		return fail("format is not %q", ManifestFormat)
	}
	ns, err := str(nd, "name")
	if err != nil {
		return fail("no name")
	}
	n, err := ipns.NameFromString(ns)
	if err != nil {
		return fail("name %q: %v", ns, err)
	}
	var record []byte
	if r, err := nd.LookupByString("record"); err == nil {
		if record, err = r.AsBytes(); err != nil {
			return fail("record: %v", err)
		}
	}
	vs, err := nd.LookupByString("versions")
	if err != nil || vs.Kind() != datamodel.Kind_List {
		return fail("no list of versions")
	}
	var entries []Entry
	it := vs.ListIterator()
	for !it.Done() {
		i, v, err := it.Next()
		if err != nil {
			return fail("version %d: %v", i+1, err)
		}
		js, err := str(v, "entry")
		if err != nil {
			return fail("version %d: no entry", i+1)
		}
		var e Entry
		if err := json.Unmarshal([]byte(js), &e); err != nil {
			return fail("version %d: %v", i+1, err)
		}
		l, err := v.LookupByString("content")
		if err != nil {
			return fail("version %d: no content link", i+1)
		}
		link, err := l.AsLink()
		if err != nil {
			return fail("version %d: content: %v", i+1, err)
		}
		cl, ok := link.(cidlink.Link)
		if !ok || !cl.Cid.Equals(e.CID) {
			return fail("version %d links to %s, not to its entry's %s", i+1, link, e.CID)
		}
		entries = append(entries, e)
	}
	return n, entries, record, nil
}
