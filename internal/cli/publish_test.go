package cli

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"

	"github.com/islandsite/island/internal/daemon"
)

// smallSite is a content directory with a home page and one post.
func smallSite(post string) map[string]string {
	return map[string]string{
		"site.toml":       "title = \"Island test\"\n",
		"index.md":        "---\ntitle: Home\n---\nWelcome.\n",
		"posts/hello.md":  "---\ntitle: Hello\ndate: 2024-01-02\n---\n" + post + "\n",
		"static/note.txt": "static file\n",
	}
}

// publishJSON runs `publish --json` with args and decodes its output.
func publishJSON(t *testing.T, env *Env, args ...string) siteVersionOut {
	t.Helper()
	code, out, errOut := runCLI(t, env, append([]string{"publish", "--json"}, args...)...)
	require.Equal(t, exitOK, code, errOut)
	var v siteVersionOut
	require.NoError(t, json.Unmarshal([]byte(out), &v), out)
	return v
}

// siteVersionOut is `publish --json` as a script reads it.
type siteVersionOut struct {
	CID         string   `json:"cid"`
	Name        string   `json:"name"`
	Version     int      `json:"version"`
	Seq         uint64   `json:"seq"`
	Unchanged   bool     `json:"unchanged"`
	URLs        []string `json:"urls"`
	Retrievable struct {
		Checked bool   `json:"checked"`
		OK      bool   `json:"ok"`
		Reason  string `json:"reason"`
	} `json:"retrievable"`
}

func historyOf(t *testing.T, env *Env, args ...string) []core.Version {
	t.Helper()
	code, out, errOut := runCLI(t, env, append([]string{"history", "--json"}, args...)...)
	require.Equal(t, exitOK, code, errOut)
	var hist []core.Version
	require.NoError(t, json.Unmarshal([]byte(out), &hist), out)
	return hist
}

func TestPublishHistoryRollback(t *testing.T) {
	env := testEnv(t)
	writeContent(t, env, smallSite("First words."))

	// Version 1, in human form.
	code, out, errOut := runCLI(t, env, "publish")
	require.Equal(t, exitOK, code, errOut)
	m := regexp.MustCompile(`(?m)^published (bafy\S+) \(version 1\)\nname: /ipns/(k51\S+)\n`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	v1, name := m[1], m[2]
	require.Contains(t, out, "http://127.0.0.1:8080/ipfs/"+v1+"/")
	require.Contains(t, out, "http://"+name+".ipns.localhost:8080/")
	require.Contains(t, out, "not running now")
	require.Contains(t, out, "retrievable: not checked (offline")

	hist := historyOf(t, env)
	require.Len(t, hist, 1)
	require.Equal(t, core.Version{Version: 1, CID: v1, Seq: hist[0].Seq, Time: hist[0].Time, Current: true}, hist[0])

	// A change makes version 2, which replaced version 1.
	writeContent(t, env, map[string]string{"posts/hello.md": "---\ntitle: Hello\ndate: 2024-01-02\n---\nSecond words.\n"})
	p2 := publishJSON(t, env)
	require.Equal(t, 2, p2.Version)
	require.NotEqual(t, v1, p2.CID)
	require.Greater(t, p2.Seq, hist[0].Seq)
	require.Contains(t, mustRun(t, env, "cat", "/ipns/"+name+"/posts/hello/index.html"), "Second words.")

	// The same content again is no new version and no new record.
	same := publishJSON(t, env)
	require.True(t, same.Unchanged)
	require.Equal(t, p2.CID, same.CID)
	require.Equal(t, p2.Seq, same.Seq)
	hist = historyOf(t, env)
	require.Len(t, hist, 2)
	require.Equal(t, v1, hist[1].Prev)
	require.False(t, hist[0].Current)
	require.True(t, hist[1].Current)
	code, out, _ = runCLI(t, env, "publish")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "unchanged: "+p2.CID+" is still the current version (version 2)")

	// Rollback: version 1's CID is current again, under a higher sequence.
	code, out, errOut = runCLI(t, env, "rollback")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "to version 1: "+v1+" is current again as version 3")
	hist = historyOf(t, env)
	require.Len(t, hist, 3)
	require.Equal(t, v1, hist[2].CID)
	require.Equal(t, p2.CID, hist[2].Prev)
	require.Greater(t, hist[2].Seq, hist[1].Seq)
	require.Contains(t, mustRun(t, env, "cat", "/ipns/"+name+"/posts/hello/index.html"), "First words.", "the name resolves to version 1 again")

	// Rolling back to an explicit version works the same way.
	code, out, errOut = runCLI(t, env, "rollback", "2")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, p2.CID+" is current again as version 4")

	// gc keeps every published version.
	other := filepath.Join(env.Cwd, "other.txt")
	require.NoError(t, os.WriteFile(other, []byte("not part of any version"), 0o644))
	code, added, errOut := runCLI(t, env, "add", "-q", other)
	require.Equal(t, exitOK, code, errOut)
	code, _, errOut = runCLI(t, env, "pin", "rm", strings.TrimSpace(added))
	require.Equal(t, exitOK, code, errOut)
	code, out, errOut = runCLI(t, env, "gc")
	require.Equal(t, exitOK, code, errOut)
	require.Regexp(t, `^removed 1 blocks`, out, "the unpinned file goes")
	require.Contains(t, mustRun(t, env, "cat", v1+"/posts/hello/index.html"), "First words.")
	require.Contains(t, mustRun(t, env, "cat", p2.CID+"/posts/hello/index.html"), "Second words.")
	require.Equal(t, "static file\n", mustRun(t, env, "cat", v1+"/note.txt"))
}

