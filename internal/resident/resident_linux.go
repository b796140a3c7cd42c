package resident

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mapping is one line of /proc/self/smaps that maps the executable, with
// what matters to dropping it.
type mapping struct {
	start, end uintptr
	perms      string
	rss        int64 // kB
	anonymous  int64 // kB: pages the process wrote (copied on write)
}

// droppable says the mapping is a private, read-only view of the file
// holding no page the process wrote: each of its pages is the page
// cache's, so dropping them loses nothing. (Its pages may still count as
// dirty when the file itself was written recently, as after a build.)
func (m mapping) droppable() bool {
	return len(m.perms) == 4 && m.perms[0] == 'r' && m.perms[1] == '-' && m.perms[3] == 'p' &&
		m.anonymous == 0 && m.rss > 0
}

// dropExecutable drops the executable's droppable mappings and returns
// how many resident bytes they held.
func dropExecutable() (int64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	maps, err := parseSmaps(data, exe)
	if err != nil {
		return 0, err
	}
	var dropped int64
	for _, m := range maps {
		if !m.droppable() {
			continue
		}
		// Not in 2 MiB pieces again: what is touched next is mapped by
		// the page, as it would be on a kernel without large folios.
		if err := madvise(m, unix.MADV_NOHUGEPAGE); err != nil {
			return dropped, err
		}
		if err := madvise(m, unix.MADV_DONTNEED); err != nil {
			return dropped, err
		}
		dropped += m.rss << 10
	}
	return dropped, nil
}

// madvise advises on a mapping by its address, which is no Go pointer
// (unix.Madvise takes a slice).
func madvise(m mapping, advice int) error {
	if _, _, e := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, uintptr(advice)); e != 0 {
		return fmt.Errorf("resident: madvise(%d) %x-%x: %w", advice, m.start, m.end, e)
	}
	return nil
}

// parseSmaps returns the mappings of file in an smaps listing.
func parseSmaps(data []byte, file string) ([]mapping, error) {
	var out []mapping
	var cur *mapping
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if !strings.HasSuffix(fields[0], ":") {
			// A mapping's header: start-end perms offset dev inode [path].
			cur = nil
			if len(fields) < 6 || strings.Join(fields[5:], " ") != file {
				continue
			}
			lo, hi, ok := strings.Cut(fields[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if !ok || err1 != nil || err2 != nil || end <= start {
				return nil, fmt.Errorf("resident: smaps: bad range %q", fields[0])
			}
			out = append(out, mapping{start: uintptr(start), end: uintptr(end), perms: fields[1]})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil || len(fields) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue // VmFlags and the like
		}
		switch fields[0] {
		case "Rss:":
			cur.rss = kb
		case "Anonymous:":
			cur.anonymous = kb
		}
	}
	return out, sc.Err()
}
