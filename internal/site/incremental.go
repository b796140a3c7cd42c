package site

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"html/template"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Builder builds one content directory again and again, as `island serve`
// and `island publish` do after every save, and redoes only what changed
// since its previous Build:
//
//   - a Markdown file whose stat is unchanged is not read again; one whose
//     stat changed is read and hashed, and parsed only if its bytes changed;
//   - a page's Markdown is rendered again only if its file changed or a link
//     in it now resolves differently (a page it links to was added, removed
//     or renamed);
//   - a page's layout is executed again only if something the layout can
//     see changed (its text, its neighbours' titles, a list it shows, the
//     navigation, site.toml, any layout file), or a link the layout wrote
//     now resolves differently.
//
// Everything else (site.toml, layouts, the static file list, tags, the
// feed, the sitemap, the link check) is redone on every Build: it is cheap.
// The bundle is byte-identical to what Build makes of the same content.
//
// Bundles from a Builder also let importer.Cache skip the files they share
// with the previous bundle without reading them (see Bundle.FS).
//
// Between builds a Builder holds every source's Markdown, its rendering
// and every page's HTML: about 80 MB for the 2,000-post corpus, the last
// bundle's pages included (it shares them). Its methods are safe for
// concurrent use; builds run one at a time.
type Builder struct {
	cfg Config

	mu    sync.Mutex
	cache *cache
}

// NewBuilder returns a Builder for cfg. When cfg.Now is zero, each Build
// uses the time it starts at, so future-dated posts appear once due.
func NewBuilder(cfg Config) *Builder {
	return &Builder{cfg: cfg, cache: &cache{}}
}

// Build renders the content directory as Build does, reusing what the
// previous call found unchanged. A failed build leaves what was learned
// valid: the next Build after a fix is still incremental.
func (b *Builder) Build(ctx context.Context) (*Bundle, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// The stats given for this build are of the sources as they were
	// before it: a build after it stats them itself.
	defer func() { b.cache.stats = nil }()
	bundle, err := build(ctx, b.cfg, b.cache)
	if b.cache.damaged.Load() {
		// A rendering the cache file keeps could not be read back as it
		// was written: build without anything from the file.
		b.cfg.Logger.Warn("site: the render cache is damaged; rendering everything", "content", b.cfg.ContentDir)
		b.cache = &cache{clock: b.cache.clock}
		return build(ctx, b.cfg, b.cache)
	}
	if raced := b.cache.raced; len(raced) > 0 {
		// A file parsed from the cache file changed before its body was
		// read: forget it, so that this build reads it whole.
		b.cache.raced = nil
		for _, src := range raced {
			delete(b.cache.sources, src)
		}
		bundle, err = build(ctx, b.cfg, b.cache)
	}
	return bundle, err
}

// cache is what a Builder keeps between builds. Every entry is checked
// against the current build before use, so none can go stale: sources by
// stat and content hash, renderings and pages by re-resolving their links
// whenever the set of bundle paths changed, pages by a key over all that
// their layout can see.
type cache struct {
	sources map[string]*source       // by content path: "posts/x.md"
	outputs map[string]*cachedOutput // by bundle path: "posts/x/index.html"
	// hugo says the last build was of a Hugo site, whose parsed pages a
	// cache file does not keep (see source.fromFile).
	hugo bool
	// raced lists the sources loadBody found changed during the build.
	mu    sync.Mutex
	raced []string
	// damaged says a rendering kept in a cache file's contents could not be
	// read back (contentRef.get).
	damaged atomic.Bool
	// clock, when set, replaces time.Now as the time a build starts, so
	// that tests can have files settle without waiting.
	clock func() time.Time
	// stats, when set, are the stats of the sources the next build reads,
	// taken before it (Builder.UseStats).
	stats *Stats
}

// now is the time a build starts, before it reads anything.
func (c *cache) now() time.Time {
	if c == nil || c.clock == nil {
		return time.Now()
	}
	return c.clock()
}

// source is one Markdown file as last read.
type source struct {
	stamp fileStamp
	// settled says stamp may be trusted next time: the file was last
	// changed long enough before it was read that a change made since
	// must show in the stamp, however coarse the file system's clock.
	settled bool
	hash    [sha256.Size]byte
	parsed  *page      // as parsed, before any build touched it; never modified
	md      *rendering // nil until rendered
	// fromFile says parsed came from a cache file (LoadCache): it has
	// neither the page's body (read again if the page must be rendered
	// again: page.lazyBody) nor its front matter's raw values, which only
	// a Hugo site reads.
	fromFile bool
}

