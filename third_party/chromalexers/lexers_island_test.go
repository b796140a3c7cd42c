package lexers

import (
	"fmt"
	"os"
	"testing"

	"github.com/alecthomas/chroma/v2"
	chromalexers "github.com/alecthomas/chroma/v2/lexers"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	// Every init of this package (and of chroma's, imported below) has run:
	// none of it may have built the registry.
	if built.Load() {
		fmt.Fprintln(os.Stderr, "lexers: the registry was built while the package initialised")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestSameAsChromas holds this copy to chroma's lexers package of the
// version in go.mod: the same lexers in the same order with the same
// configuration, found by the same names, analysing and tokenising alike.
// After a chroma upgrade that fails it, copy the new lexers/ again
// (ISLAND.md).
func TestSameAsChromas(t *testing.T) {
	theirs, ours := chromalexers.GlobalLexerRegistry, Registry()
	require.Len(t, ours.Lexers, len(theirs.Lexers))
	for i, want := range theirs.Lexers {
		got := ours.Lexers[i]
		require.Equal(t, *want.Config(), *got.Config(), "lexer %d", i)
	}
	for _, name := range theirs.Names(true) {
		want, got := theirs.Get(name), ours.Get(name)
		require.NotNil(t, got, name)
		require.Equal(t, want.Config().Name, got.Config().Name, name)
	}
	for _, name := range []string{"nosuchlanguage", "main.go", "x.tar.gz"} {
		require.Equal(t, lexerName(theirs.Get(name)), lexerName(ours.Get(name)), name)
	}

	samples := []string{
		"@ IN SOA ns.example.com. admin.example.com. (\n  1 ; serial\n)\n",
		"SELECT `id`, `name` FROM `users` WHERE `id` = 1;\n",
		"definition user {}\ndefinition document {\n  relation viewer: user\n  permission view = viewer\n}\n",
		"<?php echo 'hi'; ?>\n",
		"#!/bin/sh\necho hi\n",
		"package main\n\nfunc main() {}\n",
	}
	for _, text := range samples {
		require.Equal(t, lexerName(theirs.Analyse(text)), lexerName(ours.Analyse(text)), text)
	}

	// The Go lexers of this folder, and the languages most sites show.
	for _, name := range []string{
		"Caddyfile", "Common Lisp", "EmacsLisp", "ERB", "Gemtext", "Genshi", "Go", "Haxe", "HTML", "HTTP",
		"Markdown", "Markless", "PHP", "Raku", "reStructuredText", "Svelte", "TypoScript", "YAML+Jinja",
		"Python", "Bash", "JavaScript", "TypeScript", "CSS", "JSON", "YAML", "TOML", "Rust", "C", "SQL",
	} {
		want, got := theirs.Get(name), ours.Get(name)
		require.NotNil(t, want, name)
		text := "package main // c\n<p a=\"1\">{{ x }}</p>\n# T\nx = [1, 2.5e3, 'y']\n"
		require.Equal(t, tokens(t, want, text), tokens(t, got, text), name)
	}
}

func lexerName(l chroma.Lexer) string {
	if l == nil {
		return ""
	}
	return l.Config().Name
}

func tokens(t *testing.T, l chroma.Lexer, text string) []chroma.Token {
	t.Helper()
	it, err := l.Tokenise(nil, text)
	require.NoError(t, err)
	return it.Tokens()
}
