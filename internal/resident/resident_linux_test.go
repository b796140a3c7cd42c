package resident

import (
	"bytes"
	"log/slog"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSmaps(t *testing.T) {
	const smaps = `00400000-01a89000 r-xp 00000000 00:2b 123 /bin/island
Size:              23068 kB
Rss:               22392 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
01a89000-0381c000 r--p 01688000 00:2b 123 /bin/island
Rss:               29212 kB
Shared_Dirty:          0 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
0381d000-0397c000 rw-p 0341c000 00:2b 123 /bin/island
Rss:                1404 kB
Private_Dirty:       244 kB
Anonymous:           244 kB
03a00000-03b00000 r--p 00000000 00:2b 124 /bin/other
Rss:                1024 kB
7f0000000000-7f0000100000 r--p 00000000 00:00 0
Rss:                   4 kB
`
	maps, err := parseSmaps([]byte(smaps), "/bin/island")
	require.NoError(t, err)
	require.Equal(t, []mapping{
		{start: 0x400000, end: 0x1a89000, perms: "r-xp", rss: 22392},
		{start: 0x1a89000, end: 0x381c000, perms: "r--p", rss: 29212},
		{start: 0x381d000, end: 0x397c000, perms: "rw-p", rss: 1404, anonymous: 244},
	}, maps)
	var droppable []bool
	for _, m := range maps {
		droppable = append(droppable, m.droppable())
	}
	// Writable mappings hold what the process changed: never dropped.
	require.Equal(t, []bool{true, true, false}, droppable)

	relro := mapping{start: 1, end: 2, perms: "r--p", rss: 4, anonymous: 4}
	require.False(t, relro.droppable(), "a read-only mapping written before it was protected")
}

func TestParseSmapsBadRange(t *testing.T) {
	_, err := parseSmaps([]byte("zz-00 r-xp 0 00:00 1 /bin/island\n"), "/bin/island")
	require.ErrorContains(t, err, "bad range")
}

// The test binary keeps working after its own text and read-only data are
// dropped, and its resident file pages do not grow from it.
func TestTrimKeepsTheProcessWorking(t *testing.T) {
	before := rssFile(t)
	n, err := dropExecutable()
	require.NoError(t, err)
	require.Positive(t, n, "the test binary's text is resident, so some is dropped")
	Trim(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	// Code and constant data used after the drop are faulted back.
	var buf bytes.Buffer
	for i := range 1000 {
		buf.WriteString(strconv.Itoa(i))
	}
	require.Equal(t, 2890, buf.Len())
	runtime.GC()
	require.LessOrEqual(t, rssFile(t), before)
}

func rssFile(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^RssFile:\s+(\d+) kB`).FindSubmatch(data)
	require.NotNil(t, m)
	n, err := strconv.ParseInt(string(m[1]), 10, 64)
	require.NoError(t, err)
	return n
}
