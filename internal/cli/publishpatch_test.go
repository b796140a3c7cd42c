package cli

import (
	"context"
	"io"
	"path"
	"slices"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"
)

// publishRecorder is a core.API whose Publish records what it was sent
// and answers conflict to a change when told to.
type publishRecorder struct {
	core.API
	conflict bool
	sent     []sentPublish
}

type sentPublish struct {
	base   string
	remove []string
	files  []string // every file of the body, by path
}

func (r *publishRecorder) Publish(_ context.Context, req core.PublishRequest) (core.Published, error) {
	var paths []string
	var walk func(dir string, d files.Directory)
	walk = func(dir string, d files.Directory) {
		it := d.Entries()
		for it.Next() {
			p := path.Join(dir, it.Name())
			switch nd := it.Node().(type) {
			case files.Directory:
				walk(p, nd)
			case files.File:
				_, _ = io.Copy(io.Discard, nd)
				paths = append(paths, p)
			}
		}
	}
	walk("", req.Site)
	slices.Sort(paths)
	r.sent = append(r.sent, sentPublish{base: req.Base, remove: req.Remove, files: paths})
	if req.Base != "" && r.conflict {
		return core.Published{}, core.Errorf(core.CodeConflict, "not current")
	}
	return core.Published{CID: "bafynew"}, nil
}

// TestPublishSendsOnlyTheChange: with the files of the version published
// before, a publish sends only what changed as a change to it; without
// them, or when the daemon says that version is no longer current, the
// whole site.
func TestPublishSendsOnlyTheChange(t *testing.T) {
	env := testEnv(t)
	writeContent(t, env, smallSite("First words."))
	b, err := buildSite(context.Background(), env, "content")
	require.NoError(t, err)
	ids, err := identities(b)
	require.NoError(t, err)
	var all []string
	for _, f := range b.Files() {
		all = append(all, f.Path)
	}
	changedIDs := func(change map[string]string) map[string]string {
		out := map[string]string{}
		for p, id := range ids {
			out[p] = id
		}
		for p, id := range change {
			if id == "" {
				delete(out, p)
			} else {
				out[p] = id
			}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		last     *publishedFiles
		conflict bool
		want     []sentPublish
	}{
		{"nothing published before", nil, false, []sentPublish{{files: all}}},
		{"one page changed, one gone", &publishedFiles{CID: "bafyold",
			Files: changedIDs(map[string]string{"posts/hello/index.html": "sha256:old", "gone/index.html": "sha256:x"})}, false,
			[]sentPublish{{base: "bafyold", remove: []string{"gone/index.html"}, files: []string{"posts/hello/index.html"}}}},
		{"a static file new", &publishedFiles{CID: "bafyold", Files: changedIDs(map[string]string{"note.txt": ""})}, false,
			[]sentPublish{{base: "bafyold", files: []string{"note.txt"}}}},
		{"the base no longer current", &publishedFiles{CID: "bafyold", Files: changedIDs(map[string]string{"index.html": "sha256:old"})}, true,
			[]sentPublish{{base: "bafyold", files: []string{"index.html"}}, {files: all}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &publishRecorder{conflict: tc.conflict}
			v, err := publishBundle(context.Background(), r, core.PublishRequest{}, b, nil, tc.last, ids)
			require.NoError(t, err)
			require.Equal(t, "bafynew", v.CID)
			require.Equal(t, tc.want, r.sent)
		})
	}
}
