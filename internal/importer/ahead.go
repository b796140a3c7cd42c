package importer

import (
	"io"
	"runtime"
	"sync"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/go-cid"
)

// Hashing a file's chunks one after the other, on the goroutine that also
// reads them and builds the DAG, held `add` to one core: SHA-256 alone is
// about half of an import's CPU time. hashAhead reads the chunks ahead and
// hashes them on every core while boxo's balanced layout (unchanged: the
// CIDs are its own) consumes them in order; the layout's CID builder then
// finds each raw leaf's CID already computed instead of hashing it again.
//
// The work ahead is bounded: at most aheadChunks chunks are read and not yet
// taken by the layout, so memory stays a few chunks whatever the file size.

// aheadChunks is how many chunks may be read ahead of the layout.
var aheadChunks = 2*runtime.GOMAXPROCS(0) + 2

// aheadJob is one chunk read ahead: its bytes, and once done is closed its
// raw-leaf CID (or the error that ended the reading).
type aheadJob struct {
	data []byte
	err  error
	cid  cid.Cid
	sum  error
	done chan struct{}
}

// aheadSplitter wraps a splitter: NextBytes returns the same chunks in the
// same order, read and hashed ahead.
type aheadSplitter struct {
	inner   chunker.Splitter
	prefix  cid.Builder // the raw-leaf builder the leaves are hashed with
	size    int         // of a full chunk
	started bool
	order   chan *aheadJob
	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup

	// cur is the chunk NextBytes returned last: the one the layout is
	// about to make a leaf of.
	mu  sync.Mutex
	cur *aheadJob
}

// hashAhead returns a splitter reading spl ahead and a CID builder to build
// the DAG with in place of b; stop ends the reading ahead (call it when the
// layout is done, whatever the outcome).
func hashAhead(spl chunker.Splitter, size int64, b cid.Builder) (chunker.Splitter, cid.Builder, func()) {
	s := &aheadSplitter{inner: spl, size: int(size), prefix: b.WithCodec(cid.Raw), stop: make(chan struct{})}
	return s, aheadBuilder{Builder: b, s: s}, s.close
}

func (s *aheadSplitter) Reader() io.Reader { return s.inner.Reader() }

func (s *aheadSplitter) NextBytes() ([]byte, error) {
	var j *aheadJob
	if s.order == nil {
		// Read here until a first full chunk: a file of one chunk (most
		// of a site's) starts no goroutine.
		j = s.read()
		if !s.started && j.err == nil && len(j.data) == s.size {
			s.start()
		}
		s.started = true
	} else {
		var ok bool
		if j, ok = <-s.order; !ok {
			return nil, io.EOF
		}
		<-j.done
	}
	s.mu.Lock()
	s.cur = j
	s.mu.Unlock()
	return j.data, j.err
}

// read reads one chunk and hashes it at once, on the caller's goroutine.
func (s *aheadSplitter) read() *aheadJob {
	j := &aheadJob{done: make(chan struct{})}
	j.data, j.err = s.inner.NextBytes()
	if j.err == nil {
		j.cid, j.sum = s.prefix.Sum(j.data)
	}
	close(j.done)
	return j
}

// start reads the rest ahead: one goroutine reads chunks in order, one per
// core hashes them.
func (s *aheadSplitter) start() {
	s.order = make(chan *aheadJob, aheadChunks)
	work := make(chan *aheadJob, aheadChunks)
	workers := runtime.GOMAXPROCS(0)
	s.wg.Add(1 + workers)
	for range workers {
		go func() {
			defer s.wg.Done()
			for j := range work {
				j.cid, j.sum = s.prefix.Sum(j.data)
				close(j.done)
			}
		}()
	}
	go func() {
		defer s.wg.Done()
		defer close(s.order)
		defer close(work)
		for {
			j := &aheadJob{done: make(chan struct{})}
			j.data, j.err = s.inner.NextBytes()
			if j.err != nil {
				close(j.done)
			}
			select {
			case s.order <- j:
			case <-s.stop:
				return
			}
			if j.err != nil {
				return
			}
			work <- j // never blocks longer than a hash: work is as deep as order
		}
	}()
}

func (s *aheadSplitter) close() {
	s.stopped.Do(func() {
		close(s.stop)
		// Let a reader blocked on a full order channel see stop.
		if s.order != nil {
			for range s.order {
			}
		}
		s.wg.Wait()
		// The layout's nodes keep the builder: let go of the last chunk.
		s.mu.Lock()
		s.cur = nil
		s.mu.Unlock()
	})
}

// hashed is the CID of data if data is the chunk NextBytes returned last
// and b is the builder it was hashed with.
func (s *aheadSplitter) hashed(b cid.Builder, data []byte) (cid.Cid, bool) {
	p, ok := b.(cid.Prefix)
	if q, same := s.prefix.(cid.Prefix); !ok || !same || p != q {
		return cid.Undef, false
	}
	s.mu.Lock()
	j := s.cur
	s.mu.Unlock()
	if j == nil || j.err != nil || j.sum != nil || len(data) == 0 || len(data) != len(j.data) || &data[0] != &j.data[0] {
		return cid.Undef, false
	}
	return j.cid, true
}

// aheadBuilder is the layout's CID builder: a raw leaf of the chunk just
// handed out takes the CID hashed ahead, anything else is hashed as b would.
type aheadBuilder struct {
	cid.Builder
	s *aheadSplitter
}

func (b aheadBuilder) Sum(data []byte) (cid.Cid, error) {
	if c, ok := b.s.hashed(b.Builder, data); ok {
		return c, nil
	}
	return b.Builder.Sum(data)
}

func (b aheadBuilder) WithCodec(codec uint64) cid.Builder {
	return aheadBuilder{Builder: b.Builder.WithCodec(codec), s: b.s}
}
