package core

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/ipfs/boxo/ipns"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/islandsite/island/internal/names"
	"github.com/islandsite/island/internal/repo"
)

// NamePublish signs a record pointing the key's name at the path, keeps it
// in the repo and, online, puts it to the DHT.
func (c *Core) NamePublish(ctx context.Context, req NamePublishRequest) (_ NamePublished, err error) {
	defer c.fail(&err, "name publish")
	p, err := parsePath(req.Path)
	if err != nil {
		return NamePublished{}, err
	}
	var opts []names.PublishOption
	if req.TTL < 0 || req.Lifetime < 0 {
		return NamePublished{}, Errorf(CodeInvalid, "TTL %s and lifetime %s must be positive", req.TTL, req.Lifetime)
	}
	if req.TTL > 0 {
		opts = append(opts, names.WithTTL(req.TTL.Std()))
	}
	if req.Lifetime > 0 {
		opts = append(opts, names.WithLifetime(req.Lifetime.Std()))
	}
	key, _, err := c.signingKey(req.Key)
	if err != nil {
		return NamePublished{}, fmt.Errorf("--key: %w", err)
	}
	if req.Resolve {
		// Refuse a path that leads nowhere: its target block must be in the
		// repo or, online, come from a peer.
		root, err := c.resolve(ctx, req.Path, req.Lookup)
		if err == nil {
			_, err = c.BlockService().GetBlock(ctx, root)
		}
		if err != nil {
			return NamePublished{}, Errorf(classify(err), "%s does not resolve (--resolve=false publishes it anyway): %w", p, err)
		}
	}
	rec, err := c.names.Publish(ctx, key, p, opts...)
	warning, err := c.routingPutWarning(err, "name publish")
	if err != nil {
		return NamePublished{}, err
	}
	out := NamePublished{Record: toRecord(rec), Warning: warning}
	if c.node == nil {
		out.Notes = append(out.Notes, c.offlineHint(
			"no node is running: the record is in the repo; 'island daemon' puts it to the DHT when it starts",
			"the daemon runs --offline: the record is in the repo; the daemon puts it to the DHT when it next runs online"))
	}
	return out, nil
}

func toRecord(rec names.Record) Record {
	out := Record{Name: rec.Name.String(), Value: rec.Value.String(), Seq: rec.Seq, EOL: rec.EOL.UTC()}
	if rec.TTL > 0 {
		out.TTL = rec.TTL.String()
	}
	return out
}

// NameResolve resolves a name, with the request's DNSLink overrides.
func (c *Core) NameResolve(ctx context.Context, req NameResolveRequest) (_ Resolved, err error) {
	defer c.fail(&err, "name resolve")
	res, err := c.names.Resolve(names.WithNSMap(ctx, req.NSMap), req.Name)
	if errors.Is(err, names.ErrNotFound) && c.node == nil {
		return Resolved{}, fmt.Errorf("%w%s", err, c.offlineHint(
			" (no node is running, so only records in the repo count: start 'island daemon' to look in the DHT)",
			" (the daemon runs --offline, so only records in the repo count)"))
	}
	if err != nil {
		return Resolved{}, err
	}
	out := Resolved{Path: res.Path.String()}
	if res.Record != nil {
		eol := res.EOL.UTC()
		out.Name, out.Seq, out.EOL = res.Name.String(), res.Seq, &eol
	}
	if res.TTL > 0 {
		out.TTL = res.TTL.String()
	}
	return out, nil
}

// routingName checks a routing key: island stores IPNS records only.
func routingName(s string) error {
	if !strings.HasPrefix(s, ipns.NamespacePrefix) {
		return Errorf(CodeInvalid, "key %q: want /ipns/NAME (island stores IPNS records only)", s)
	}
	if _, err := names.ParseName(s); err != nil {
		return &Error{Code: CodeInvalid, Message: err.Error(), Err: err}
	}
	return nil
}

// RoutingPut validates a record made elsewhere and keeps its bytes.
func (c *Core) RoutingPut(ctx context.Context, req RoutingPutRequest) (_ RecordStored, err error) {
	defer c.fail(&err, "routing put")
	if err := routingName(req.Name); err != nil {
		return RecordStored{}, err
	}
	if len(req.Record) > ipns.MaxRecordSize {
		return RecordStored{}, Errorf(CodeRefused, "refused: an IPNS record has at most %d bytes, this one has more", ipns.MaxRecordSize)
	}
	rec, err := c.names.PutRecord(ctx, req.Name, req.Record)
	if err != nil && !errors.Is(err, names.ErrRoutingPut) {
		if errors.As(err, new(*names.RecordError)) {
			return RecordStored{}, fmt.Errorf("refused: %w", err)
		}
		return RecordStored{}, err
	}
	out := RecordStored{Record: toRecord(rec)}
	if err != nil {
		out.Warning = notPut(err, "run routing put again once the node has peers")
	}
	return out, nil
}

// RoutingGet returns the best record's signed bytes.
func (c *Core) RoutingGet(ctx context.Context, req RoutingGetRequest) (_ []byte, err error) {
	defer c.fail(&err, "routing get")
	if err := routingName(req.Name); err != nil {
		return nil, err
	}
	return c.names.Record(ctx, req.Name)
}

// ipnsName is the IPNS name (k51…) that key signs records for.
func ipnsName(key crypto.PrivKey) (string, error) {
	pid, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("key: %w", err)
	}
	return ipns.NameFromPeer(pid).String(), nil
}

