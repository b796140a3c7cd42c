package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	ipld "github.com/ipfs/go-ipld-format"
)

// HolderKind says who keeps a pin.
type HolderKind string

const (
	// HolderUser is the person at the keyboard: island add, pin add, dag
	// import. Its ID is "".
	HolderUser HolderKind = "user"
	// HolderSite is a published site version; ID is the site's IPNS name (k51…).
	HolderSite HolderKind = "site"
	// HolderFollow is a followed site; ID is the followed name (k51… or a
	// DNSLink domain).
	HolderFollow HolderKind = "follow"
	// HolderPinService is a Pinning Service API request; ID is the request ID.
	HolderPinService HolderKind = "pinsvc"
	// HolderLegacy is a pin made before holders existed; ID is the name
	// boxo's pinner stored with it.
	HolderLegacy HolderKind = "legacy"
)

// Holder is one owner of pins. A CID stays pinned while anyone holds it.
type Holder struct {
	Kind HolderKind `json:"kind"`
	ID   string     `json:"id,omitempty"`
}

// String is "kind" or "kind:id", e.g. "user", "site:k51…", "pinsvc:REQID".
func (h Holder) String() string {
	if h.ID == "" {
		return string(h.Kind)
	}
	return string(h.Kind) + ":" + h.ID
}

// ParseHolder is the inverse of Holder.String. It accepts only the form
// String gives, so one holder has one spelling (and one datastore key).
func ParseHolder(s string) (Holder, error) {
	kind, id, _ := strings.Cut(s, ":")
	h := Holder{Kind: HolderKind(kind), ID: id}
	if err := h.validate(); err != nil {
		return Holder{}, err
	}
	if h.String() != s {
		return Holder{}, fmt.Errorf("repo: holder %q: an empty ID is written without the colon", s)
	}
	return h, nil
}

func (h Holder) validate() error {
	switch h.Kind {
	case HolderUser:
		if h.ID != "" {
			return fmt.Errorf("repo: holder %q: user takes no ID", h.String())
		}
	case HolderSite:
		// The canonical form only: k51… and 12D3Koo… name one site and
		// must not make two holders.
		if n, err := ipns.NameFromString(h.ID); err != nil || n.String() != h.ID {
			return fmt.Errorf("repo: holder %q: a site's ID is its IPNS name (k51…)", h.String())
		}
	case HolderFollow, HolderPinService:
		// An empty ID is allowed while callers cannot yet name the followed
		// site or the request.
		if !isToken(h.ID) {
			return fmt.Errorf("repo: holder %q: the ID must be printable, without spaces", h.String())
		}
	case HolderLegacy:
		if h.ID == "" || !isLabel(h.ID) {
			return fmt.Errorf("repo: holder %q: the ID must be a printable, non-empty name", h.String())
		}
	default:
		return fmt.Errorf("repo: holder %q: unknown kind %q (want user, site, follow, pinsvc or legacy)", h.String(), h.Kind)
	}
	return nil
}

// isToken says whether s is printable and has no spaces: names and
// request IDs, which a person may have to type.
func isToken(s string) bool {
	return isLabel(s) && !strings.ContainsFunc(s, unicode.IsSpace)
}

// isLabel says whether s is valid UTF-8 with no control characters, so it
// prints on one line and survives JSON unchanged.
func isLabel(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) })
}

// PinMode says how much of a DAG a hold keeps.
type PinMode string

const (
	// Recursive keeps the whole DAG.
	Recursive PinMode = "recursive"
	// Direct keeps only the block itself.
	Direct PinMode = "direct"
)

func (m PinMode) valid() bool { return m == Recursive || m == Direct }

// Hold is one holder's claim on a CID.
type Hold struct {
	Holder
	Mode  PinMode   `json:"mode"`
	Since time.Time `json:"since"`
}

// Pin is a pinned CID with everyone holding it; Mode is Recursive if any
// hold is.
type Pin struct {
	CID   cid.Cid `json:"cid"`
	Mode  PinMode `json:"mode"`
	Holds []Hold  `json:"holds"`
}

// ErrNotPinned says a holder holds nothing on a CID; see NotHeldError.
var ErrNotPinned = errors.New("not pinned")

// ErrPinnedRecursively refuses a direct hold over the same holder's
// recursive one: quietly narrowing it would let gc take the rest of the DAG.
var ErrPinnedRecursively = errors.New("already pinned recursively")

