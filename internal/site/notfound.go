package site

import "strings"

// The 404 page reaches visitors through the site's _redirects file
// (https://specs.ipfs.tech/http-gateways/web-redirects-file/). A gateway
// reads it only when the requested path does not exist in the site's DAG,
// and only on an origin whose root is the site's root: a subdomain gateway
// (CID.ipfs.localhost) or a DNSLink name. There the rule "/* /404.html 404"
// answers every missing path, at any depth, with 404.html and status 404.
// A path gateway (/ipfs/CID/...) ignores the file and answers its own 404.
//
// Because 404.html is served at whatever depth the missing path had, its
// links are root-absolute ("/posts/"), unlike every other page's, and its
// style sheet is inline (view.InlineCSS). Root-absolute links are right on
// exactly the origins that serve it for missing paths, and on a web server
// hosting the site at its root.

// redirectsPath is the _redirects file at the bundle root.
const redirectsPath = "_redirects"

// notFoundRule sends every missing path to 404.html with status 404.
const notFoundRule = "/* /" + notFoundPath + " 404\n"

// fromRoot says that links on this page are written root-absolute.
func (l loc) fromRoot() bool { return l.file == notFoundPath }

// href is the link from the page at l to target, a directory (written with
// a trailing slash) when dir is set, else a file.
func (l loc) href(target string, dir bool) string {
	if !l.fromRoot() {
		return relPath(l.dir, target, dir)
	}
	if dir && target != "" {
		return "/" + escapePath(target) + "/"
	}
	return "/" + escapePath(target)
}

// redirects is the generated _redirects file. A _redirects in content/static
// replaces it (its author keeps "/* /404.html 404" as the last rule if they
// want the 404 page), so ok is false then.
func (b *builder) redirects() (f File, ok bool) {
	for _, s := range b.c.static {
		if s.path == redirectsPath || strings.HasPrefix(s.path, redirectsPath+"/") {
			return File{}, false
		}
	}
	return File{Path: redirectsPath, Data: []byte(notFoundRule), Size: int64(len(notFoundRule))}, true
}