// keyByName returns the key called name ("self" is the node's identity),
// or the key whose IPNS name is name, as Kubo's --key accepts both.
func (c *Core) keyByName(name string) (crypto.PrivKey, error) {
	if name == repo.SelfKey {
		return c.repo.Identity(), nil
	}
	k, err := c.repo.Keys().Get(name)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, repo.ErrNoSuchKey) {
		return nil, err
	}
	if n, perr := ipns.NameFromString(name); perr == nil {
		keys, err := c.allKeys()
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			if k.ID == n.String() {
				return c.keyByName(k.Name)
			}
		}
		return nil, Errorf(CodeNotFound, "no key signs %s (see 'island key ls')", n)
	}
	return nil, &Error{Code: CodeNotFound, Err: repo.ErrNoSuchKey,
		Message: fmt.Sprintf("no key named %q (see 'island key ls'; create one with 'island key gen %s')", name, name)}
}

// allKeys lists the keys, self first.
func (c *Core) allKeys() ([]Key, error) {
	ns, err := c.repo.Keys().List()
	if err != nil {
		return nil, err
	}
	self, err := ipnsName(c.repo.Identity())
	if err != nil {
		return nil, err
	}
	out := []Key{{Name: repo.SelfKey, ID: self}}
	for _, n := range ns {
		if n == repo.SelfKey {
			continue
		}
		k, err := c.repo.Keys().Get(n)
		if err != nil {
			return nil, err
		}
		id, err := ipnsName(k)
		if err != nil {
			return nil, err
		}
		out = append(out, Key{Name: n, ID: id})
	}
	return out, nil
}

// KeyGen creates an Ed25519 key.
func (c *Core) KeyGen(ctx context.Context, req KeyRequest) (_ Key, err error) {
	defer c.fail(&err, "key gen")
	k, err := c.repo.Keys().Generate(req.Name)
	if errors.Is(err, repo.ErrKeyExists) {
		return Key{}, Errorf(CodeConflict, "a key named %q already exists (see 'island key ls')", req.Name)
	}
	if err != nil {
		return Key{}, err
	}
	id, err := ipnsName(k)
	if err != nil {
		return Key{}, err
	}
	return Key{Name: req.Name, ID: id}, nil
}

// KeyLs lists the keys, self first.
func (c *Core) KeyLs(ctx context.Context) (_ []Key, err error) {
	defer c.fail(&err, "key ls")
	return c.allKeys()
}

// KeyRm deletes a named key.
func (c *Core) KeyRm(ctx context.Context, req KeyRequest) (_ Key, err error) {
	defer c.fail(&err, "key rm")
	if req.Name == repo.SelfKey {
		return Key{}, Errorf(CodeRefused, "%q is the node's identity and cannot be removed", req.Name)
	}
	k, err := c.repo.Keys().Get(req.Name)
	if errors.Is(err, repo.ErrNoSuchKey) {
		return Key{}, Errorf(CodeNotFound, "no key named %q (see 'island key ls')", req.Name)
	}
	if err != nil {
		return Key{}, err
	}
	id, err := ipnsName(k)
	if err != nil {
		return Key{}, err
	}
	if err := c.repo.Keys().Delete(req.Name); err != nil {
		return Key{}, err
	}
	return Key{Name: req.Name, ID: id}, nil
}

// KeyExport returns a key's private key in Kubo's export format.
func (c *Core) KeyExport(ctx context.Context, req KeyRequest) (_ []byte, err error) {
	defer c.fail(&err, "key export")
	k, err := c.repo.Keys().Get(req.Name)
	if errors.Is(err, repo.ErrNoSuchKey) {
		return nil, Errorf(CodeNotFound, "no key named %q (see 'island key ls')", req.Name)
	}
	if err != nil {
		return nil, err
	}
	return crypto.MarshalPrivateKey(k)
}

// maxKeyFile bounds an imported key file: an RSA-4096 key in PEM is ~3 KiB.
const maxKeyFile = 16 << 10

// KeyImport stores an exported private key under a new name.
func (c *Core) KeyImport(ctx context.Context, req KeyImportRequest) (_ Key, err error) {
	defer c.fail(&err, "key import")
	if req.Name == repo.SelfKey {
		return Key{}, Errorf(CodeRefused, "%q is the node's own identity: import the key under another name and publish with --key NAME", req.Name)
	}
	if len(req.Key) > maxKeyFile {
		return Key{}, Errorf(CodeInvalid, "the key file is %d bytes: not a key (at most %d)", len(req.Key), maxKeyFile)
	}
	k, err := parsePrivateKey(req.Key)
	if err != nil {
		return Key{}, Errorf(CodeInvalid, "not a private key as 'key export' writes it (libp2p protobuf, or PEM PKCS #8): %v", err)
	}
	id, err := ipnsName(k)
	if err != nil {
		return Key{}, err
	}
	keys, err := c.allKeys()
	if err != nil {
		return Key{}, err
	}
	for _, have := range keys {
		if have.ID == id {
			return Key{}, Errorf(CodeConflict, "this key is here already, as %q", have.Name)
		}
	}
	if err := c.repo.Keys().Put(req.Name, k); errors.Is(err, repo.ErrKeyExists) {
		return Key{}, Errorf(CodeConflict, "a key named %q already exists (see 'island key ls')", req.Name)
	} else if err != nil {
		return Key{}, err
	}
	return Key{Name: req.Name, ID: id}, nil
}

// parsePrivateKey reads Kubo's two export formats.
func parsePrivateKey(b []byte) (crypto.PrivKey, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("PEM block %q, want PRIVATE KEY (PKCS #8)", blk.Type)
		}
		std, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, err
		}
		k, _, err := crypto.KeyPairFromStdKey(std)
		return k, err
	}
	return crypto.UnmarshalPrivateKey(b)
}
