package testutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestContractsNameRealTests: every test docs/contracts.md says guards a
// contract exists in the package it names, so the list cannot drift from
// the code.
func TestContractsNameRealTests(t *testing.T) {
	root := ModuleRoot()
	doc, err := os.ReadFile(filepath.Join(root, "docs", "contracts.md"))
	require.NoError(t, err)
	cited := regexp.MustCompile("`([a-z]+)\\.((?:Test|Fuzz)[A-Za-z0-9]+)`").FindAllStringSubmatch(string(doc), -1)
	require.NotEmpty(t, cited)

	defined := map[string]bool{} // "pkg.TestName"
	def := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)[A-Za-z0-9]+)\(`)
	// Tests live in internal/ and, for the copies of other modules whose
	// changes island relies on, in third_party/.
	for _, top := range []string{"internal", "third_party"} {
		err = filepath.WalkDir(filepath.Join(root, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			pkg := filepath.Base(filepath.Dir(p))
			for _, m := range def.FindAllStringSubmatch(string(b), -1) {
				defined[pkg+"."+m[1]] = true
			}
			return nil
		})
		require.NoError(t, err)
	}
	for _, m := range cited {
		require.True(t, defined[m[1]+"."+m[2]], "docs/contracts.md cites %s.%s, which no test of a package %s in internal/ or third_party/ defines", m[1], m[2], m[1])
	}
}
