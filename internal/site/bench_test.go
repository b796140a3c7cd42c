package site

import (
	"context"
	"testing"

	"github.com/islandsite/island/internal/testutil"
)

// BenchmarkBuild renders the 2,000-post corpus (gen-corpus.py OUT 2000 50)
// in memory, links checked. The target is under 1.5 s on 2 cores, half of
// Hugo's time on the same corpus; the CLI's wall time and peak RSS are
// measured on the binary (see the package's README note in the report).
func BenchmarkBuild(b *testing.B) {
	dir := testutil.Corpus(b, 2000, 50)
	cfg := testConfig(b, dir)
	b.ReportAllocs()
	for b.Loop() {
		bundle, err := Build(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if bundle.Pages() != 2014 {
			b.Fatalf("built %d pages, want 2014", bundle.Pages())
		}
	}
}