// page returns a copy of the parsed page for one build to fill in.
func (s *source) page() *page {
	p := *s.parsed
	return &p
}

// rendering is a page's Markdown rendered, and what rendering found.
type rendering struct {
	content template.HTML // "" while ref holds it
	// ref is where a cache file keeps content: set, content is read from
	// there only when something uses it (contentRef.get).
	ref     *contentRef
	summary string
	links   []mdLink
	refs    []refUse          // a Hugo page's ref and relref shortcodes
	hash    [sha256.Size]byte // of content
	fp      [sha256.Size]byte // of the resolver the links were last resolved by
	env     [sha256.Size]byte // renderKey: what else the rendering depends on
}

// cachedOutput is one executed layout with its links resolved.
type cachedOutput struct {
	key    [sha256.Size]byte // jobKey of what the layout was executed with
	fp     [sha256.Size]byte // of the resolver its links were last resolved by
	digest [sha256.Size]byte // of data
	data   []byte
	// absent says the page came from a cache file, which keeps its digest
	// and size but not its bytes: data is nil.
	absent bool
	size   int64
	ids    map[string]bool
	pageLinks
}

// pageLinks are the links found in a page's HTML. A page reused from a
// cache file holds them as the file encodes them (linksRaw), decoded only
// if something needs them all (a resolver that changed): most publishes
// need none of the ~27 links of each of thousands of pages, only those
// the link check must see again (pending).
type pageLinks struct {
	links    []htmlLink // nil while only linksRaw holds them
	linksRaw []byte     // the cache file's encoding of links (cacheEncoder.links), nil when not from a file
	// pending are the links whose check can come out otherwise while the
	// page itself stays the same: those reaching nothing, and those with a
	// fragment not found on the page itself (another page's, or a static
	// file's, may change). Every other link of a reused page resolves as it
	// did and passes, so the link check skips it.
	pending []htmlLink
}

// all returns every link, decoding linksRaw if need be; ok is false when
// they cannot be decoded, which the caller takes as a cache miss.
func (l *pageLinks) all() (_ []htmlLink, ok bool) {
	if l.links != nil || l.linksRaw == nil {
		return l.links, true
	}
	d := &cacheDecoder{data: l.linksRaw}
	links := d.links()
	if d.err != nil || len(d.data) != 0 {
		return nil, false
	}
	l.links = links
	return links, true
}

// pendingLinks picks from the links of the page at path, whose ids are
// ids, those the link check of the page reused must see again (see
// pageLinks.pending).
func pendingLinks(path string, ids map[string]bool, links []htmlLink) []htmlLink {
	var out []htmlLink
	for _, l := range links {
		r := l.res
		selfOK := r.target == path && ids[r.frag]
		if r.problem != "" || r.frag != "" && !strings.EqualFold(r.frag, "top") && !selfOK {
			out = append(out, l)
		}
	}
	return out
}

// fileStamp is what stat says about a file.
type fileStamp struct {
	size         int64
	mtime, ctime int64 // Unix nanoseconds; ctime 0 where unknown
	dev, ino     uint64
}

// racyWindow is the coarsest file system clock island expects (FAT keeps
// mtime to 2 s): a file changed less than this before it was read may
// change again without its stamp changing.
const racyWindow = 2 * time.Second

// settledAt reports whether the stamp, read at t, will show any later change.
func (s fileStamp) settledAt(t time.Time) bool {
	return t.UnixNano()-max(s.mtime, s.ctime) >= int64(racyWindow)
}

