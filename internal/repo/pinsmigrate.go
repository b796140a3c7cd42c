package repo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/boxo/pinning/pinner/dspinner"
	ds "github.com/ipfs/go-datastore"
)

// migratePins turns the pins of boxo's dspinner, which earlier versions
// kept (one per CID, under /pins), into holds, once; the version key marks
// it done and the repo never reads dspinner again.
//
// Every step is safe to crash in, so the migration simply runs again until
// the version key is written: holds are written and synced before any
// dspinner pin is removed, and writing a hold that exists is a no-op. The
// version key comes last, once dspinner is empty, so no crash can leave
// dspinner pins behind that nothing would ever clear.
func (r *Repo) migratePins(ctx context.Context) error {
	v, err := r.stores.root.Get(ctx, pinsVersionKey)
	switch {
	case err == nil && string(v) == pinsVersion:
		return nil
	case err == nil:
		return fmt.Errorf("repo: pins are at version %q; this island knows version %s only: upgrade it", v, pinsVersion)
	case !errors.Is(err, ds.ErrNotFound):
		return fmt.Errorf("repo: read pins version: %w", err)
	}
	// dspinner writes under /pins itself: give it the root datastore, not
	// a namespace of it (see docs/stack.md).
	p, err := dspinner.New(ctx, r.stores.root, r.dag)
	if err != nil {
		return fmt.Errorf("repo: migrate pins: open old pins: %w", err)
	}
	defer p.Close()
	old, err := legacyPins(ctx, p)
	if err != nil {
		return err
	}
	if err := r.holdLegacyPins(ctx, old); err != nil {
		return err
	}
	if err := dropLegacyPins(ctx, p, old); err != nil {
		return err
	}
	return r.writePinsVersion(ctx)
}

// legacyPins lists dspinner's recursive and direct pins with their names.
func legacyPins(ctx context.Context, p pin.Pinner) ([]pin.Pinned, error) {
	var out []pin.Pinned
	for _, ch := range []<-chan pin.StreamedPin{p.RecursiveKeys(ctx, true), p.DirectKeys(ctx, true)} {
		for sp := range ch {
			if sp.Err != nil {
				return nil, fmt.Errorf("repo: migrate pins: list old pins: %w", sp.Err)
			}
			out = append(out, sp.Pin)
		}
	}
	return out, nil
}

// holdLegacyPins records a hold for each old pin and syncs them all.
func (r *Repo) holdLegacyPins(ctx context.Context, old []pin.Pinned) error {
	for _, lp := range old {
		mode := Recursive
		if lp.Mode == pin.Direct {
			mode = Direct
		}
		if _, err := r.putHold(ctx, lp.Key, legacyHolder(lp.Name), mode, true); err != nil {
			return fmt.Errorf("repo: migrate pins: %w", err)
		}
	}
	if err := r.Sync(ctx); err != nil {
		return fmt.Errorf("repo: migrate pins: %w", err)
	}
	return nil
}

// dropLegacyPins removes the old pins from dspinner, once they are held.
func dropLegacyPins(ctx context.Context, p pin.Pinner, old []pin.Pinned) error {
	// One flush at the end rather than a sync per pin.
	if a, ok := p.(interface{ SetAutosync(bool) bool }); ok {
		a.SetAutosync(false)
	}
	for _, lp := range old {
		// recursive=true removes a direct pin too; a CID listed twice is
		// gone the second time.
		if err := p.Unpin(ctx, lp.Key, true); err != nil && !errors.Is(err, pin.ErrNotPinned) {
			return fmt.Errorf("repo: migrate pins: remove old pin %s: %w", lp.Key, err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		return fmt.Errorf("repo: migrate pins: %w", err)
	}
	return nil
}

func (r *Repo) writePinsVersion(ctx context.Context) error {
	if err := r.stores.root.Put(ctx, pinsVersionKey, []byte(pinsVersion)); err != nil {
		return fmt.Errorf("repo: migrate pins: %w", err)
	}
	if err := r.stores.root.Sync(ctx, pinsVersionKey); err != nil {
		return fmt.Errorf("repo: migrate pins: %w", err)
	}
	return nil
}

// legacyHolder maps the name an earlier version gave a dspinner pin to its
// holder: "" was the user's (add, pin add, dag import), "site NAME" a
// published version; any other name ("follow", "pinning service") could be
// shared by many requests or follows and is kept as it was, so that no
// later Unpin by one of them can release what the others needed.
func legacyHolder(name string) Holder {
	if name == "" {
		return Holder{Kind: HolderUser}
	}
	if n, ok := strings.CutPrefix(name, "site "); ok {
		if h := (Holder{Kind: HolderSite, ID: n}); h.validate() == nil {
			return h
		}
	}
	// A name that would not print (control characters, not UTF-8) keeps
	// its pin under a readable approximation of itself.
	clean := strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsGraphic(r) {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(name, "\uFFFD"))
	return Holder{Kind: HolderLegacy, ID: clean}
}
