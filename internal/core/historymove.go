package core

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/boxo/ipns"

	"github.com/islandsite/island/internal/history"
	"github.com/islandsite/island/internal/names"
)

// HistoryExport streams a site's history as a CARv1 whose root is the
// history's manifest (history.Manifest): every signed version, the name's
// held record and every version's blocks. The manifest is read before it
// returns, so what is missing is this method's error.
func (c *Core) HistoryExport(ctx context.Context, req HistoryRequest) (_ io.ReadCloser, err error) {
	defer c.fail(&err, "history export")
	_, name, err := c.signingKey(req.Key)
	if err != nil {
		return nil, err
	}
	n, err := ipns.NameFromString(name)
	if err != nil {
		return nil, err
	}
	entries, err := c.history.History(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w under /ipns/%s: nothing to export", history.ErrNoHistory, name)
	}
	var record []byte
	if rec, err := c.names.Held(ctx, n); err == nil || errors.Is(err, names.ErrExpired) {
		record = rec.Raw
	}
	m, err := history.Manifest(n, entries, record)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if err := c.repo.CheckComplete(ctx, e.CID); err != nil {
			return nil, fmt.Errorf("version %d (%s) is not whole in this repo: %w", e.Version, e.CID, err)
		}
	}
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriterSize(pw, 1<<20)
		err := c.repo.ExportCAR(ctx, w, m.Cid(), m)
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			err = &Error{Code: classify(err), Message: "history export: " + err.Error(), Err: err}
		}
		pw.CloseWithError(err)
	}()
	return pr, nil
}

// HistoryImport takes a history export made on another machine: every
// block is checked against its CID and stored, every version's entry
// against the name's key and the chain of versions, the versions already
// held must be where the imported history starts, and every version's
// content must be whole. The versions are then kept (gc roots, announced)
// as published ones, and the name's record is kept unless a newer one is.
func (c *Core) HistoryImport(ctx context.Context, req HistoryImportRequest) (_ HistoryImported, err error) {
	defer c.fail(&err, "history import")
	if req.CAR == nil {
		return HistoryImported{}, Errorf(CodeInvalid, "no history export to import")
	}
	c.makeRoom(ctx)
	res, err := c.repo.ImportCAR(ctx, bufio.NewReaderSize(req.CAR, 1<<20), false)
	if err != nil {
		return HistoryImported{}, err
	}
	if len(res.Roots) != 1 {
		return HistoryImported{}, Errorf(CodeRefused, "a history export has one root, the manifest; this CAR has %d", len(res.Roots))
	}
	// Nothing holds the blocks until the history does: kept from gc
	// meanwhile. (A gc between the import and this is caught below: the
	// versions are then not whole.)
	release := c.repo.Protect(res.Roots[0])
	defer release()
	blk, err := c.repo.Blockstore().Get(ctx, res.Roots[0])
	if err != nil {
		return HistoryImported{}, err
	}
	n, entries, record, err := history.ReadManifest(blk)
	if err != nil {
		return HistoryImported{}, &Error{Code: CodeRefused, Message: err.Error(), Err: err}
	}
	for _, e := range entries {
		if err := c.repo.CheckComplete(ctx, e.CID); err != nil {
			return HistoryImported{}, Errorf(CodeRefused, "version %d (%s) is not whole in the export: %w", e.Version, e.CID, err)
		}
	}
	added, err := c.history.Import(ctx, n, entries)
	if err != nil {
		return HistoryImported{}, err
	}
	out := HistoryImported{Name: n.String(), Versions: len(entries), Added: added}
	if record != nil {
		if _, err := c.names.PutRecord(ctx, n.String(), record); err != nil && !errors.Is(err, names.ErrRoutingPut) {
			// An expired or older record takes nothing away: the next
			// publish signs above every version's sequence anyway.
			out.Notes = append(out.Notes, fmt.Sprintf("the export's record of %s was not kept: %v", n, err))
		}
	}
	for _, e := range entries {
		if err := c.announce(ctx, e.CID); err != nil {
			return out, err
		}
	}
	return out, nil
}
