package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/islandsite/island/internal/cidtext"
	"github.com/islandsite/island/internal/keyed"
	"github.com/islandsite/island/internal/names"
)

var (
	// ErrNoHistory means nothing was ever published as a version under a name.
	ErrNoHistory = errors.New("history: no published versions")
	// ErrTamperedHistory means a stored history entry does not verify or the
	// chain of versions is broken.
	ErrTamperedHistory = errors.New("history: entries do not verify")
)

const historyRoot = "/island/history"

// Config configures a Store.
type Config struct {
	// Datastore is the repo's root datastore (see the package doc for keys).
	Datastore datastore.Batching
	// Names publishes each version's record.
	Names  *names.System
	Logger *slog.Logger
}

// Store keeps the signed history of the sites published with this repo's
// keys and publishes their versions.
type Store struct {
	cfg Config
	log *slog.Logger
	// locks serialises read-verify-publish-append of one name's history.
	locks keyed.Mutex

	// verified are the entries this Store read and verified, per name, by
	// their stored bytes: an entry read again with the same bytes is not
	// verified again. Every publish reads the whole history (two or three
	// times), and an ed25519 verification per version made that grow with
	// the history (~4 ms per read at 100 versions). An entry whose bytes
	// changed is decoded and verified again; a new Store (the next process)
	// verifies everything once.
	verifiedMu sync.Mutex
	verified   map[string]map[string]verifiedEntry // name → datastore key → entry
}

// verifiedEntry is an entry as stored and as decoded, its signature checked.
type verifiedEntry struct {
	raw   string
	entry Entry
}

