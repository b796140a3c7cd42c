package site

import (
	"bytes"
	_ "embed"
	"sync"

	"github.com/alecthomas/chroma/v2"
)

// The two chroma styles island highlights with, copied from chroma's
// styles/ (chroma/COPYING, MIT): importing chroma's styles package parses
// all of its ~70 styles when the process starts, about 5 ms and 2 MB of
// garbage that every command paid, `island publish` through a daemon with
// nothing to build included. TestChromaStylesAreChromas holds the copies
// to the chroma version in go.mod.
var (
	//go:embed chroma/github.xml
	githubStyleXML []byte
	//go:embed chroma/github-dark.xml
	githubDarkStyleXML []byte
)

// githubStyle and githubDarkStyle are parsed on first use.
var (
	githubStyle     = sync.OnceValue(func() *chroma.Style { return chroma.MustNewXMLStyle(bytes.NewReader(githubStyleXML)) })
	githubDarkStyle = sync.OnceValue(func() *chroma.Style { return chroma.MustNewXMLStyle(bytes.NewReader(githubDarkStyleXML)) })
)
