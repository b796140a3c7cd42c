package cli

import (
	"encoding/json"
	"io"
	"path/filepath"
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