func TestPublishJSON(t *testing.T) {
	env := testEnv(t)
	writeContent(t, env, smallSite("Words."))
	code, out, errOut := runCLI(t, env, "publish", "--json")
	require.Equal(t, exitOK, code, errOut)
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &raw))
	for _, k := range []string{"cid", "name", "version", "seq", "unchanged", "urls", "retrievable"} {
		require.Contains(t, raw, k)
	}
	v := publishJSON(t, env) // unchanged now
	require.Regexp(t, `^bafy`, v.CID)
	require.Regexp(t, `^k51`, v.Name)
	require.Equal(t, []string{
		"http://" + v.CID + ".ipfs.localhost:8080/",
		"http://" + v.Name + ".ipns.localhost:8080/",
		"http://127.0.0.1:8080/ipfs/" + v.CID + "/",
		"http://127.0.0.1:8080/ipns/" + v.Name + "/",
	}, v.URLs, "subdomain URLs first: each site its own origin")
	require.False(t, v.Retrievable.Checked)
	require.Contains(t, v.Retrievable.Reason, "offline")

	// The gateway a daemon last announced is used for the URLs.
	require.NoError(t, os.WriteFile(filepath.Join(repoOf(t, env), "gateway"), []byte("http://127.0.0.1:9191\n"), 0o600))
	v = publishJSON(t, env)
	require.Equal(t, "http://"+v.Name+".ipns.localhost:9191/", v.URLs[1], "subdomains first: each site its own origin")
	require.Equal(t, "http://127.0.0.1:9191/ipfs/"+v.CID+"/", v.URLs[2])
}

func TestPublishErrors(t *testing.T) {
	env := testEnv(t)
	writeContent(t, env, smallSite("Words."))
	v := publishJSON(t, env)

	// A broken page: every problem is listed, and the published version stays.
	writeContent(t, env, map[string]string{"posts/broken.md": "---\ntitle: [oops\n---\nSee [nothing](../missing/).\n"})
	code, _, errOut := runCLI(t, env, "publish")
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "the published version stays as it was")
	require.Contains(t, errOut, filepath.Join("content", "posts", "broken.md")+":")
	hist := historyOf(t, env)
	require.Len(t, hist, 1)
	require.Equal(t, v.CID, hist[0].CID)

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown key", []string{"publish", "--key", "nope"}, exitFailure, "--key nope: no key of that name"},
		{"history of unknown key", []string{"history", "--key", "nope"}, exitFailure, `history: no key named "nope"`},
		{"missing content", []string{"publish", "--content", "nowhere"}, exitFailure, "nowhere"},
		{"publish takes no args", []string{"publish", "x"}, exitUsage, "takes no arguments"},
		{"rollback version not a number", []string{"rollback", "latest"}, exitUsage, "want a version number"},
		{"rollback two versions", []string{"rollback", "1", "2"}, exitUsage, "at most one VERSION"},
		{"rollback to the current content", []string{"rollback", "1"}, exitFailure, "already the current content"},
		{"rollback with nothing before", []string{"rollback"}, exitFailure, "has only one version: nothing to roll back to"},
		{"rollback past the end", []string{"rollback", "9"}, exitFailure, "no version 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, env, tt.args...)
			require.Equal(t, tt.code, code, errOut)
			require.Contains(t, errOut, tt.stderr)
		})
	}
	require.Len(t, historyOf(t, env), 1, "no failed command recorded a version")
}

