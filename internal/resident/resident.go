package resident

import (
	"log/slog"
	"runtime/debug"
)

// Trim returns the heap's free memory to the system and drops the
// executable's clean read-only mappings from the page tables (Linux). It
// is for a process that has finished starting and will mostly idle; it
// costs a garbage collection and a few milliseconds. A failure only leaves
// memory resident, so it is logged, not returned.
func Trim(log *slog.Logger) {
	debug.FreeOSMemory()
	if n, err := dropExecutable(); err != nil {
		log.Debug("trim the executable's resident pages", "err", err)
	} else if n > 0 {
		log.Debug("dropped the executable's resident pages", "bytes", n)
	}
}