// NotHeldError is Unpin's error when Holder holds nothing on CID; Holds
// are the holds others have on it (none: it is not pinned at all).
type NotHeldError struct {
	CID    cid.Cid
	Holder Holder
	Holds  []Hold
}

func (e *NotHeldError) Error() string {
	if len(e.Holds) == 0 {
		return fmt.Sprintf("%s is not pinned", e.CID)
	}
	return fmt.Sprintf("%s is not pinned by %s (held by %s)", e.CID, e.Holder, holderList(e.Holds))
}

// Is makes errors.Is(err, ErrNotPinned) true.
func (e *NotHeldError) Is(target error) bool { return target == ErrNotPinned }

type pinnedRecursivelyError struct {
	cid    cid.Cid
	holder Holder
}

func (e *pinnedRecursivelyError) Error() string {
	return fmt.Sprintf("%s is already pinned recursively by %s; pin rm it first", e.cid, e.holder)
}

func (e *pinnedRecursivelyError) Is(target error) bool { return target == ErrPinnedRecursively }

func holderList(hs []Hold) string {
	s := make([]string, len(hs))
	for i, h := range hs {
		s[i] = h.Holder.String()
	}
	return strings.Join(s, ", ")
}

// Storage: one key per (CID, holder), so a Pin or an Unpin is one key
// write and holders never contend on a shared record:
//
//	/island/pins/version                  "1" once boxo's pins are migrated
//	/island/pins/holds/<cid>/<holder>     {"mode":"recursive","since":"…"}
//
// <cid> is the CID's string form; <holder> is Holder.String escaped by
// escapeSegment. The key alone names the hold: the value carries only what
// the key cannot.
var (
	pinsVersionKey = ds.NewKey("/island/pins/version")
	holdsRoot      = ds.NewKey("/island/pins/holds")
)

const pinsVersion = "1"

func holdKey(c cid.Cid, h Holder) ds.Key {
	return holdsRoot.ChildString(c.String()).ChildString(escapeSegment(h.String()))
}

// holdValue is the stored value of a hold.
type holdValue struct {
	Mode  PinMode   `json:"mode"`
	Since time.Time `json:"since"`
}

// escapeSegment makes s a datastore key segment: no "/", and no
// cleaning by ds.NewKey can change it (a holder string starts with its
// kind, so it is never "." or ".."). Bytes outside a small safe set
// become %XX, so any ID, even one that is not UTF-8, round-trips.
func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if segmentSafe(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// unescapeSegment inverts escapeSegment and accepts only what it writes.
func unescapeSegment(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) {
				return "", errors.New("truncated escape")
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", fmt.Errorf("bad escape %q", s[i:i+3])
			}
			d := hi<<4 | lo
			if segmentSafe(d) {
				return "", fmt.Errorf("needless escape %q", s[i:i+3])
			}
			b.WriteByte(d)
			i += 2
		case segmentSafe(c):
			b.WriteByte(c)
		default:
			return "", fmt.Errorf("unescaped byte %q", c)
		}
	}
	return b.String(), nil
}

