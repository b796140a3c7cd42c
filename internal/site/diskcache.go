package site

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unsafe"
)

// A Builder's cache can be kept in a file between processes, so that
// `island publish` after one edit reads, parses and renders again only
// what changed, as `island serve` does in memory. The file holds, per
// source, its stat and content hash with what parsing it gave (the front
// matter of island's own layout) and its Markdown rendered (the HTML in a
// contents file beside it, FILE.md, appended to and read back only where a
// layout or the feed may use it, checked against its SHA-256), and per page
// the key of what its layout saw and the digest and size of what it made,
// never the page's bytes: a page reused from the file is known by its
// digest (File.Identity), which is all a publish of the change needs, and
// the file stays small enough to read and write on every publish. Every
// entry taken from the file is checked exactly as the in-memory cache
// checks its own (stat or content hash, render key, link fingerprint, job
// key), so a file from another site, an older state of this one, or
// another configuration is only a cache miss. What the checks cannot see
// (another island, which may render the same input differently; a damaged
// file) is told by the file's tag and checksum: such a file is ignored as
// a whole.

// cacheFileMagic starts every cache file; its number changes whenever
// what the file holds or how it is written changes.
const cacheFileMagic = "island render cache 5\n"

// maxCacheFile bounds the cache file read back: a site whose rendered
// pages are larger simply builds from scratch.
const maxCacheFile = 1 << 30

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// CacheContentsSuffix ends the name of a cache file's contents file (see
// SaveCache), which goes with it.
const CacheContentsSuffix = ".md"

const contentsSuffix = CacheContentsSuffix

// SaveCache writes what the Builder's last Build rendered to file, and the
// renderings it has not written before to file's contents file, tagged
// with tag: LoadCache of another tag ignores it. Callers tag it with
// whatever else decides the bytes of a build, such as the island
// executable. Nothing is synced: a file a crash cut short fails its
// checksum, a contents file that does not hold what file says fails the
// check of what is read from it, and either costs one full render.
func (b *Builder) SaveCache(file, tag string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.cache.placeContents(file + contentsSuffix); err != nil {
		return fmt.Errorf("site: save cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".cache-*")
	if err != nil {
		return fmt.Errorf("site: save cache: %w", err)
	}
	err = b.cache.encode(tmp, b.cfg.ContentDir, tag)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("site: save cache: %w", err), os.Remove(tmp.Name()))
	}
	return nil
}

// placeContents gives every rendering a place in the contents file: those
// it holds keep theirs, new ones are appended. A file grown to more than
// twice what it must hold is written anew with only that.
func (c *cache) placeContents(contents string) error {
	var live, added int64
	var fresh []*rendering
	for _, s := range c.sources {
		switch r := s.md; {
		case r == nil:
		case r.ref != nil && r.ref.file == contents:
			live += r.ref.n
		default:
			fresh = append(fresh, r)
			added += int64(len(r.content))
		}
	}
	f, err := os.OpenFile(contents, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size+added > 2*(live+added)+1<<20 {
		return c.rewriteContents(contents)
	}
	var buf bytes.Buffer
	refs := make([]*contentRef, len(fresh))
	for i, r := range fresh {
		content, err := r.text()
		if err != nil {
			return c.rewriteContents(contents)
		}
		refs[i] = &contentRef{file: contents, off: size + int64(buf.Len()), n: int64(len(content)), hash: r.hash}
		buf.WriteString(string(content))
	}
	if _, err := f.WriteAt(buf.Bytes(), size); err != nil {
		return err
	}
	for i, r := range fresh {
		r.ref = refs[i]
	}
	return nil
}

// rewriteContents writes a new contents file holding every rendering.
func (c *cache) rewriteContents(contents string) error {
	tmp, err := os.CreateTemp(filepath.Dir(contents), ".contents-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails once renamed
	w := bufio.NewWriterSize(tmp, 1<<16)
	var off int64
	refs := map[*rendering]*contentRef{}
	for _, s := range c.sources {
		r := s.md
		if r == nil {
			continue
		}
		content, err := r.text()
		if err != nil {
			s.md = nil // no longer readable: rendered again next time
			continue
		}
		w.WriteString(string(content))
		refs[r] = &contentRef{file: contents, off: off, n: int64(len(content)), hash: r.hash}
		off += int64(len(content))
	}
	err = w.Flush()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), contents)
	}
	if err != nil {
		return err
	}
	for r, ref := range refs {
		r.ref = ref
	}
	return nil
}

