package lexers

import (
	"embed"
	"io/fs"
	"sync"
	"sync/atomic"

	"github.com/alecthomas/chroma/v2"
)

//go:embed embedded
var embedded embed.FS

// The registry is built on first use, not when the process starts: its
// ~250 XML lexers' configurations took ~7 ms and 2.7 MB of garbage at
// start-up in every island command, daemon included (ISLAND.md). The Go
// lexers below still call Register from their package-level vars; those
// calls only queue the lexer, and registry registers the queue after the
// XML lexers, the order chroma's GlobalLexerRegistry has them in.
var (
	queued   []chroma.Lexer
	onLoad   []func(*chroma.LexerRegistry)
	built    atomic.Bool // for the test that nothing builds the registry at init
	registry = sync.OnceValue(func() *chroma.LexerRegistry {
		built.Store(true)
		reg := chroma.NewLexerRegistry()
		paths, err := fs.Glob(embedded, "embedded/*.xml")
		if err != nil {
			panic(err)
		}
		for _, path := range paths {
			reg.Register(chroma.MustNewXMLLexer(embedded, path))
		}
		for _, l := range queued {
			reg.Register(l)
		}
		for _, f := range onLoad {
			f(reg)
		}
		return reg
	})
)

// Registry is the registry of every lexer, chroma's GlobalLexerRegistry;
// the first call builds it.
func Registry() *chroma.LexerRegistry { return registry() }

// Names of all lexers, optionally including aliases.
func Names(withAliases bool) []string {
	return registry().Names(withAliases)
}

// Aliases of all the lexers, and skip those lexers who do not have any aliases,
// or show their name instead
func Aliases(skipWithoutAliases bool) []string {
	return registry().Aliases(skipWithoutAliases)
}

// Get a Lexer by name, alias or file extension.
//
// Note that this if there isn't an exact match on name or alias, this will
// call Match(), so it is not efficient.
func Get(name string) chroma.Lexer {
	return registry().Get(name)
}

// MatchMimeType attempts to find a lexer for the given MIME type.
func MatchMimeType(mimeType string) chroma.Lexer {
	return registry().MatchMimeType(mimeType)
}

// Match returns the first lexer matching filename.
//
// Note that this iterates over all file patterns in all lexers, so it's not
// particularly efficient.
func Match(filename string) chroma.Lexer {
	return registry().Match(filename)
}

// Register a Lexer with the global registry. Called from package-level
// vars only, before the registry is built: it queues the lexer.
func Register(lexer chroma.Lexer) chroma.Lexer {
	queued = append(queued, lexer)
	return lexer
}

// Analyse text content and return the "best" lexer..
func Analyse(text string) chroma.Lexer {
	return registry().Analyse(text)
}

// PlaintextRules is used for the fallback lexer as well as the explicit
// plaintext lexer.
func PlaintextRules() chroma.Rules {
	return chroma.Rules{
		"root": []chroma.Rule{
			{`.+`, chroma.Text, nil},
			{`\n`, chroma.Text, nil},
		},
	}
}

// Fallback lexer if no other is found.
var Fallback chroma.Lexer = chroma.MustNewLexer(&chroma.Config{
	Name:      "fallback",
	Filenames: []string{"*"},
	Priority:  -1,
}, PlaintextRules)
