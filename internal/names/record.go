package names

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Record is a signed IPNS record that passed validation.
type Record struct {
	Name  ipns.Name
	Value path.Path
	Seq   uint64
	EOL   time.Time     // the record is refused after this instant
	TTL   time.Duration // how long resolvers may cache it
	Raw   []byte        // the exact signed bytes, to store or re-put unchanged
}

// ParseName parses an IPNS key name given as "/ipns/<key>" or "<key>" (a
// CIDv1 libp2p-key in any base, or a base58 peer ID). DNSLink domains are not
// key names: Resolve accepts those.
func ParseName(s string) (ipns.Name, error) {
	raw := strings.TrimPrefix(strings.TrimSpace(s), ipns.NamespacePrefix)
	if raw == "" || strings.Contains(raw, "/") {
		return ipns.Name{}, fmt.Errorf("names: %q is not an IPNS name: want /ipns/<key> or <key>", s)
	}
	n, err := ipns.NameFromString(raw)
	if err != nil {
		return ipns.Name{}, fmt.Errorf("names: %q is not an IPNS name: %w", s, err)
	}
	return n, nil
}

// CheckRecord validates data as an IPNS record for name, following the IPNS
// spec: size limit, V2 signature by the name's key (embedded keys must match
// the name), CBOR data matching the V1 protobuf fields, EOL in the future.
//
// An error is a *RecordError. For an expired record the returned Record is
// still filled in, because its signature was verified before its EOL was
// checked: callers may trust its sequence number and value (to publish above
// it, or re-sign it) but must not serve it.
func CheckRecord(name ipns.Name, data []byte) (Record, error) {
	n := name.String()
	rec, err := ipns.UnmarshalRecord(data)
	if errors.Is(err, ipns.ErrRecordSize) {
		return Record{}, recordErr(n, ErrMalformed, err,
			"record for %s is %d bytes, more than the %d-byte limit", n, len(data), ipns.MaxRecordSize)
	}
	if err != nil {
		return Record{}, recordErr(n, ErrMalformed, err,
			"record for %s is malformed: it does not decode as a signed IPNS record (%s)", n, strings.ReplaceAll(err.Error(), "\n", ": "))
	}
	pk, err := ipns.ExtractPublicKey(rec, name)
	if errors.Is(err, ipns.ErrPublicKeyMismatch) {
		signer := "an unknown key"
		if epk, perr := rec.PubKey(); perr == nil {
			if pid, ierr := peer.IDFromPublicKey(epk); ierr == nil {
				signer = ipns.NameFromPeer(pid).String()
			}
		}
		return Record{}, recordErr(n, ErrWrongKey, err, "record for %s is signed by another key (%s)", n, signer)
	}
	if err != nil {
		return Record{}, recordErr(n, ErrMalformed, err, "record for %s carries no usable public key: %v", n, err)
	}

	verr := ipns.Validate(rec, pk)
	if verr != nil && !errors.Is(verr, ipns.ErrExpiredRecord) {
		if errors.Is(verr, ipns.ErrSignature) {
			return Record{}, recordErr(n, ErrBadSignature, verr,
				"record for %s has a signature that does not verify against the name's key (forged or corrupted)", n)
		}
		return Record{}, recordErr(n, ErrMalformed, verr, "record for %s is malformed: %v", n, verr)
	}

	// From here on the signature is good, so the fields are the author's.
	out := Record{Name: name, Raw: data}
	if out.Seq, err = rec.Sequence(); err != nil {
		return Record{}, recordErr(n, ErrMalformed, err, "record for %s has no sequence number: %v", n, err)
	}
	if out.EOL, err = rec.Validity(); err != nil {
		return Record{}, recordErr(n, ErrMalformed, err, "record for %s has no validity: %v", n, err)
	}
	if ttl, err := rec.TTL(); err == nil {
		out.TTL = ttl
	}
	if out.Value, err = rec.Value(); err != nil {
		return Record{}, recordErr(n, ErrMalformed, err, "record for %s has a value that is not a content path: %v", n, err)
	}
	if verr != nil {
		return out, recordErr(n, ErrExpired, verr, "record for %s expired at %s", n, out.EOL.UTC().Format(time.RFC3339))
	}
	return out, nil
}

// newer reports whether a is a better record than b: higher sequence, or the
// same sequence and a later EOL (the order boxo's validator selects by).
func newer(a, b Record) bool {
	if a.Seq != b.Seq {
		return a.Seq > b.Seq
	}
	return a.EOL.After(b.EOL)
}

// lowerErr describes why incoming is refused against held.
func lowerErr(incoming, held Record) error {
	n := incoming.Name.String()
	if incoming.Seq < held.Seq {
		return recordErr(n, ErrLowerSequence, nil,
			"record sequence %d is lower than the %d already held for %s", incoming.Seq, held.Seq, n)
	}
	return recordErr(n, ErrLowerSequence, nil,
		"record sequence %d for %s equals the one held but expires earlier (%s, held %s)", incoming.Seq, n,
		incoming.EOL.UTC().Format(time.RFC3339), held.EOL.UTC().Format(time.RFC3339))
}