// loadPage is readPage with the cache: a file whose stamp is settled and
// unchanged is not read; one whose bytes are unchanged is not parsed. It
// also returns the source record to keep, nil when the page is unusable.
// start is when the build started, before anything was read. hugo says
// the site is a Hugo site's, whose pages need what a cache file's parsed
// pages leave out.
func (c *cache) loadPage(dir, src string, start time.Time, hugo bool, ps *problems) (*page, *source) {
	if c == nil {
		return readPage(dir, src, ps), nil
	}
	file := filepath.Join(dir, filepath.FromSlash(src))
	// Stat before reading: a change made in between shows next time. A
	// file's lstat is its stat; a link is checked, then followed. A file
	// the caller's stats have was stat'ed before the build, when they were
	// taken: they tell when it settled.
	stamp, ok := c.stats.of(file)
	if ok {
		start = c.stats.at
	} else {
		info, err := os.Lstat(file)
		if err != nil || info.Mode()&fs.ModeSymlink != 0 {
			if !insideContent(dir, file, ps) {
				return nil, nil
			}
			if info, err = os.Stat(file); err != nil {
				ps.addf(file, 0, "cannot read: %v", err)
				return nil, nil
			}
		}
		stamp = stampOf(info)
	}
	old := c.sources[src]
	parsed := old != nil && old.parsed != nil && !(hugo && old.fromFile)
	if parsed && old.settled && old.stamp == stamp {
		return old.page(), old
	}
	data, err := os.ReadFile(file)
	if err != nil {
		ps.addf(file, 0, "cannot read: %v", err)
		return nil, nil
	}
	s := &source{stamp: stamp, settled: stamp.settledAt(start), hash: sha256.Sum256(data)}
	if parsed && old.hash == s.hash {
		// Touched, not changed: the same bytes parse the same. A parse from
		// a cache file still has no body (loadBody reads it if need be).
		s.parsed, s.md, s.fromFile = old.parsed, old.md, old.fromFile
		return s.page(), s
	}
	if mayHighlight(data) {
		warmLexers() // this page is rendered again
	}
	if s.parsed = parsePage(file, src, data, ps); s.parsed == nil {
		return nil, nil
	}
	if old != nil && old.hash == s.hash {
		s.md = old.md // a cache file's rendering (LoadCache)
	}
	return s.page(), s
}

// errSourceRaced marks a page whose file changed between the stat that
// let its parse come from a cache file and the read of its body: the
// Builder builds again, reading it afresh.
const errSourceRaced = "changed while the site was being built; build again"

// loadBody reads again the body of a page parsed from a cache file, which
// keeps none, when the page must be rendered again. The file must still
// hold the bytes the parse was of; if not, it changed during the build,
// which the Builder notes to build again (see Builder.Build).
func (c *cache) loadBody(p *page, ps *problems) bool {
	s := c.sources[p.src]
	data, err := os.ReadFile(p.file)
	if err != nil || s == nil || sha256.Sum256(data) != s.hash {
		c.mu.Lock()
		c.raced = append(c.raced, p.src)
		c.mu.Unlock()
		ps.addf(p.file, 0, "%s", errSourceRaced)
		return false
	}
	var discard problems // the same bytes parsed without a problem before
	np := parsePage(p.file, p.src, data, &discard)
	if np == nil {
		ps.addf(p.file, 0, "%s", errSourceRaced)
		return false
	}
	p.body, p.bodyLine, p.lazyBody = np.body, np.bodyLine, false
	return true
}

// keepSources replaces the sources with those of this build, dropping
// files that are gone or unusable.
func (c *cache) keepSources(srcs []*source) {
	if c == nil {
		return
	}
	c.sources = make(map[string]*source, len(srcs))
	for _, s := range srcs {
		if s != nil {
			c.sources[s.parsed.src] = s
		}
	}
}

// reuseRendering fills in p's rendering from the cache if its links (and
// refs) still resolve as they did and env, what else it depends on, is the
// same. It returns the hash of the content.
func (c *cache) reuseRendering(p *page, res *resolver, fp, env [sha256.Size]byte) ([sha256.Size]byte, bool) {
	if c == nil {
		return [sha256.Size]byte{}, false
	}
	s := c.sources[p.src]
	if s == nil || s.md == nil || s.md.env != env {
		return [sha256.Size]byte{}, false
	}
	r := s.md
	if r.fp != fp {
		l := loc{dir: p.dir, file: p.outPath(), src: p.src}
		for _, link := range r.links {
			if res.resolve(l, link.raw) != link.res {
				return [sha256.Size]byte{}, false
			}
		}
		for _, u := range r.refs {
			if href, msg := res.ref(u.from, u.arg); u.from != l || href != u.href || msg != u.err {
				return [sha256.Size]byte{}, false
			}
		}
		r.fp = fp
	}
	p.content, p.summary, p.links, p.refs, p.lazy = r.content, r.summary, r.links, r.refs, nil
	if r.content == "" && r.ref != nil {
		p.lazy = r.ref
	}
	return r.hash, true
}