func TestHistoryEmpty(t *testing.T) {
	env := testEnv(t)
	code, out, errOut := runCLI(t, env, "history")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "nothing published under /ipns/k51")
	require.Empty(t, historyOf(t, env))
	code, _, errOut = runCLI(t, env, "rollback")
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "no published versions")
}

// TestPublishWakesRepublisher: a publish or rollback whose put to the DHT
// fails inside a daemon warns that the daemon retries, and it does so at
// once, not at its next round.
func TestPublishWakesRepublisher(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon")
	}
	env := testEnv(t)
	logs := newSyncBuffer()
	startDaemon(t, env, func(cfg *daemon.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		// No round comes by itself while the test runs.
		cfg.RepublishInterval, cfg.RepublishRetry = time.Hour, time.Hour
	})
	// Only the round at start may run unasked; each wake-up that finds the
	// DHT without peers logs one failed republish.
	rounds := func() int { return strings.Count(logs.String(), "msg=republish ") }

	writeContent(t, env, smallSite("First words."))
	code, out, errOut := runCLI(t, env, "publish", "--no-check")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "warning: the record is stored in the repo, but names: put to routing failed")
	require.Contains(t, out, "the daemon keeps trying until it gets there")
	require.Eventually(t, func() bool { return rounds() >= 1 }, 10*time.Second, 10*time.Millisecond, "publish did not wake the republisher")

	before := rounds()
	writeContent(t, env, smallSite("Second words."))
	mustRun(t, env, "publish", "--no-check")
	code, out, errOut = runCLI(t, env, "rollback")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "warning: the record is stored in the repo, but names: put to routing failed")
	require.Eventually(t, func() bool { return rounds() > before }, 10*time.Second, 10*time.Millisecond, "publish and rollback did not wake the republisher")

	for _, args := range [][]string{{"peers"}, {"provide", "stat"}} {
		mustRun(t, env, args...) // the daemon's node answers
	}
}

