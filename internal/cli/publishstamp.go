package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/site"
)

// stampDir holds, per content folder, key and --lifetime, what the last
// `publish` of it built: the stamp of its sources and the CID they became.
// It is a cache: the daemon confirms the CID is the current version before
// the answer is used, and a lost or wrong file only costs a build.
const stampDir = "publish-stamps"

// renderCacheDir holds, per content folder, the render cache of its last
// publish (site.Builder.SaveCache: a file and its contents file, FILE.md):
// what was rendered, so that the next publish renders again only what
// changed. A cache too: the file is tagged with the island binary and
// checked before use.
const renderCacheDir = "render-cache"

// renderCachesKept bounds the render caches kept, one per content folder
// published, the most recently written first.
const renderCachesKept = 4

// publishStamp is one file of stampDir.
type publishStamp struct {
	// Sources is site.SourceStamp of the content folder, taken after the
	// build that made CID and checked to be of the sources it built.
	Sources string `json:"sources"`
	// ByBytes are the files Sources counts by their bytes (too fresh for
	// their stat then): the next stamp counts them so too, so that they
	// compare equal once settled.
	ByBytes []string `json:"byBytes,omitempty"`
	// Binary is the stamp of the island executable that built it: another
	// island may render the same sources differently.
	Binary string `json:"binary"`
	CID    string `json:"cid"`
	// Lifetime is the lifetime the publish asked for (flag or site.toml).
	Lifetime  core.Duration `json:"lifetime,omitzero"`
	Pages     int           `json:"pages"`
	Static    int           `json:"staticFiles"`
	ChangesAt time.Time     `json:"changesAt,omitzero"`
}

// stamps finds and keeps the publish stamp of one content folder; the zero
// value (no repo directory) keeps none.
type stamps struct {
	file    string      // "" when stamps are off
	cache   string      // the content folder's render cache file
	sources string      // the sources' stamp before the build
	byBytes []string    // the files sources counts by their bytes
	stats   *site.Stats // the sources' stats the stamp saw, for the build
	start   time.Time
	binary  string
	last    *publishStamp // the file's, nil when none could be read
}

// newStamps computes the stamp of content's sources now, before any build.
// Any failure turns stamps off for this publish: they only save time.
func newStamps(env *Env, g *globalOptions, content string, o siteOptions) stamps {
	repo, err := repoDir(env, g)
	if err != nil {
		return stamps{}
	}
	id := sha256.Sum256([]byte(content + "\x00" + o.key + "\x00" + o.lifetime))
	file := filepath.Join(repo, stampDir, hex.EncodeToString(id[:16])+".json")
	cache := renderCacheFile(repo, content)
	var last *publishStamp
	if data, err := os.ReadFile(file); err == nil {
		var ps publishStamp
		if json.Unmarshal(data, &ps) == nil {
			last = &ps
		}
	}
	var byBytes []string
	if last != nil {
		byBytes = last.ByBytes
	}
	start := time.Now()
	st, stats, err := site.SourceStamps(content, site.StampAt{Start: start, ByBytes: byBytes})
	if err != nil {
		slog.Debug("publish: no source stamp", "err", err)
		return stamps{}
	}
	sum, byBytes := st[0].Sum, st[0].ByBytes
	binary, err := binaryStamp()
	if err != nil {
		slog.Debug("publish: no binary stamp", "err", err)
		return stamps{}
	}
	return stamps{
		file:    file,
		cache:   cache,
		stats:   stats,
		sources: hex.EncodeToString(sum[:]),
		byBytes: byBytes,
		start:   start,
		binary:  binary,
		last:    last,
	}
}

// renderCacheFile is where the repo keeps the render cache of content;
// the rendering does not depend on the key or lifetime published.
func renderCacheFile(repo, content string) string {
	id := sha256.Sum256([]byte(content))
	return filepath.Join(repo, renderCacheDir, hex.EncodeToString(id[:16]))
}

