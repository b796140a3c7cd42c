package site

import (
	"context"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/islandsite/island/internal/importer"
	"github.com/islandsite/island/internal/repo"
	"github.com/islandsite/island/internal/testutil"
)

// BenchmarkRepublish measures what `island publish` after an edit costs,
// from the save to the new root CID stored and pinned in a repo on disk:
// one post of the 2,000-post corpus gets a sentence more, the site is
// built again, imported into the repo and pinned. The target is under
// 300 ms with a Builder and an importer.Cache ("incremental"); "full" is
// the same with Build and a plain import, for comparison.
//
// On 2 shared cores, fairly quiet (-benchtime 10x): incremental 87-88
// ms/republish (build 67, import 17-18, commit and pin 2), slowest 103-113
// ms; full 424-447 ms (build 353-375, import 69-71). Under heavy load from
// other processes (load average 8), incremental averaged 117-136 ms, with
// single republishes up to 400 ms.
func BenchmarkRepublish(b *testing.B) {
	b.Run("incremental", func(b *testing.B) { benchRepublish(b, true) })
	b.Run("full", func(b *testing.B) { benchRepublish(b, false) })
}

func benchRepublish(b *testing.B, incremental bool) {
	ctx := context.Background()
	dir := copyTree(b, testutil.Corpus(b, 2000, 50), nil)
	// A real site's images were not written a moment ago: wait until the
	// copies' stat can be trusted, as it would be (fileStamp.settledAt).
	time.Sleep(racyWindow)
	r, err := repo.Open(ctx, repo.Config{Path: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })

	cfg := testConfig(b, dir)
	builder := NewBuilder(cfg)
	cache := importer.NewCache(r.Blockstore())
	// phases sums the time spent building, importing, and committing and
	// pinning.
	var phases [3]time.Duration
	publish := func() cid.Cid {
		t0 := time.Now()
		var bundle *Bundle
		var err error
		opts := importer.Options{}
		if incremental {
			bundle, err = builder.Build(ctx)
			opts.Cache = cache
		} else {
			bundle, err = Build(ctx, cfg)
		}
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		im, err := r.BeginImport(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer im.Close()
		res, err := importer.AddFS(ctx, im, bundle.FS(), ".", opts)
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := im.Commit(ctx); err != nil {
			b.Fatal(err)
		}
		if err := r.Pin(ctx, res.Root, repo.Holder{Kind: repo.HolderUser}, repo.Recursive); err != nil {
			b.Fatal(err)
		}
		for i, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), time.Since(t2)} {
			phases[i] += d
		}
		return res.Root
	}
	// The first publish of the site, untimed.
	prev := publish()
	phases = [3]time.Duration{}

	var slowest time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		appendSentence(b, dir, i)
		i++
		root := publish()
		if root == prev {
			b.Fatal("the edit did not change the root CID")
		}
		prev = root
		slowest = max(slowest, time.Since(start))
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
	b.ReportMetric(ms(b.Elapsed())/float64(b.N), "ms/republish")
	b.ReportMetric(ms(slowest), "max-ms")
	for i, name := range []string{"build", "import", "commit+pin"} {
		b.ReportMetric(ms(phases[i])/float64(b.N), name+"-ms/op")
	}
}