// TestPublishUnchangedWithoutBuilding: a publish whose sources are those of
// the last publish of the folder answers from its stamp (no build) once the
// repo confirms that version is current, and builds whenever it is not: a
// rollback since, a stamp naming another CID, a changed file.
func TestPublishUnchangedWithoutBuilding(t *testing.T) {
	env := testEnv(t)
	writeContent(t, env, smallSite("First words."))
	v1 := publishJSON(t, env)
	stampFiles, err := filepath.Glob(filepath.Join(env.Getenv("ISLAND_PATH"), stampDir, "*.json"))
	require.NoError(t, err)
	require.Len(t, stampFiles, 1, "the publish kept the stamp of its sources")
	stampFile := stampFiles[0]
	editStamp := func(f func(*publishStamp)) {
		t.Helper()
		data, err := os.ReadFile(stampFile)
		require.NoError(t, err)
		var ps publishStamp
		require.NoError(t, json.Unmarshal(data, &ps))
		f(&ps)
		data, err = json.Marshal(ps)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(stampFile, data, 0o600))
	}
	pages := func() int {
		t.Helper()
		code, out, errOut := runCLI(t, env, "publish", "--json")
		require.Equal(t, exitOK, code, errOut)
		var v struct {
			CID       string `json:"cid"`
			Unchanged bool   `json:"unchanged"`
			Pages     int    `json:"pages"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &v), out)
		require.True(t, v.Unchanged)
		require.Equal(t, v1.CID, v.CID)
		return v.Pages
	}

	// The stamp's page count shows which way the answer came.
	built := pages()
	editStamp(func(ps *publishStamp) { ps.Pages = 999 })
	require.Equal(t, 999, pages(), "unchanged sources: answered from the stamp")
	// Files too fresh for their stat when the stamp was kept count by their
	// bytes; once settled they still compare as the same sources.
	editStamp(func(ps *publishStamp) {
		require.NotEmpty(t, ps.ByBytes, "the site was written just before its publish")
		ps.Pages = 998
	})
	time.Sleep(2100 * time.Millisecond) // the site package's racyWindow, and a little
	require.Equal(t, 998, pages(), "settled, unchanged sources: answered from the stamp")
	editStamp(func(ps *publishStamp) { ps.CID, ps.Pages = "bafkqaaa", 999 })
	require.Equal(t, built, pages(), "a stamp naming what is not the current version: built and sent")

	// A changed file is built; after a rollback the same sources are
	// published again, not taken for the rolled-back version.
	writeContent(t, env, map[string]string{"posts/hello.md": "---\ntitle: Hello\ndate: 2024-01-02\n---\nSecond words.\n"})
	v2 := publishJSON(t, env)
	require.False(t, v2.Unchanged)
	require.NotEqual(t, v1.CID, v2.CID)
	code, _, errOut := runCLI(t, env, "rollback")
	require.Equal(t, exitOK, code, errOut)
	again := publishJSON(t, env)
	require.False(t, again.Unchanged, "the current version is version 1's CID: version 2's sources are published again")
	require.Equal(t, v2.CID, again.CID)
	require.Equal(t, 4, again.Version)
}

// TestPublishEditThroughDaemonIsFullBuild: a publish through a running
// daemon after an edit (the daemon's import cache takes what did not change
// from the version before, and provides only what is new) gives exactly the
// CID that a fresh build added to a fresh repo gives, and its list pages,
// tags, feed and sitemap show the edit.
func TestPublishEditThroughDaemonIsFullBuild(t *testing.T) {
	env := testEnv(t)
	site := smallSite("First words.")
	site["posts/other.md"] = "---\ntitle: Other\ndate: 2024-01-01\ntags: [bgp]\n---\nOther words. ![pic](/img/pic.png)\n"
	site["static/img/pic.png"] = "not really a png"
	writeContent(t, env, site)
	startDaemon(t, env, nil)
	prev := publishJSON(t, env, "--no-check")
	repoDir := env.getenv("ISLAND_PATH")
	caches, err := os.ReadDir(filepath.Join(repoDir, renderCacheDir))
	require.NoError(t, err)
	require.Len(t, caches, 2, "the publish keeps its render cache and its contents")
	require.Equal(t, caches[0].Name()+".md", caches[1].Name())
	content := filepath.Join(env.Cwd, "content")

	// Each step starts from the render cache of the one before (the
	// damaged one from none), and must give the CID of a full build of
	// the same sources added to a fresh repo.
	for _, step := range []struct {
		name  string
		edit  func()
		shows map[string]string // bundle path → what it must now hold
	}{
		{"a post edited", func() {
			writeContent(t, env, map[string]string{"posts/hello.md": "---\ntitle: Hello again\ndate: 2024-01-02\ntags: [bgp, dht]\n---\nEdited words.\n"})
		}, map[string]string{"posts/index.html": "Hello again", "tags/dht/index.html": "Hello again", "tags/bgp/index.html": "Hello again",
			"atom.xml": "Hello again", "sitemap.xml": "tags/dht/"}},
		{"a post added", func() {
			writeContent(t, env, map[string]string{"posts/third.md": "---\ntitle: Third\ndate: 2024-01-03\ntags: [quic]\n---\nSee [hello](hello.md).\n"})
		}, map[string]string{"posts/index.html": "Third", "tags/quic/index.html": "Third", "posts/hello/index.html": "Third"}},
		{"a tag changed", func() {
			writeContent(t, env, map[string]string{"posts/third.md": "---\ntitle: Third\ndate: 2024-01-03\ntags: [rust]\n---\nSee [hello](hello.md).\n"})
		}, map[string]string{"tags/rust/index.html": "Third", "tags/index.html": "rust"}},
		{"an image changed", func() {
			writeContent(t, env, map[string]string{"static/img/pic.png": "another picture"})
		}, map[string]string{"img/pic.png": "another picture"}},
		{"a post removed", func() {
			require.NoError(t, os.Remove(filepath.Join(content, "posts", "third.md")))
		}, map[string]string{"atom.xml": "Hello again"}},
		{"a post made a draft", func() {
			writeContent(t, env, map[string]string{"posts/other.md": "---\ntitle: Other\ndate: 2024-01-01\ntags: [bgp]\ndraft: true\n---\nOther words.\n"})
		}, map[string]string{"posts/index.html": "Hello again"}},
		{"the draft published, dated later", func() {
			writeContent(t, env, map[string]string{"posts/other.md": "---\ntitle: Other\ndate: 2024-02-01\ntags: [bgp]\n---\nOther words.\n"})
		}, map[string]string{"posts/index.html": "Other", "tags/bgp/index.html": "Other"}},
		// The render cache holds no page bytes: without the list of the
		// files published last, the whole site is sent, from a full build.
		{"the files published last forgotten", func() {
			stamps, err := filepath.Glob(filepath.Join(repoDir, stampDir, "*.files"))
			require.NoError(t, err)
			require.NotEmpty(t, stamps)
			for _, f := range stamps {
				require.NoError(t, os.Remove(f))
			}
			writeContent(t, env, map[string]string{"posts/hello.md": "---\ntitle: Hello once more\ndate: 2024-01-02\ntags: [bgp, dht]\n---\nEdited words.\n"})
		}, map[string]string{"posts/index.html": "Hello once more", "posts/hello/index.html": "Hello once more"}},
		{"the render cache damaged", func() {
			file := filepath.Join(repoDir, renderCacheDir, caches[0].Name())
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			data[len(data)/2] ^= 1
			require.NoError(t, os.WriteFile(file, data, 0o600))
			writeContent(t, env, map[string]string{"posts/other.md": "---\ntitle: Other\ndate: 2024-01-01\ntags: [bgp]\n---\nOther words, again.\n"})
		}, map[string]string{"posts/other/index.html": "Other words, again."}},
		{"its contents damaged", func() {
			file := filepath.Join(repoDir, renderCacheDir, caches[1].Name())
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			for i := range data {
				data[i] ^= 1
			}
			require.NoError(t, os.WriteFile(file, data, 0o600))
			writeContent(t, env, map[string]string{"posts/other.md": "---\ntitle: Other\ndate: 2024-01-01\ntags: [bgp]\n---\nOther words, once more.\n"})
		}, map[string]string{"posts/other/index.html": "Other words, once more.", "atom.xml": "Hello once more"}},
	} {
		step.edit()
		v := publishJSON(t, env, "--no-check")
		require.NotEqual(t, prev.CID, v.CID, step.name)
		prev = v

		// The same sources, built and added from scratch elsewhere.
		fresh := testEnv(t)
		require.NoError(t, os.CopyFS(filepath.Join(fresh.Cwd, "content"), os.DirFS(content)))
		mustRun(t, fresh, "build", "--out", "public")
		code, out, errOut := runCLI(t, fresh, "add", "-q", "--only-hash", filepath.Join(fresh.Cwd, "public"))
		require.Equal(t, exitOK, code, errOut)
		require.Equal(t, v.CID, strings.TrimSpace(out), "%s: the incremental publish is the full build's CID", step.name)
		for p, want := range step.shows {
			code, out, errOut := runCLI(t, env, "cat", "/ipfs/"+v.CID+"/"+p)
			require.Equal(t, exitOK, code, errOut)
			require.Contains(t, out, want, "%s: %s", step.name, p)
		}
	}
}