// binaryStamp identifies the running executable by its stat.
func binaryStamp() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	st, err := os.Stat(exe)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %d %d", exe, st.Size(), st.ModTime().UnixNano()), nil
}

// unchanged answers the publish without building when the sources are
// those of the last publish and the daemon confirms that version is still
// current. ok is false when the site must be built and sent.
func (s stamps) unchanged(ctx context.Context, a core.API, req core.PublishRequest) (_ core.Published, _ publishStamp, ok bool, _ error) {
	if s.file == "" || s.last == nil {
		return core.Published{}, publishStamp{}, false, nil
	}
	ps := *s.last
	if ps.Sources != s.sources || ps.Binary != s.binary || ps.CID == "" ||
		!ps.ChangesAt.IsZero() && !time.Now().Before(ps.ChangesAt) {
		return core.Published{}, publishStamp{}, false, nil
	}
	if req.Lifetime == 0 {
		req.Lifetime = ps.Lifetime
	}
	req.IfCurrent = ps.CID
	v, err := a.Publish(ctx, req)
	if core.ErrorCode(err) == core.CodeConflict {
		return core.Published{}, publishStamp{}, false, nil
	}
	if err != nil {
		return core.Published{}, publishStamp{}, false, err
	}
	return v, ps, true, nil
}

// builtStamp is the stamp of the sources taken after a build, when they
// are still those the build read.
type builtStamp struct {
	sources string
	byBytes []string
	ok      bool
}

// afterBuild stamps the sources once a build has read them. It runs while
// the daemon imports what was built: nothing it reads changes then.
func (s stamps) afterBuild(content string) builtStamp {
	if s.file == "" {
		return builtStamp{}
	}
	// One walk takes both stamps from the same look at each file: the one
	// kept, as of now (so it counts by their bytes only the files still too
	// fresh now, not every file that ever was), and one with the same start
	// and files by bytes as before the build, equal to that one when the
	// sources did not change since. A change after the walk saw a file
	// shows in the next stamp; one before fails the check.
	st, _, err := site.SourceStamps(content, site.StampAt{Start: time.Now()}, site.StampAt{Start: s.start, ByBytes: s.byBytes})
	if err != nil || hex.EncodeToString(st[1].Sum[:]) != s.sources {
		return builtStamp{}
	}
	return builtStamp{sources: hex.EncodeToString(st[0].Sum[:]), byBytes: st[0].ByBytes, ok: true}
}

// save records what a publish built (bs, from afterBuild), when the
// sources were still those the stamp was taken of and the build warned of
// nothing (a stamp would skip the warnings next time).
func (s stamps) save(bs builtStamp, b *site.Bundle, lifetime time.Duration, cid string, warned bool) {
	if s.file == "" || warned || !bs.ok {
		return
	}
	data, _ := json.Marshal(publishStamp{Sources: bs.sources, ByBytes: bs.byBytes, Binary: s.binary, CID: cid,
		Lifetime: core.Duration(lifetime), Pages: b.Pages(), Static: b.StaticFiles(), ChangesAt: b.ChangesAt()})
	if err := writeFileAtomic(s.file, writeBytes(data)); err != nil {
		slog.Debug("publish: keeping the source stamp", "err", err)
	}
}

// publishedFiles is what the last publish of a content folder sent: the
// version's CID and the Identity of each of its files, by path. The next
// publish sends only the files whose identity changed, as a change to
// that version, when it is still the current one.
type publishedFiles struct {
	CID   string            `json:"cid"`
	Files map[string]string `json:"files"`
}

// filesFile is where the stamp's folder keeps its publishedFiles.
func (s stamps) filesFile() string { return strings.TrimSuffix(s.file, ".json") + ".files" }

