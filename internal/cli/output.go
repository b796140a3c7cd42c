package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/islandsite/island/internal/core"
)

// printJSON writes v as one indented JSON document, the form of every --json output.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// abs resolves a path given on the command line against the command's working directory.
func (e *Env) abs(p string) string {
	if filepath.IsAbs(p) || e.Cwd == "" {
		return p
	}
	return filepath.Join(e.Cwd, p)
}

// rel shows a path relative to the working directory when it lies below it,
// as the user most likely wrote it.
func (e *Env) rel(p string) string {
	if e.Cwd == "" || !filepath.IsAbs(p) {
		return p
	}
	r, err := filepath.Rel(e.Cwd, p)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return p
	}
	return r
}

// when prints a time for people: local, to the second, or "never".
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format(time.DateTime)
}

// aboutFile names the file a command read in the error core gave about its
// content: "routing put: FILE: refused: …", keeping the error's code.
func aboutFile(err error, op, file string) error {
	msg := strings.TrimPrefix(err.Error(), op+": ")
	return &core.Error{Code: core.ErrorCode(err), Message: op + ": " + file + ": " + msg, Err: err}
}

// notes prints what the core says a person should know, on stderr.
func (e *Env) notes(ns []string) {
	for _, n := range ns {
		fmt.Fprintf(e.Stderr, "island: %s\n", n)
	}
}