// New checks cfg and builds a Store; it starts nothing.
func New(cfg Config) (*Store, error) {
	switch {
	case cfg.Datastore == nil:
		return nil, errors.New("history: no datastore configured")
	case cfg.Names == nil:
		return nil, errors.New("history: no name system configured")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Store{cfg: cfg, log: cfg.Logger.With("system", "history")}, nil
}

// historySigDomain separates history signatures from anything else the key
// signs (IPNS records, libp2p handshakes).
const historySigDomain = "island-history-v1"

// Entry is one published version of a site, signed by the site's key so
// that a history copied elsewhere can be checked.
type Entry struct {
	Name    ipns.Name
	Version int // 1-based, in publishing order
	CID     cid.Cid
	Seq     uint64 // sequence of the IPNS record that published this version
	Time    time.Time
	Prev    cid.Cid // the version that was current before; cid.Undef for the first
	// PublicKey is set only for names that do not embed their key (RSA).
	PublicKey []byte
	Signature []byte
}

type entryJSON struct {
	Name      string    `json:"name"`
	Version   int       `json:"version"`
	CID       string    `json:"cid"`
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Prev      string    `json:"prev,omitempty"`
	PublicKey []byte    `json:"publicKey,omitempty"`
	Signature []byte    `json:"signature"`
}

// MarshalJSON writes CIDs as plain strings; it is also the stored form.
func (e Entry) MarshalJSON() ([]byte, error) {
	return json.Marshal(entryJSON{
		Name: e.Name.String(), Version: e.Version, CID: cidtext.Format(e.CID), Seq: e.Seq,
		Time: e.Time, Prev: cidtext.Format(e.Prev), PublicKey: e.PublicKey, Signature: e.Signature,
	})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (e *Entry) UnmarshalJSON(b []byte) error {
	var j entryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	name, err := ipns.NameFromString(j.Name)
	if err != nil {
		return fmt.Errorf("name: %w", err)
	}
	c, err := cid.Decode(j.CID)
	if err != nil {
		return fmt.Errorf("cid: %w", err)
	}
	prev, err := cidtext.Parse(j.Prev)
	if err != nil {
		return fmt.Errorf("prev: %w", err)
	}
	*e = Entry{Name: name, Version: j.Version, CID: c, Seq: j.Seq, Time: j.Time, Prev: prev,
		PublicKey: j.PublicKey, Signature: j.Signature}
	return nil
}

// signedBytes is the canonical encoding the signature covers: every field
// but the signature, NUL-separated (no field can contain a NUL).
func (e Entry) signedBytes() []byte {
	return []byte(strings.Join([]string{
		historySigDomain,
		e.Name.String(),
		strconv.Itoa(e.Version),
		cidtext.Format(e.CID),
		strconv.FormatUint(e.Seq, 10),
		e.Time.UTC().Format(time.RFC3339Nano),
		cidtext.Format(e.Prev),
		string(e.PublicKey),
	}, "\x00"))
}

// Verify checks the entry's signature against its name's key.
func (e Entry) Verify() error {
	pk, err := e.Name.Peer().ExtractPublicKey()
	if errors.Is(err, peer.ErrNoPublicKey) {
		if pk, err = crypto.UnmarshalPublicKey(e.PublicKey); err == nil {
			var pid peer.ID
			if pid, err = peer.IDFromPublicKey(pk); err == nil && pid != e.Name.Peer() {
				err = errors.New("the entry's public key is not the name's")
			}
		}
	}
	if err != nil {
		return fmt.Errorf("%w: version %d of %s: no usable key: %w", ErrTamperedHistory, e.Version, e.Name, err)
	}
	if ok, err := pk.Verify(e.signedBytes(), e.Signature); err != nil || !ok {
		return fmt.Errorf("%w: version %d of %s: signature does not verify (tampered or corrupt)",
			ErrTamperedHistory, e.Version, e.Name)
	}
	return nil
}

func (e *Entry) sign(key crypto.PrivKey) error {
	if _, err := e.Name.Peer().ExtractPublicKey(); errors.Is(err, peer.ErrNoPublicKey) {
		pub, err := crypto.MarshalPublicKey(key.GetPublic())
		if err != nil {
			return err
		}
		e.PublicKey = pub
	}
	sig, err := key.Sign(e.signedBytes())
	if err != nil {
		return err
	}
	e.Signature = sig
	return nil
}

func historyPrefix(name ipns.Name) string { return historyRoot + "/" + name.String() }

// entryKey sorts by sequence: zero-padded to the width of the largest uint64.
func entryKey(name ipns.Name, seq uint64) datastore.Key {
	return datastore.NewKey(fmt.Sprintf("%s/%020d", historyPrefix(name), seq))
}

// History lists the published versions of name, oldest first, after
// verifying every signature and that each version follows the one before.
func (s *Store) History(ctx context.Context, name string) ([]Entry, error) {
	n, err := names.ParseName(name)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return s.history(ctx, n)
}

func (s *Store) history(ctx context.Context, n ipns.Name) ([]Entry, error) {
	res, err := s.cfg.Datastore.Query(ctx, query.Query{Prefix: historyPrefix(n)})
	if err != nil {
		return nil, fmt.Errorf("history: read history of %s: %w", n, err)
	}
	all, err := res.Rest()
	if err != nil {
		return nil, fmt.Errorf("history: read history of %s: %w", n, err)
	}
	slices.SortFunc(all, func(a, b query.Entry) int { return strings.Compare(a.Key, b.Key) })
	s.verifiedMu.Lock()
	known := s.verified[n.String()]
	s.verifiedMu.Unlock()
	entries := make([]Entry, 0, len(all))
	signed := make([]bool, len(all))
	for i, kv := range all {
		if v, ok := known[kv.Key]; ok && v.raw == string(kv.Value) {
			entries, signed[i] = append(entries, v.entry), true
			continue
		}
		var e Entry
		if err := json.Unmarshal(kv.Value, &e); err != nil {
			return nil, fmt.Errorf("%w: entry %s cannot be read: %w", ErrTamperedHistory, kv.Key, err)
		}
		if !e.Name.Equal(n) || kv.Key != entryKey(n, e.Seq).String() {
			return nil, fmt.Errorf("%w: entry %s is filed under the wrong name or sequence", ErrTamperedHistory, kv.Key)
		}
		entries = append(entries, e)
	}
	if err := verifyChain(n, entries, signed); err != nil {
		return nil, err
	}
	now := make(map[string]verifiedEntry, len(all))
	for i, kv := range all {
		now[kv.Key] = verifiedEntry{raw: string(kv.Value), entry: entries[i]}
	}
	s.verifiedMu.Lock()
	if s.verified == nil {
		s.verified = map[string]map[string]verifiedEntry{}
	}
	s.verified[n.String()] = now
	s.verifiedMu.Unlock()
	return entries, nil
}

// verifyChain checks that entries are n's versions 1, 2, … in order, each
// signed by n's key, each following the one before, at rising sequences.
// The signatures of the entries signed says were verified already are not
// checked again (nil: check every one).
func verifyChain(n ipns.Name, entries []Entry, signed []bool) error {
	for i, e := range entries {
		switch {
		case !e.Name.Equal(n):
			return fmt.Errorf("%w: version %d is of %s, not %s", ErrTamperedHistory, e.Version, e.Name, n)
		case e.Version != i+1:
			return fmt.Errorf("%w: %s has version %d where version %d belongs (an entry is missing or was added)",
				ErrTamperedHistory, n, e.Version, i+1)
		}
		if signed == nil || !signed[i] {
			if err := e.Verify(); err != nil {
				return err
			}
		}
		if i > 0 && (!e.Prev.Equals(entries[i-1].CID) || e.Seq <= entries[i-1].Seq) {
			return fmt.Errorf("%w: version %d of %s says it followed %s at sequence %d, but version %d was %s at %d",
				ErrTamperedHistory, e.Version, n, cidtext.Format(e.Prev), e.Seq, i, entries[i-1].CID, entries[i-1].Seq)
		}
	}
	return nil
}

// ErrHistoryConflict means an imported history and the one held for the
// same name went different ways.
var ErrHistoryConflict = errors.New("history: histories differ")

// Import adds the versions of a history copied from another machine
// (Export on the old one): every entry is checked as History checks the
// held ones, and the held history must be where the imported one starts
// (the same versions, or none). It returns how many versions it added.
// The versions' content must be in the repo first: they are gc roots.
func (s *Store) Import(ctx context.Context, n ipns.Name, entries []Entry) (int, error) {
	if err := verifyChain(n, entries, nil); err != nil {
		return 0, err
	}
	unlock := s.locks.Lock(n.String())
	defer unlock()
	held, err := s.history(ctx, n)
	if err != nil {
		return 0, err
	}
	if len(held) > len(entries) {
		return 0, fmt.Errorf("%w: this repo holds %d versions of %s, the imported history %d: it is older than this one", ErrHistoryConflict, len(held), n, len(entries))
	}
	for i, h := range held {
		if e := entries[i]; !h.CID.Equals(e.CID) || h.Seq != e.Seq {
			return 0, fmt.Errorf("%w: version %d of %s is %s here and %s in the imported history; publish from one machine only", ErrHistoryConflict, i+1, n, h.CID, e.CID)
		}
	}
	added := entries[len(held):]
	for _, e := range added {
		b, err := json.Marshal(e)
		if err != nil {
			return 0, fmt.Errorf("history: encode version %d of %s: %w", e.Version, n, err)
		}
		if err := s.cfg.Datastore.Put(ctx, entryKey(n, e.Seq), b); err != nil {
			return 0, fmt.Errorf("history: store version %d of %s: %w", e.Version, n, err)
		}
	}
	// One sync for them all: an import cut short leaves a prefix of the
	// history, which an import of the same file completes.
	if err := s.cfg.Datastore.Sync(ctx, datastore.NewKey(historyPrefix(n))); err != nil {
		return 0, fmt.Errorf("history: store the history of %s: %w", n, err)
	}
	return len(added), nil
}

// Current is the latest published version of name.
func (s *Store) Current(ctx context.Context, name string) (Entry, error) {
	n, err := names.ParseName(name)
	if err != nil {
		return Entry{}, fmt.Errorf("history: %w", err)
	}
	entries, err := s.history(ctx, n)
	if err != nil {
		return Entry{}, err
	}
	if len(entries) == 0 {
		return Entry{}, fmt.Errorf("%w under %s", ErrNoHistory, n)
	}
	return entries[len(entries)-1], nil
}

// PublishVersion publishes /ipfs/c under key's name and appends a signed
// history entry. Publishing the current CID again refreshes the record (new
// sequence, new EOL) without adding an entry. As with names.System.Publish,
// an error wrapping names.ErrRoutingPut comes with a valid entry: the
// version is published locally and recorded.
func (s *Store) PublishVersion(ctx context.Context, key crypto.PrivKey, c cid.Cid) (Entry, error) {
	n, entries, unlock, err := s.lockHistory(ctx, key)
	if err != nil {
		return Entry{}, err
	}
	defer unlock()
	return s.appendVersion(ctx, key, n, entries, c)
}

// lockHistory takes the history lock of key's name and reads its verified
// history; on success the caller must unlock.
func (s *Store) lockHistory(ctx context.Context, key crypto.PrivKey) (ipns.Name, []Entry, func(), error) {
	pid, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return ipns.Name{}, nil, nil, fmt.Errorf("history: key: %w", err)
	}
	n := ipns.NameFromPeer(pid)
	unlock := s.locks.Lock(n.String())
	entries, err := s.history(ctx, n)
	if err != nil {
		unlock()
		return ipns.Name{}, nil, nil, err
	}
	return n, entries, unlock, nil
}

// appendVersion publishes c and records it after entries; the caller holds
// the history lock of n.
func (s *Store) appendVersion(ctx context.Context, key crypto.PrivKey, n ipns.Name, entries []Entry, c cid.Cid) (Entry, error) {
	if !c.Defined() {
		return Entry{}, errors.New("history: publish version: undefined CID")
	}
	var opts []names.PublishOption
	if len(entries) > 0 {
		// Above every version: on a machine the history was imported to,
		// no record of the name may be held yet.
		opts = append(opts, names.AboveSequence(entries[len(entries)-1].Seq))
	}
	rec, perr := s.cfg.Names.Publish(ctx, key, path.FromCid(c), opts...)
	if perr != nil && !errors.Is(perr, names.ErrRoutingPut) {
		return Entry{}, fmt.Errorf("history: %w", perr)
	}
	// A failed put is passed on as names said it: the caller reports it as a
	// warning about the record, not as a failure of the history.
	e := Entry{Name: n, Version: 1, CID: c, Seq: rec.Seq, Time: time.Now().UTC().Round(0)}
	if len(entries) > 0 {
		cur := entries[len(entries)-1]
		if cur.CID.Equals(c) {
			return cur, perr
		}
		e.Version, e.Prev = cur.Version+1, cur.CID
	}
	if err := e.sign(key); err != nil {
		return Entry{}, fmt.Errorf("history: sign version %d of %s: %w", e.Version, n, err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return Entry{}, fmt.Errorf("history: encode version %d of %s: %w", e.Version, n, err)
	}
	k := entryKey(n, e.Seq)
	if err := s.cfg.Datastore.Put(ctx, k, b); err != nil {
		return Entry{}, fmt.Errorf("history: store version %d of %s: %w", e.Version, n, err)
	}
	if err := s.cfg.Datastore.Sync(ctx, k); err != nil {
		return Entry{}, fmt.Errorf("history: store version %d of %s: %w", e.Version, n, err)
	}
	s.log.Info("recorded version", "name", n.String(), "version", e.Version, "cid", c.String(), "seq", e.Seq)
	return e, perr
}

// Rollback republishes an older version of key's site under a new, higher
// sequence number and records it as a new version whose Prev is the one it
// replaces. version 0 means the one before the current.
func (s *Store) Rollback(ctx context.Context, key crypto.PrivKey, version int) (Entry, error) {
	n, entries, unlock, err := s.lockHistory(ctx, key)
	if err != nil {
		return Entry{}, err
	}
	defer unlock()
	if len(entries) == 0 {
		return Entry{}, fmt.Errorf("%w under %s: nothing to roll back to", ErrNoHistory, n)
	}
	cur := entries[len(entries)-1]
	if version == 0 {
		version = cur.Version - 1
	}
	if version < 1 || version > len(entries) {
		return Entry{}, fmt.Errorf("history: rollback %s: no version %d (there are versions 1 to %d)", n, version, len(entries))
	}
	target := entries[version-1]
	if target.CID.Equals(cur.CID) {
		return Entry{}, fmt.Errorf("history: rollback %s: version %d (%s) is already the current content", n, version, target.CID)
	}
	return s.appendVersion(ctx, key, n, entries, target.CID)
}

// Roots lists every CID in every site history (each version and its Prev):
// a gc root set. It does not verify signatures, so that a damaged entry still
// keeps its content.
func (s *Store) Roots(ctx context.Context) ([]cid.Cid, error) {
	res, err := s.cfg.Datastore.Query(ctx, query.Query{Prefix: historyRoot})
	if err != nil {
		return nil, fmt.Errorf("history: roots: %w", err)
	}
	defer res.Close()
	seen := make(map[cid.Cid]struct{})
	var out []cid.Cid
	add := func(c cid.Cid) {
		if _, ok := seen[c]; c.Defined() && !ok {
			seen[c] = struct{}{}
			out = append(out, c)
		}
	}
	for r := range res.Next() {
		if r.Error != nil {
			return nil, fmt.Errorf("history: roots: %w", r.Error)
		}
		var e entryJSON
		if err := json.Unmarshal(r.Value, &e); err != nil {
			s.log.Warn("unreadable history entry", "key", r.Key, "err", err)
			continue
		}
		for _, str := range []string{e.CID, e.Prev} {
			if c, err := cidtext.Parse(str); err == nil {
				add(c)
			}
		}
	}
	return out, nil
}