// lastFiles is what the last publish of the folder sent, nil when unknown.
func (s stamps) lastFiles() *publishedFiles {
	if s.file == "" {
		return nil
	}
	data, err := os.ReadFile(s.filesFile())
	if err != nil {
		return nil
	}
	var pf publishedFiles
	if json.Unmarshal(data, &pf) != nil || pf.CID == "" || pf.Files == nil {
		return nil
	}
	return &pf
}

// encodeFiles is the JSON of ids as saveFiles keeps them: a site's
// thousands of identities take a few milliseconds to encode, done while
// the daemon imports.
func encodeFiles(ids map[string]string) json.RawMessage {
	data, _ := json.Marshal(ids) // a map of strings always encodes
	return data
}

// saveFiles keeps what a publish sent as version cid, files (encodeFiles
// of their identities), for the next one.
func (s stamps) saveFiles(cid string, files json.RawMessage) {
	if s.file == "" {
		return
	}
	data, _ := json.Marshal(struct {
		CID   string          `json:"cid"`
		Files json.RawMessage `json:"files"`
	}{cid, files})
	if err := writeFileAtomic(s.filesFile(), writeBytes(data)); err != nil {
		slog.Debug("publish: keeping the files published", "err", err)
	}
}

// builder is a site.Builder for the content folder, started from the
// render cache of its last publish when there is a usable one, and from
// the stats the stamp took of every source just before (the build does
// not stat them again).
func (s stamps) builder(cfg site.Config) *site.Builder {
	b := site.NewBuilder(cfg)
	if s.cache == "" {
		return b
	}
	if err := b.LoadCache(s.cache, s.binary); err != nil {
		slog.Debug("publish: rendering everything", "err", err)
	}
	b.UseStats(s.stats)
	return b
}

// saveCache keeps what b rendered for the next publish of the folder, and
// drops the render caches of folders published least recently.
func (s stamps) saveCache(b *site.Builder) {
	if s.cache == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(s.cache), 0o700); err != nil {
		slog.Debug("publish: keeping the render cache", "err", err)
		return
	}
	// Not synced: a cache file a crash cut short fails its checksum.
	if err := b.SaveCache(s.cache, s.binary); err != nil {
		slog.Debug("publish: keeping the render cache", "err", err)
		return
	}
	ents, err := os.ReadDir(filepath.Dir(s.cache))
	if err != nil || len(ents) <= renderCachesKept {
		return
	}
	type kept struct {
		path string
		mod  time.Time
	}
	var all []kept
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), site.CacheContentsSuffix) || strings.HasPrefix(e.Name(), ".") {
			continue // a cache file's contents go with it; temporary files are another publish's
		}
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			all = append(all, kept{filepath.Join(filepath.Dir(s.cache), e.Name()), info.ModTime()})
		}
	}
	slices.SortFunc(all, func(a, b kept) int { return b.mod.Compare(a.mod) })
	for _, k := range all[min(renderCachesKept, len(all)):] {
		if k.path != s.cache {
			_ = os.Remove(k.path)
			_ = os.Remove(k.path + site.CacheContentsSuffix)
		}
	}
}

// writeBytes is a writer function for writeFileAtomic writing data.
func writeBytes(data []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}
}

// writeFileAtomic makes file what write writes (0600), or leaves it as it
// was. It does not sync: what it writes are caches.
func writeFileAtomic(file string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".stamp-*")
	if err != nil {
		return err
	}
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	return nil
}

// warnCounter is a slog handler that counts the records at Warn or above
// it passes on, so a publish knows whether its build warned.
type warnCounter struct {
	slog.Handler
	n *atomic.Int64
}

func (w warnCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		w.n.Add(1)
	}
	return w.Handler.Handle(ctx, r)
}

func (w warnCounter) WithAttrs(as []slog.Attr) slog.Handler {
	return warnCounter{w.Handler.WithAttrs(as), w.n}
}

func (w warnCounter) WithGroup(name string) slog.Handler {
	return warnCounter{w.Handler.WithGroup(name), w.n}
}
