// Package resident owns what a long-running island process gives back of
// its resident memory once it has started: the Go heap that start-up
// garbage left behind, and the pages of its own executable that the kernel
// mapped while the packages initialised.
//
// The executable is ~80 MB. Linux kernels that keep file pages in large
// folios (6.x) map a binary's text and read-only data in 2 MiB pieces, so
// a daemon that ran its package initialisers has nearly the whole file
// counted in its RSS (53 of 66 MB idle, measured on Linux 6.18), although
// it touches part of it again while idle. Trim marks those mappings not to
// be mapped in huge pieces and drops them from the process's page tables:
// they stay in the page cache (shared, reclaimable: dropping them frees no
// memory of its own), and what the process touches again is mapped back.
// A fault still maps the whole large folio it lands in, so the idle daemon
// ends up with about 30-40 MB of its binary mapped instead of 53
// (docs/bench.md). Only mappings that cannot hold a private change are
// dropped (read-only, no page copied on write), so nothing the process
// wrote is ever discarded.
package resident