func segmentSafe(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == ':' || c == '~'
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseHold decodes one stored hold. It is strict: a key or value that
// does not decode is damage to report, never a hold to skip.
func parseHold(key string, value []byte) (cid.Cid, Hold, error) {
	rest, ok := strings.CutPrefix(key, holdsRoot.String()+"/")
	if !ok {
		return cid.Undef, Hold{}, errors.New("not a hold key")
	}
	cs, hs, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(hs, "/") {
		return cid.Undef, Hold{}, errors.New("want /<cid>/<holder>")
	}
	c, err := cid.Decode(cs)
	if err != nil || c.String() != cs {
		return cid.Undef, Hold{}, fmt.Errorf("bad CID %q", cs)
	}
	raw, err := unescapeSegment(hs)
	if err != nil {
		return cid.Undef, Hold{}, fmt.Errorf("bad holder %q: %w", hs, err)
	}
	h, err := ParseHolder(raw)
	if err != nil {
		return cid.Undef, Hold{}, err
	}
	var v holdValue
	if err := json.Unmarshal(value, &v); err != nil {
		return cid.Undef, Hold{}, fmt.Errorf("bad value: %w", err)
	}
	if !v.Mode.valid() || v.Since.IsZero() {
		return cid.Undef, Hold{}, fmt.Errorf("bad value %q", value)
	}
	return c, Hold{Holder: h, Mode: v.Mode, Since: v.Since}, nil
}

// Pin records that h holds c in mode, durably before it returns.
//
// Pin does not walk the DAG: a caller pinning recursively has just
// imported the whole DAG or checked it with CheckComplete, holding
// PinLock from before it wrote the blocks until Pin returns. Pin takes no
// PinLock itself, since its callers already do.
//
// Pinning again in the same mode changes nothing (Since stays); recursive
// over the holder's direct hold upgrades it; direct over its recursive
// hold fails with ErrPinnedRecursively.
func (r *Repo) Pin(ctx context.Context, c cid.Cid, h Holder, mode PinMode) error {
	if !c.Defined() {
		return errors.New("repo: pin: no CID")
	}
	if err := h.validate(); err != nil {
		return err
	}
	if !mode.valid() {
		return fmt.Errorf("repo: pin %s: unknown mode %q", c, mode)
	}
	k := holdKey(c, h)
	defer r.holdLocks.lock(k.String())()
	wrote, err := r.putHold(ctx, c, h, mode, false)
	if err != nil || !wrote {
		return err
	}
	if err := r.stores.root.Sync(ctx, k); err != nil {
		return fmt.Errorf("repo: pin %s: %w", c, err)
	}
	return nil
}

// putHold writes h's hold on c without syncing it, and says whether it
// wrote anything; the caller holds the hold's lock. With keepWider a
// direct hold over a recursive one is no error and keeps the recursive
// one, as the migration needs.
func (r *Repo) putHold(ctx context.Context, c cid.Cid, h Holder, mode PinMode, keepWider bool) (bool, error) {
	k := holdKey(c, h)
	since := time.Now().UTC()
	old, ok, err := r.getHold(ctx, k)
	if err != nil {
		return false, fmt.Errorf("repo: pin %s: %w", c, err)
	}
	if ok {
		switch {
		case old.Mode == mode:
			return false, nil
		case old.Mode == Recursive && keepWider:
			return false, nil
		case old.Mode == Recursive:
			return false, fmt.Errorf("repo: %w", &pinnedRecursivelyError{cid: c, holder: h})
		}
		// An upgrade: the holder has held c since then.
		since = old.Since
	}
	b, err := json.Marshal(holdValue{Mode: mode, Since: since})
	if err != nil {
		return false, fmt.Errorf("repo: pin %s: %w", c, err)
	}
	if err := r.stores.root.Put(ctx, k, b); err != nil {
		return false, fmt.Errorf("repo: pin %s: %w", c, err)
	}
	return true, nil
}

// getHold reads one hold; a damaged one is an error.
func (r *Repo) getHold(ctx context.Context, k ds.Key) (Hold, bool, error) {
	b, err := r.stores.root.Get(ctx, k)
	if errors.Is(err, ds.ErrNotFound) {
		return Hold{}, false, nil
	}
	if err != nil {
		return Hold{}, false, err
	}
	_, h, err := parseHold(k.String(), b)
	if err != nil {
		return Hold{}, false, fmt.Errorf("damaged pin record %s: %w", k, err)
	}
	return h, true, nil
}

// Unpin removes h's hold on c, leaving everyone else's, durably before it
// returns. If h holds nothing on c the error is a *NotHeldError (matching
// ErrNotPinned) naming those who do.
func (r *Repo) Unpin(ctx context.Context, c cid.Cid, h Holder) error {
	if err := h.validate(); err != nil {
		return err
	}
	k := holdKey(c, h)
	defer r.holdLocks.lock(k.String())()
	// Read first: deleting a missing key succeeds, and the caller must
	// learn that h held nothing (a wrong request ID, say).
	has, err := r.stores.root.Has(ctx, k)
	if err != nil {
		return fmt.Errorf("repo: unpin %s: %w", c, err)
	}
	if !has {
		p, _, err := r.PinOf(ctx, c)
		if err != nil {
			return err
		}
		return fmt.Errorf("repo: %w", &NotHeldError{CID: c, Holder: h, Holds: p.Holds})
	}
	if err := r.stores.root.Delete(ctx, k); err != nil {
		return fmt.Errorf("repo: unpin %s: %w", c, err)
	}
	if err := r.stores.root.Sync(ctx, k); err != nil {
		return fmt.Errorf("repo: unpin %s: %w", c, err)
	}
	return nil
}

// Pins lists every pinned CID, sorted by CID string, each with its holds
// sorted by holder. A damaged record fails the listing, naming its key:
// skipping it would let gc sweep a DAG someone holds.
func (r *Repo) Pins(ctx context.Context) ([]Pin, error) {
	return r.listPins(ctx, holdsRoot)
}

// PinOf is c's pin, if anyone holds it.
func (r *Repo) PinOf(ctx context.Context, c cid.Cid) (Pin, bool, error) {
	ps, err := r.listPins(ctx, holdsRoot.ChildString(c.String()))
	if err != nil || len(ps) == 0 {
		return Pin{}, false, err
	}
	return ps[0], true, nil
}

func (r *Repo) listPins(ctx context.Context, prefix ds.Key) ([]Pin, error) {
	res, err := r.stores.root.Query(ctx, query.Query{Prefix: prefix.String()})
	if err != nil {
		return nil, fmt.Errorf("repo: list pins: %w", err)
	}
	defer res.Close()
	byCID := map[string]*Pin{}
	var damaged []error
	for {
		e, ok := res.NextSync()
		if !ok {
			break
		}
		if e.Error != nil {
			return nil, fmt.Errorf("repo: list pins: %w", e.Error)
		}
		c, h, err := parseHold(e.Key, e.Value)
		if err != nil {
			damaged = append(damaged, fmt.Errorf("damaged pin record %s: %w", e.Key, err))
			continue
		}
		p := byCID[c.String()]
		if p == nil {
			p = &Pin{CID: c, Mode: Direct}
			byCID[c.String()] = p
		}
		p.Holds = append(p.Holds, h)
		if h.Mode == Recursive {
			p.Mode = Recursive
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(damaged) > 0 {
		return nil, fmt.Errorf("repo: list pins: %w", errors.Join(damaged...))
	}
	out := make([]Pin, 0, len(byCID))
	for _, k := range slices.Sorted(maps.Keys(byCID)) {
		p := byCID[k]
		slices.SortFunc(p.Holds, func(a, b Hold) int { return strings.Compare(a.Holder.String(), b.Holder.String()) })
		out = append(out, *p)
	}
	return out, nil
}

// CheckComplete says whether c's whole DAG is in the store, reading only
// the store. A missing block is an error naming it that matches
// ipld.IsNotFound.
func (r *Repo) CheckComplete(ctx context.Context, c cid.Cid) error {
	missing, err := r.firstMissing(ctx, c, nil)
	if err != nil {
		return fmt.Errorf("repo: check %s: %w", c, err)
	}
	if missing.Defined() {
		return fmt.Errorf("repo: the DAG of %s is incomplete: %w", c, ipld.ErrNotFound{Cid: missing})
	}
	return nil
}

// RootSet is one source of roots: the pins, or a RegisterRoots source.
type RootSet struct {
	Source string
	Roots  []cid.Cid
	// Recursive is false for direct pins: only the blocks themselves count.
	Recursive bool
}

// Roots is the one root set: what gc keeps and the node announces. Pins
// come first (recursive, then direct-only), then the registered sources
// by name.
func (r *Repo) Roots(ctx context.Context) ([]RootSet, error) {
	pins, err := r.Pins(ctx)
	if err != nil {
		return nil, err
	}
	rec := RootSet{Source: "pins", Recursive: true}
	direct := RootSet{Source: "pins"}
	for _, p := range pins {
		if p.Mode == Recursive {
			rec.Roots = append(rec.Roots, p.CID)
		} else {
			direct.Roots = append(direct.Roots, p.CID)
		}
	}
	sets := []RootSet{rec, direct}

	r.rootsMu.Lock()
	fns := maps.Clone(r.roots)
	r.rootsMu.Unlock()
	for _, n := range slices.Sorted(maps.Keys(fns)) {
		cids, err := fns[n](ctx)
		if err != nil {
			return nil, fmt.Errorf("repo: roots %q: %w", n, err)
		}
		sets = append(sets, RootSet{Source: n, Roots: cids, Recursive: true})
	}
	return sets, nil
}

// ProvideRoots is every root of Roots, each once: what the node keeps
// announced.
func (r *Repo) ProvideRoots(ctx context.Context) ([]cid.Cid, error) {
	sets, err := r.Roots(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[cid.Cid]bool{}
	var out []cid.Cid
	for _, s := range sets {
		for _, c := range s.Roots {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// keyedMutex serialises the read-modify-write of one hold without making
// unrelated holds wait on each other.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

// lock locks key and returns its unlock.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()

	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
