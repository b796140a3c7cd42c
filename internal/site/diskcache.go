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
)

// A Builder's cache can be kept in a file between processes, so that
// `island publish` after one edit renders again only what changed, as
// `island serve` does in memory. The file holds what rendering made
// (each source's Markdown rendered, by its content hash, and every page
// with the key of what its layout saw), never what was parsed: every
// source is still read and parsed, and every entry taken from the file is
// checked exactly as the in-memory cache checks its own (content hash,
// render key, link fingerprint, job key), so a file from another site, an
// older state of this one, or another configuration is only a cache miss.
// What the checks cannot see (another island, which may render the same
// input differently; a damaged file) is told by the file's tag and
// checksum: such a file is ignored as a whole.

// cacheFileMagic starts every cache file; its number changes whenever
// what the file holds or how it is written changes.
const cacheFileMagic = "island render cache 2\n"

// maxCacheFile bounds the cache file read back: a site whose rendered
// pages are larger simply builds from scratch.
const maxCacheFile = 1 << 30

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// WriteCache writes what the Builder's last Build rendered to w, tagged
// with tag: LoadCache of another tag ignores it. Callers tag it with
// whatever else decides the bytes of a build, such as the island
// executable. The file need not be synced: one a crash cut short fails its
// checksum and is ignored, which costs one full render.
func (b *Builder) WriteCache(w io.Writer, tag string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.cache.encode(w, b.cfg.ContentDir, tag); err != nil {
		return fmt.Errorf("site: write cache: %w", err)
	}
	return nil
}

// LoadCache makes what WriteCache wrote to file, with the same tag and
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
	c, err := decodeCache(data, b.cfg.ContentDir, tag)
	if err != nil {
		return fmt.Errorf("site: load cache %s: %w", file, err)
	}
	c.clock = b.cache.clock
	b.cache = c
	return nil
}

// encode writes the cache to w: magic, tag, content directory, the
// renderings by source, the pages by bundle path, then a CRC-32C of all
// before it. It streams: the pages are most of it, already in memory.
func (c *cache) encode(w io.Writer, contentDir, tag string) error {
	crc := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<16)
	e := &cacheEncoder{buf: bw}
	bw.WriteString(cacheFileMagic)
	e.str(tag)
	e.str(contentDir)
	n := 0
	for _, s := range c.sources {
		if s.md != nil {
			n++
		}
	}
	e.uint(uint64(n))
	for src, s := range c.sources {
		r := s.md
		if r == nil {
			continue
		}
		e.str(src)
		e.sum(s.hash)
		e.str(string(r.content))
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
	for p, o := range c.outputs {
		e.str(p)
		e.sum(o.key)
		e.sum(o.fp)
		e.sum(o.digest)
		e.bytes(o.data)
		e.uint(uint64(len(o.ids)))
		for id := range o.ids {
			e.str(id)
		}
		e.uint(uint64(len(o.links)))
		for _, l := range o.links {
			e.str(l.raw)
			e.resolved(l.res)
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	return err
}

// encodeBytes is encode into memory.
func (c *cache) encodeBytes(contentDir, tag string) []byte {
	var b bytes.Buffer
	_ = c.encode(&b, contentDir, tag) // a bytes.Buffer takes every write
	return b.Bytes()
}

type cacheEncoder struct {
	buf *bufio.Writer
	tmp [binary.MaxVarintLen64]byte
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

// decodeCache reads what encode wrote, for contentDir and tag only.
func decodeCache(data []byte, contentDir, tag string) (*cache, error) {
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
	c := &cache{sources: map[string]*source{}, outputs: map[string]*cachedOutput{}}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		src := d.str()
		s := &source{hash: d.sum()}
		r := &rendering{content: template.HTML(d.str()), summary: d.str()}
		for k := d.count(); k > 0 && d.err == nil; k-- {
			r.links = append(r.links, mdLink{line: int(d.uint()), raw: d.str(), res: d.resolved(), key: d.str()})
		}
		for k := d.count(); k > 0 && d.err == nil; k-- {
			r.refs = append(r.refs, refUse{from: loc{dir: d.str(), file: d.str(), src: d.str()}, arg: d.str(), href: d.str(), err: d.str()})
		}
		r.hash, r.fp, r.env = d.sum(), d.sum(), d.sum()
		s.md = r
		c.sources[src] = s
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		p := d.str()
		o := &cachedOutput{key: d.sum(), fp: d.sum(), digest: d.sum(), data: d.bytes()}
		k := d.count()
		o.ids = make(map[string]bool, k)
		for ; k > 0 && d.err == nil; k-- {
			o.ids[d.str()] = true
		}
		for k := d.count(); k > 0 && d.err == nil; k-- {
			o.links = append(o.links, htmlLink{raw: d.str(), res: d.resolved()})
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

func (d *cacheDecoder) str() string {
	n := d.uint()
	if n > uint64(len(d.data)) {
		d.fail()
		return ""
	}
	s := string(d.data[:n])
	d.data = d.data[n:]
	return s
}

func (d *cacheDecoder) bytes() []byte {
	n := d.uint()
	if n > uint64(len(d.data)) {
		d.fail()
		return nil
	}
	// Shared with the file's bytes, read once and never written to: pages
	// are the bulk of the file, and copying them would double its memory.
	b := d.data[:n:n]
	d.data = d.data[n:]
	return b
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