// keepRendering remembers p's rendering and returns its content's hash.
// Each page has a source of its own, so workers never share one.
func (c *cache) keepRendering(p *page, fp, env [sha256.Size]byte) [sha256.Size]byte {
	h := sha256.Sum256([]byte(p.content))
	if s := c.sources[p.src]; s != nil {
		s.md = &rendering{content: p.content, summary: p.summary, links: p.links, refs: p.refs, hash: h, fp: fp, env: env}
	}
	return h
}

// renderKey is what a page's rendering depends on besides its file and
// links: for a Hugo page, the site's settings and shortcodes, and what
// its shortcodes can see of it (front matter cascaded from above, its
// bundle's files, its address). Zero for island's own pages.
func (b *builder) renderKey(p *page) [sha256.Size]byte {
	if b.env == nil || p.hugo == nil {
		return [sha256.Size]byte{}
	}
	k := newKeyWriter()
	k.h.Write(b.env.key[:])
	hp := p.hugo
	data, _ := json.Marshal([]any{hp.params, hp.resources, hp.lastmod, hp.publishDate, hp.typ, p.meta.Title,
		p.meta.Description, p.meta.Date, p.meta.Draft, p.meta.Summary, p.dir, p.out})
	k.str(string(data))
	return k.sum()
}

// reuseOutput returns the page j made last time if its layout would see
// the same view (key) and its links still resolve as they did.
func (c *cache) reuseOutput(j job, dir string, key [sha256.Size]byte, res *resolver, fp [sha256.Size]byte) *output {
	o := c.outputs[j.path]
	if o == nil || o.key != key {
		return nil
	}
	if o.fp != fp {
		l := loc{dir: dir, file: j.path}
		if j.page != nil {
			l.src = j.page.src
		}
		links, ok := o.all()
		if !ok {
			return nil
		}
		for _, link := range links {
			if res.resolve(l, link.raw) != link.res {
				return nil
			}
		}
	}
	return &output{path: j.path, data: o.data, page: j.page, layout: j.layout, ids: o.ids, pageLinks: o.pageLinks, key: key, digest: o.digest,
		absent: o.absent, size: o.size, reused: true}
}

// keepOutputs replaces the cached pages with those of this build.
func (c *cache) keepOutputs(outs []*output, fp [sha256.Size]byte) {
	c.outputs = make(map[string]*cachedOutput, len(outs))
	for _, o := range outs {
		if o.digest == ([sha256.Size]byte{}) {
			o.digest = sha256.Sum256(o.data)
		}
		size := int64(len(o.data))
		if o.absent {
			size = o.size
		}
		if !o.reused {
			o.pending = pendingLinks(o.path, o.ids, o.links)
		}
		c.outputs[o.path] = &cachedOutput{key: o.key, fp: fp, data: o.data, absent: o.absent, size: size, ids: o.ids, pageLinks: o.pageLinks, digest: o.digest}
	}
}

// keyWriter hashes values unambiguously: every string is length-prefixed.
type keyWriter struct {
	h   hash.Hash
	buf [8]byte
	// chunk carries strings into h, which takes only bytes: io.WriteString
	// made a copy of every string hashed (~1.4 MB per build of the
	// 2,000-post corpus).
	chunk [256]byte
}

func newKeyWriter() *keyWriter { return &keyWriter{h: sha256.New()} }

func (k *keyWriter) int(n int64) {
	binary.LittleEndian.PutUint64(k.buf[:], uint64(n))
	k.h.Write(k.buf[:])
}

func (k *keyWriter) str(s string) {
	k.int(int64(len(s)))
	for len(s) > 0 {
		n := copy(k.chunk[:], s)
		k.h.Write(k.chunk[:n])
		s = s[n:]
	}
}

func (k *keyWriter) bool(b bool) {
	if b {
		k.int(1)
	} else {
		k.int(0)
	}
}

// time covers what a layout can print of a time: the instant and its zone.
func (k *keyWriter) time(t time.Time) {
	k.str(t.Format(time.RFC3339Nano))
	k.str(t.Location().String())
}

func (k *keyWriter) sum() (out [sha256.Size]byte) {
	k.h.Sum(out[:0])
	return out
}

func (k *keyWriter) tag(t *tagView) {
	if t == nil {
		k.int(-1)
		return
	}
	k.str(t.Name)
	k.str(t.Path)
	k.int(int64(t.Count))
}

func (k *keyWriter) tags(ts []*tagView) {
	k.int(int64(len(ts)))
	for _, t := range ts {
		k.tag(t)
	}
}

