package site

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Problem is one thing wrong with the input, located as precisely as known.
type Problem struct {
	// File is the path of the offending file, joined to Config.ContentDir.
	File string
	// Line is 1-based; 0 when the problem concerns the whole file.
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return p.File + ":" + strconv.Itoa(p.Line) + ": " + p.Msg
	}
	if p.File == "" {
		return p.Msg
	}
	return p.File + ": " + p.Msg
}

// BuildError lists every problem a build found, so that one run shows them
// all rather than only the first.
type BuildError struct {
	Problems []Problem
}

// Error prints one "file:line: msg" per line.
func (e *BuildError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// problems collects Problems from one goroutine; merge them with add.
type problems []Problem

func (ps *problems) addf(file string, line int, format string, args ...any) {
	*ps = append(*ps, Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// err sorts and de-duplicates the problems and returns them as a
// *BuildError, or nil when there are none.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	out := slices.Clone([]Problem(ps))
	slices.SortFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Msg, b.Msg))
	})
	return &BuildError{Problems: slices.Compact(out)}
}
