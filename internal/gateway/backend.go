package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/miekg/dns"
)

// statusBackend gives errors the status they deserve where boxo's blocks
// backend does not: it answers 500 for any failure to resolve /ipns/NAME,
// but a malformed name is the client's error (400) and a name nobody
// published is not found (404); and it starts a CAR response before it has
// the first block, so a missing root ends as a reset connection, not 504.
type statusBackend struct {
	gateway.IPFSBackend
	blocks blockservice.BlockService
	guard  func(context.Context) context.Context // Config.Guard
}

// guarded gives err, when the request's guard (Config.Guard) ended it, the
// guard's reason and 503.
func guarded(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	cause := context.Cause(ctx)
	if errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		return err
	}
	return gateway.NewErrorStatusCode(cause, http.StatusServiceUnavailable)
}

// Get, under a guard, fetches a file's first data block before boxo sends
// the status line: a file whose data cannot come past a relay then
// answers 503 with the reason rather than 200 and a truncated body.
func (b *statusBackend) Get(ctx context.Context, p path.ImmutablePath, r ...gateway.ByteRange) (gateway.ContentPathMetadata, *gateway.GetResponse, error) {
	if b.guard != nil && len(r) == 0 {
		if md, err := b.firstDataBlock(ctx, p); err != nil && ctx.Err() != nil {
			return md, nil, guarded(ctx, err)
		}
	}
	md, resp, err := b.IPFSBackend.Get(ctx, p, r...)
	return md, resp, guarded(ctx, err)
}

// maxFileDepth bounds the descent to a file's first leaf (UnixFS files of
// any size are a few levels deep).
const maxFileDepth = 16

// firstDataBlock fetches the blocks from the UnixFS file at p down to its
// first leaf; for anything but a file, only the root.
func (b *statusBackend) firstDataBlock(ctx context.Context, p path.ImmutablePath) (gateway.ContentPathMetadata, error) {
	md, err := b.IPFSBackend.ResolvePath(ctx, p)
	if err != nil {
		return md, err
	}
	dag := merkledag.NewDAGService(b.blocks)
	c := md.LastSegment.RootCid()
	for range maxFileDepth {
		nd, err := dag.Get(ctx, c)
		if err != nil {
			return md, err
		}
		pb, ok := nd.(*merkledag.ProtoNode)
		if !ok || len(pb.Links()) == 0 {
			return md, nil
		}
		if fsn, err := unixfs.FSNodeFromBytes(pb.Data()); err != nil || fsn.Type() != unixfs.TFile {
			return md, nil
		}
		c = pb.Links()[0].Cid
	}
	return md, nil
}

func (b *statusBackend) GetAll(ctx context.Context, p path.ImmutablePath) (gateway.ContentPathMetadata, files.Node, error) {
	md, nd, err := b.IPFSBackend.GetAll(ctx, p)
	return md, nd, guarded(ctx, err)
}

func (b *statusBackend) GetBlock(ctx context.Context, p path.ImmutablePath) (gateway.ContentPathMetadata, files.File, error) {
	md, f, err := b.IPFSBackend.GetBlock(ctx, p)
	return md, f, guarded(ctx, err)
}

func (b *statusBackend) Head(ctx context.Context, p path.ImmutablePath) (gateway.ContentPathMetadata, *gateway.HeadResponse, error) {
	md, resp, err := b.IPFSBackend.Head(ctx, p)
	return md, resp, guarded(ctx, err)
}

func (b *statusBackend) ResolvePath(ctx context.Context, p path.ImmutablePath) (gateway.ContentPathMetadata, error) {
	md, err := b.IPFSBackend.ResolvePath(ctx, p)
	return md, guarded(ctx, err)
}

// GetCAR waits for the CAR's root block before boxo sends the status line,
// so a root that cannot be found in time answers 504.
func (b *statusBackend) GetCAR(ctx context.Context, p path.ImmutablePath, params gateway.CarParams) (gateway.ContentPathMetadata, io.ReadCloser, error) {
	md, car, err := b.IPFSBackend.GetCAR(ctx, p, params)
	if err != nil || !md.LastSegment.RootCid().Defined() {
		return md, car, guarded(ctx, err)
	}
	if _, err := b.blocks.GetBlock(ctx, md.LastSegment.RootCid()); err != nil {
		car.Close()
		return md, nil, guarded(ctx, err)
	}
	return md, car, nil
}

// WrapContextForRequest keeps boxo's per-request blockservice session (one
// bitswap session per page load), which embedding alone would hide.
// It also puts the request under the guard, if there is one.
func (b *statusBackend) WrapContextForRequest(ctx context.Context) context.Context {
	if w, ok := b.IPFSBackend.(gateway.WithContextHint); ok {
		ctx = w.WrapContextForRequest(ctx)
	}
	if b.guard != nil {
		ctx = b.guard(ctx)
	}
	return ctx
}

func (b *statusBackend) ResolveMutable(ctx context.Context, p path.Path) (path.ImmutablePath, time.Duration, time.Time, error) {
	if p.Namespace() == path.IPNSNamespace {
		if err := checkName(p.Segments()[1]); err != nil {
			return path.ImmutablePath{}, 0, time.Time{}, err
		}
	}
	ip, ttl, lastMod, err := b.IPFSBackend.ResolveMutable(ctx, p)
	return ip, ttl, lastMod, nameError(err)
}

func (b *statusBackend) GetIPNSRecord(ctx context.Context, c cid.Cid) ([]byte, error) {
	rec, err := b.IPFSBackend.GetIPNSRecord(ctx, c)
	return rec, nameError(err)
}

// checkName accepts what boxo's name system can resolve: an IPNS name or
// a domain name for DNSLink.
func checkName(name string) error {
	if _, err := ipns.NameFromString(name); err == nil {
		return nil
	}
	if _, ok := dns.IsDomainName(name); ok && !strings.ContainsAny(name, " \t\\") {
		if c, err := cid.Decode(name); err == nil && c.Type() != cid.Libp2pKey {
			return gateway.NewErrorStatusCode(fmt.Errorf("%s is a CID, not a name: IPNS names are libp2p-key CIDs (browse content at /ipfs/%s)", name, name), http.StatusBadRequest)
		}
		return nil
	}
	return gateway.NewErrorStatusCode(fmt.Errorf("%q is neither an IPNS name (k51…) nor a DNSLink domain", name), http.StatusBadRequest)
}

// nameError maps a resolution failure to an HTTP status. Timeouts keep
// their type, which boxo turns into 504.
func nameError(err error) error {
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, namesys.ErrResolveFailed), errors.Is(err, namesys.ErrResolveRecursion),
		errors.Is(err, routing.ErrNotFound), errors.Is(err, ipns.ErrExpiredRecord):
		return gateway.NewErrorStatusCode(err, http.StatusNotFound)
	case errors.Is(err, ipns.ErrInvalidName), errors.Is(err, ipns.ErrInvalidPath):
		return gateway.NewErrorStatusCode(err, http.StatusBadRequest)
	case errors.As(err, &dnsErr):
		// The DNS server failed us (not "no such name"): an upstream error.
		return gateway.NewErrorStatusCode(err, http.StatusBadGateway)
	}
	return err
}