// entry writes an entry by its key (entryKeys), set once its page is rendered.
func (k *keyWriter) entry(e *entry) {
	if e == nil {
		k.int(-1)
		return
	}
	k.int(1)
	k.h.Write(e.key[:])
}

// entryMeta writes an entry by the key of its fields but Content.
func (k *keyWriter) entryMeta(e *entry) {
	if e == nil {
		k.int(-1)
		return
	}
	k.int(2)
	k.h.Write(e.meta[:])
}

// entryKeys are the keys of an entry: key covers every field a layout can
// read, content being the hash of e.Content; meta every field but Content.
// key is made from meta, so that the fields are hashed once.
func entryKeys(e *entry, content [sha256.Size]byte) (key, meta [sha256.Size]byte) {
	k := newKeyWriter()
	k.str(e.Title)
	k.time(e.Date)
	k.str(e.Summary)
	k.str(e.Path)
	k.tags(e.Tags)
	meta = k.sum()
	var buf [2 * sha256.Size]byte
	copy(buf[:], meta[:])
	copy(buf[sha256.Size:], content[:])
	return sha256.Sum256(buf[:]), meta
}

// viewKey covers everything a layout executed with v can reach: the view's
// fields, the entries and tags they point to, and the directory Rel is
// relative to; the Content of the entries of Posts only when listContent
// says the layout may read it. TestViewKeyCoversTheView checks that it
// misses nothing.
func viewKey(k *keyWriter, v *view, listContent bool) {
	s := v.Site
	for _, f := range []string{s.Title, s.Author, s.Description, s.Language, s.BaseURL, s.Copyright} {
		k.str(f)
	}
	k.str(v.Kind)
	k.str(v.Title)
	k.str(v.Description)
	k.int(int64(len(v.Nav)))
	for _, n := range v.Nav {
		k.str(n.Name)
		k.str(n.Path)
		k.bool(n.Current)
	}
	k.entry(v.Page)
	k.int(int64(len(v.Posts)))
	k.bool(listContent)
	for _, e := range v.Posts {
		if listContent {
			k.entry(e)
		} else {
			k.entryMeta(e)
		}
	}
	k.tags(v.Tags)
	k.tag(v.Tag)
	if t := v.Taxonomy; t != nil {
		k.int(1)
		k.str(t.Name)
		k.str(t.Plural)
		k.str(t.Singular)
		k.str(t.Path)
	} else {
		k.int(-1)
	}
	k.str(v.MainPath)
	k.entry(v.Prev)
	k.entry(v.Next)
	k.str(string(v.InlineCSS))
	k.str(v.dir)
}

// jobKey is what executing job j with view v depends on: the theme, the
// layout, the page's own links (which the HTML scan skips) and the view.
func (b *builder) jobKey(j job, v *view) [sha256.Size]byte {
	k := newKeyWriter()
	k.h.Write(b.theme.hash[:])
	k.str(j.layout)
	k.str(j.path)
	if j.page != nil {
		k.str(j.page.src)
		k.int(int64(len(j.page.links)))
		for _, l := range j.page.links {
			k.str(l.key)
		}
	} else {
		k.int(-1)
	}
	viewKey(k, v, b.theme.listContent[j.layout])
	return k.sum()
}

// fingerprint identifies everything links are resolved against: while it
// stays the same, every link resolves as it did.
func (r *resolver) fingerprint() [sha256.Size]byte {
	k := newKeyWriter()
	k.str(r.contentDir)
	files := slices.Sorted(maps.Keys(r.files))
	k.int(int64(len(files)))
	for _, f := range files {
		k.str(f)
		k.bool(r.files[f])
	}
	srcs := slices.Sorted(maps.Keys(r.sources))
	k.int(int64(len(srcs)))
	for _, s := range srcs {
		p := r.sources[s]
		k.str(s)
		k.str(p.dir)
		k.int(int64(p.kind))
	}
	excluded := slices.Sorted(maps.Keys(r.excluded))
	k.int(int64(len(excluded)))
	for _, e := range excluded {
		k.str(e)
		k.str(r.excluded[e])
	}
	return k.sum()
}