// text is the rendering's content, read from its contents file if need be.
func (r *rendering) text() (template.HTML, error) {
	if r.content != "" || r.ref == nil {
		return r.content, nil
	}
	return r.ref.get()
}

// contentRef is where a contents file keeps one rendering's content.
type contentRef struct {
	file   string
	off, n int64
	hash   [sha256.Size]byte // of the content, checked when read

	once    sync.Once
	content template.HTML
	err     error
}

// get reads the content, once. Bytes that are not those written (another
// contents file, a damaged one) are an error: the Builder then renders
// everything (Builder.Build).
func (r *contentRef) get() (template.HTML, error) {
	r.once.Do(func() {
		f, err := os.Open(r.file)
		if err != nil {
			r.err = fmt.Errorf("site: read the render cache: %w", err)
			return
		}
		defer f.Close()
		buf := make([]byte, r.n)
		if _, err := f.ReadAt(buf, r.off); err != nil {
			r.err = fmt.Errorf("site: read the render cache %s: %w", r.file, err)
			return
		}
		if sha256.Sum256(buf) != r.hash {
			r.err = fmt.Errorf("site: read the render cache %s: %w", r.file, errCacheFormat)
			return
		}
		r.content = template.HTML(buf)
	})
	return r.content, r.err
}

// LoadCache makes what SaveCache wrote to file, with the same tag and
// content directory, the Builder's starting point. A missing, damaged,
// foreign or differently tagged file leaves the Builder as it was and
// returns why; the next Build then renders everything, as Build does.
func (b *Builder) LoadCache(file, tag string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("site: load cache: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("site: load cache: %w", err)
	}
	if st.Size() > maxCacheFile {
		return fmt.Errorf("site: load cache %s: %d bytes, more than a cache may hold", file, st.Size())
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil {
		return fmt.Errorf("site: load cache %s: %w", file, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := decodeCache(data, b.cfg.ContentDir, tag, file+contentsSuffix)
	if err != nil {
		return fmt.Errorf("site: load cache %s: %w", file, err)
	}
	c.clock = b.cache.clock
	b.cache = c
	return nil
}

// encode writes the cache to w: magic, tag, content directory, the
// sources, the pages by bundle path, then a CRC-32C of all before it.
func (c *cache) encode(w io.Writer, contentDir, tag string) error {
	crc := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<16)
	e := &cacheEncoder{buf: bw}
	bw.WriteString(cacheFileMagic)
	e.str(tag)
	e.str(contentDir)
	e.uint(uint64(len(c.sources)))
	for src, s := range c.sources {
		e.str(src)
		e.stamp(s.stamp)
		e.bool(s.settled)
		e.sum(s.hash)
		// A Hugo site's pages need their raw front matter, which the file
		// does not keep: they are parsed again.
		if p := s.parsed; p != nil && !c.hugo && storableTime(p.meta.Date) {
			e.bool(true)
			e.page(p)
		} else {
			e.bool(false)
		}
		r := s.md
		if r == nil || r.ref == nil { // a rendering placeContents did not place is not kept
			e.bool(false)
			continue
		}
		e.bool(true)
		e.int(r.ref.off)
		e.int(r.ref.n)
		e.str(r.summary)
		e.uint(uint64(len(r.links)))
		for _, l := range r.links {
			e.uint(uint64(l.line))
			e.str(l.raw)
			e.resolved(l.res)
			e.str(l.key)
		}
		e.uint(uint64(len(r.refs)))
		for _, u := range r.refs {
			e.str(u.from.dir)
			e.str(u.from.file)
			e.str(u.from.src)
			e.str(u.arg)
			e.str(u.href)
			e.str(u.err)
		}
		e.sum(r.hash)
		e.sum(r.fp)
		e.sum(r.env)
	}
	e.uint(uint64(len(c.outputs)))
	var blob bytes.Buffer
	for p, o := range c.outputs {
		e.str(p)
		e.sum(o.key)
		e.sum(o.fp)
		e.sum(o.digest)
		e.uint(uint64(o.size))
		e.uint(uint64(len(o.ids)))
		for id := range o.ids {
			e.str(id)
		}
		e.links(o.pending)
		// A page reused from the file writes its links back as it read
		// them, undecoded.
		raw := o.linksRaw
		if raw == nil {
			blob.Reset()
			(&cacheEncoder{buf: &blob}).links(o.links)
			raw = blob.Bytes()
		}
		e.bytes(raw)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	return err
}

// storableTime says the file can give t back exactly, zone included: the
// zero time, UTC, or a fixed zone (what parsing a date with an offset
// gives). A time in the local zone, which another process may have
// otherwise, is not stored; its page is parsed again.
func storableTime(t time.Time) bool {
	if t == (time.Time{}) || t.Location() == time.UTC {
		return true
	}
	name, _ := t.Zone()
	return t.Location() != time.Local && t.Location().String() == name
}

// Kinds of stored times.
const (
	timeZero = iota
	timeUTC
	timeFixed
)

// encodeBytes is encode into memory.
func (c *cache) encodeBytes(contentDir, tag string) []byte {
	var b bytes.Buffer
	_ = c.encode(&b, contentDir, tag) // a bytes.Buffer takes every write
	return b.Bytes()
}

type cacheEncoder struct {
	buf interface {
		io.Writer
		io.StringWriter
		io.ByteWriter
	}
	tmp [binary.MaxVarintLen64]byte
}

// links writes links: their number, then each.
func (e *cacheEncoder) links(links []htmlLink) {
	e.uint(uint64(len(links)))
	for _, l := range links {
		e.str(l.raw)
		e.resolved(l.res)
	}
}

func (e *cacheEncoder) uint(v uint64) { e.buf.Write(binary.AppendUvarint(e.tmp[:0], v)) }

func (e *cacheEncoder) str(s string) {
	e.uint(uint64(len(s)))
	e.buf.WriteString(s)
}

func (e *cacheEncoder) bytes(b []byte) {
	e.uint(uint64(len(b)))
	e.buf.Write(b)
}

func (e *cacheEncoder) int(v int64) { e.buf.Write(binary.AppendVarint(e.tmp[:0], v)) }

func (e *cacheEncoder) strs(ss []string) {
	e.uint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *cacheEncoder) stamp(s fileStamp) {
	e.int(s.size)
	e.int(s.mtime)
	e.int(s.ctime)
	e.uint(s.dev)
	e.uint(s.ino)
}

// time writes a time storableTime accepts.
func (e *cacheEncoder) time(t time.Time) {
	switch name, off := t.Zone(); {
	case t == (time.Time{}):
		e.uint(timeZero)
	case t.Location() == time.UTC:
		e.uint(timeUTC)
		e.int(t.Unix())
		e.int(int64(t.Nanosecond()))
	default:
		e.uint(timeFixed)
		e.int(t.Unix())
		e.int(int64(t.Nanosecond()))
		e.str(name)
		e.int(int64(off))
	}
}

// page writes what parsePage makes of a file of island's own layout,
// but its body.
func (e *cacheEncoder) page(p *page) {
	m := &p.meta
	e.str(m.Title)
	e.time(m.Date)
	e.bool(m.Draft)
	e.strs(m.Tags)
	e.str(m.Summary)
	e.str(m.Slug)
	e.int(int64(m.Weight))
	e.str(m.Layout)
	e.str(m.Description)
	e.uint(uint64(len(m.keyLines)))
	for k, l := range m.keyLines {
		e.str(k)
		e.int(int64(l))
	}
	e.strs(m.unknown)
	e.int(int64(p.bodyLine))
}

func (e *cacheEncoder) sum(s [sha256.Size]byte) { e.buf.Write(s[:]) }

func (e *cacheEncoder) bool(v bool) {
	if v {
		e.buf.WriteByte(1)
	} else {
		e.buf.WriteByte(0)
	}
}

func (e *cacheEncoder) resolved(r resolved) {
	e.bool(r.external)
	e.str(r.href)
	e.str(r.target)
	e.str(r.frag)
	e.str(r.problem)
	e.bool(r.rewrite)
}

// errCacheFormat is what any malformed cache file gives.
var errCacheFormat = errors.New("not a cache file of this island, or damaged")

// decodeCache reads what encode wrote, for contentDir and tag only; the
// renderings' content is in the file contents. The strings it returns
// share data's memory, which must not change after.
func decodeCache(data []byte, contentDir, tag, contents string) (*cache, error) {
	if len(data) < len(cacheFileMagic)+4 || string(data[:len(cacheFileMagic)]) != cacheFileMagic {
		return nil, errCacheFormat
	}
	body := data[:len(data)-4]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(data[len(body):]) {
		return nil, errCacheFormat
	}
	d := &cacheDecoder{data: body[len(cacheFileMagic):]}
	if d.str() != tag {
		return nil, errors.New("written by another island or for other settings")
	}
	if d.str() != contentDir {
		return nil, errors.New("of another content directory")
	}
	n := d.count()
	c := &cache{sources: make(map[string]*source, n), outputs: map[string]*cachedOutput{}}
	for ; n > 0 && d.err == nil; n-- {
		src := d.str()
		s := &source{stamp: d.stamp(), settled: d.bool(), hash: d.sum()}
		if d.bool() {
			s.parsed, s.fromFile = d.page(src, contentDir), true
		}
		if d.bool() {
			ref := &contentRef{file: contents, off: d.int(), n: d.int()}
			if ref.off < 0 || ref.n < 0 || ref.n > maxCacheFile {
				d.fail()
			}
			r := &rendering{ref: ref, summary: d.str()}
			if k := d.count(); k > 0 {
				r.links = make([]mdLink, 0, k)
				for ; k > 0 && d.err == nil; k-- {
					r.links = append(r.links, mdLink{line: int(d.uint()), raw: d.str(), res: d.resolved(), key: d.str()})
				}
			}
			if k := d.count(); k > 0 {
				r.refs = make([]refUse, 0, k)
				for ; k > 0 && d.err == nil; k-- {
					r.refs = append(r.refs, refUse{from: loc{dir: d.str(), file: d.str(), src: d.str()}, arg: d.str(), href: d.str(), err: d.str()})
				}
			}
			r.hash, r.fp, r.env = d.sum(), d.sum(), d.sum()
			ref.hash = r.hash
			s.md = r
		}
		c.sources[src] = s
	}
	n = d.count()
	c.outputs = make(map[string]*cachedOutput, n)
	for ; n > 0 && d.err == nil; n-- {
		p := d.str()
		o := &cachedOutput{key: d.sum(), fp: d.sum(), digest: d.sum(), absent: true}
		if o.size = int64(d.uint()); o.size < 0 {
			d.fail()
		}
		k := d.count()
		o.ids = make(map[string]bool, k)
		for ; k > 0 && d.err == nil; k-- {
			o.ids[d.str()] = true
		}
		o.pending = d.links()
		// Decoded when needed (pageLinks.all); never nil, so that it is
		// written back as it is.
		o.linksRaw = d.bytes()
		if o.linksRaw == nil {
			o.linksRaw = []byte{}
		}
		c.outputs[p] = o
	}
	if d.err == nil && len(d.data) != 0 {
		d.err = errCacheFormat
	}
	if d.err != nil {
		return nil, d.err
	}
	return c, nil
}

// cacheDecoder reads a cache file front to back; after the first error
// every read gives a zero value and err stays set.
type cacheDecoder struct {
	data []byte
	err  error
}

func (d *cacheDecoder) fail() { d.err, d.data = errCacheFormat, nil }

func (d *cacheDecoder) uint() uint64 {
	v, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.data = d.data[n:]
	return v
}

// count is a number of items still to read; each takes at least a byte,
// so a count above the bytes left is damage, not a reason to allocate.
func (d *cacheDecoder) count() int {
	v := d.uint()
	if v > uint64(len(d.data)) {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *cacheDecoder) int() int64 {
	v, n := binary.Varint(d.data)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.data = d.data[n:]
	return v
}

// str shares the file's bytes, read once and never written to: the
// rendered Markdown is the bulk of the file, and copying it would double
// the time LoadCache takes and the memory it holds.
func (d *cacheDecoder) str() string {
	n := d.uint()
	if n > uint64(len(d.data)) {
		d.fail()
		return ""
	}
	if n == 0 {
		return ""
	}
	s := unsafe.String(&d.data[0], int(n))
	d.data = d.data[n:]
	return s
}

// bytes shares the file's bytes, as str does.
func (d *cacheDecoder) bytes() []byte {
	n := d.uint()
	if n > uint64(len(d.data)) {
		d.fail()
		return nil
	}
	b := d.data[:n:n]
	d.data = d.data[n:]
	return b
}

// links reads what cacheEncoder.links wrote.
func (d *cacheDecoder) links() []htmlLink {
	k := d.count()
	if k == 0 {
		return nil
	}
	out := make([]htmlLink, 0, k)
	for ; k > 0 && d.err == nil; k-- {
		out = append(out, htmlLink{raw: d.str(), res: d.resolved()})
	}
	return out
}

func (d *cacheDecoder) strs() []string {
	k := d.count()
	if k == 0 {
		return nil
	}
	out := make([]string, 0, k)
	for ; k > 0 && d.err == nil; k-- {
		out = append(out, d.str())
	}
	return out
}

func (d *cacheDecoder) stamp() fileStamp {
	return fileStamp{size: d.int(), mtime: d.int(), ctime: d.int(), dev: d.uint(), ino: d.uint()}
}

func (d *cacheDecoder) time() time.Time {
	switch d.uint() {
	case timeZero:
		return time.Time{}
	case timeUTC:
		return time.Unix(d.int(), d.int()).UTC()
	case timeFixed:
		sec, nsec := d.int(), d.int()
		name, off := d.str(), d.int()
		if off != int64(int32(off)) {
			d.fail()
			return time.Time{}
		}
		return time.Unix(sec, nsec).In(time.FixedZone(name, int(off)))
	}
	d.fail()
	return time.Time{}
}

// page reads what cacheEncoder.page wrote: a parsed page without its
// body, which cache.loadBody reads when the page is rendered again.
func (d *cacheDecoder) page(src, contentDir string) *page {
	p := &page{src: src, file: filepath.Join(contentDir, filepath.FromSlash(src)), lazyBody: true}
	m := &p.meta
	m.Title, m.Date, m.Draft, m.Tags = d.str(), d.time(), d.bool(), d.strs()
	m.Summary, m.Slug, m.Weight, m.Layout, m.Description = d.str(), d.str(), int(d.int()), d.str(), d.str()
	k := d.count()
	m.keyLines = make(map[string]int, k)
	for ; k > 0 && d.err == nil; k-- {
		m.keyLines[d.str()] = int(d.int())
	}
	m.unknown = d.strs()
	p.bodyLine = int(d.int())
	return p
}

func (d *cacheDecoder) sum() (out [sha256.Size]byte) {
	if len(d.data) < sha256.Size {
		d.fail()
		return out
	}
	copy(out[:], d.data)
	d.data = d.data[sha256.Size:]
	return out
}

func (d *cacheDecoder) bool() bool {
	if len(d.data) == 0 || d.data[0] > 1 {
		d.fail()
		return false
	}
	v := d.data[0] == 1
	d.data = d.data[1:]
	return v
}

func (d *cacheDecoder) resolved() resolved {
	return resolved{external: d.bool(), href: d.str(), target: d.str(), frag: d.str(), problem: d.str(), rewrite: d.bool()}
}
