// Package site owns rendering: it reads a content directory (Markdown with
// YAML or TOML front matter, site.toml, static files, layout overrides) and
// turns it into a static site bundle held in memory, checks every internal
// link and fragment in it, and can write it atomically to a directory.
//
// Every internal link the bundle contains is relative to the page it is on,
// so the bundle works under any prefix (/ipfs/CID/, /ipns/name/, a
// subdirectory of a web server). The same input always gives byte-identical
// output, so the site's CID only changes when its content does.
//
// The package does no networking; the importer takes the bundle through
// Bundle.FS or Bundle.Files without a round trip through the disk.
package site