// SourceStamp is a fingerprint of everything a build of dir reads: every
// entry under dir (under the Hugo site's root when dir is its content/),
// its path, type and stat, and for a file changed too recently before
// start (the time the caller first looked) for its stat to show a later
// change (racyWindow), its bytes. Files named in byBytes (slash-separated,
// relative to where the walk starts) count by their bytes whatever their
// stat: a caller comparing with an earlier stamp passes the files that
// counted by their bytes then (what SourceStamp returned as bytes), so a
// file that has settled since compares as the same source. Equal stamps
// mean the same sources, so the same build, up to Bundle.ChangesAt;
// `island publish` uses it to know that nothing changed without building.
func SourceStamp(dir string, start time.Time, byBytes []string) (_ [sha256.Size]byte, bytes []string, _ error) {
	st, _, err := SourceStamps(dir, StampAt{Start: start, ByBytes: byBytes})
	if err != nil {
		return [sha256.Size]byte{}, nil, err
	}
	return st[0].Sum, st[0].ByBytes, nil
}

// StampAt asks SourceStamps for one stamp: SourceStamp's start and byBytes.
type StampAt struct {
	Start   time.Time
	ByBytes []string
}

// Stamp is one stamp SourceStamps took: SourceStamp's results.
type Stamp struct {
	Sum     [sha256.Size]byte
	ByBytes []string
}

// SourceStamps takes a stamp of dir for each of at in one walk, each what
// SourceStamp with its start and files by bytes gives of the sources as
// that walk saw them: every entry is looked at once and every file read
// at most once. `island publish` stamps the sources after a build twice,
// as of now and as of before the build, to check that the build read
// what the stamp it keeps is of.
func SourceStamps(dir string, at ...StampAt) ([]Stamp, *Stats, error) {
	root := dir
	if r, ok := findHugoRoot(dir); ok {
		root = r
	}
	stats := &Stats{at: time.Now(), files: map[string]fileStamp{}}
	type stamping struct {
		start  time.Time
		always map[string]bool
		h      hash.Hash
		out    Stamp
	}
	ss := make([]*stamping, len(at))
	for i, a := range at {
		s := &stamping{start: a.Start, always: make(map[string]bool, len(a.ByBytes)), h: sha256.New()}
		for _, p := range a.ByBytes {
			s.always[p] = true
		}
		ss[i] = s
	}
	var buf [8]byte
	num := func(h hash.Hash, v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		var target string
		if info.Mode()&os.ModeSymlink != 0 {
			if target, err = os.Readlink(p); err != nil {
				return err
			}
		}
		if info.Mode().IsRegular() {
			stats.files[p] = stampOf(info)
		}
		var sum *[sha256.Size]byte // the file's bytes, read once if a stamp needs them
		for _, s := range ss {
			h := s.h
			io.WriteString(h, rel)
			h.Write([]byte{0})
			num(h, uint64(info.Mode()))
			switch {
			case info.Mode()&os.ModeSymlink != 0:
				io.WriteString(h, target)
				h.Write([]byte{0})
			case info.Mode().IsRegular():
				st := stampOf(info)
				slash := filepath.ToSlash(rel)
				if st.settledAt(s.start) && !s.always[slash] {
					h.Write([]byte{'s'})
					num(h, uint64(st.size))
					num(h, uint64(st.mtime))
					num(h, uint64(st.ctime))
					num(h, st.dev)
					num(h, st.ino)
					break
				}
				if sum == nil {
					data, err := os.ReadFile(p)
					if err != nil {
						return err
					}
					s := sha256.Sum256(data)
					sum = &s
				}
				h.Write([]byte{'b'})
				h.Write(sum[:])
				s.out.ByBytes = append(s.out.ByBytes, slash)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("site: stamp %s: %w", dir, err)
	}
	out := make([]Stamp, len(ss))
	for i, s := range ss {
		s.h.Sum(s.out.Sum[:0])
		out[i] = s.out
	}
	return out, stats, nil
}

// Stats are the stat of every regular file under a folder, as
// SourceStamps saw them: a Builder given them (UseStats) does not stat
// those sources again.
type Stats struct {
	at    time.Time // before the first stat
	files map[string]fileStamp
}

// of is the stat of file, if s has it.
func (s *Stats) of(file string) (fileStamp, bool) {
	if s == nil {
		return fileStamp{}, false
	}
	st, ok := s.files[file]
	return st, ok
}

// UseStats gives the next Build the stats of its sources, taken before it
// (SourceStamps): it reads the sources they say are settled and unchanged
// no more than it would have with its own, stats taken when it starts.
func (b *Builder) UseStats(st *Stats) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cache.stats = st
}
