// Package site owns rendering: it reads a content directory (Markdown with
// YAML or TOML front matter, site.toml, static files, layout overrides) and
// turns it into a static site bundle held in memory, checks every internal
// link and fragment in it, and can write it atomically to a directory.
//
// Every internal link the bundle contains is relative to the page it is on,
// so the bundle works under any prefix (/ipfs/CID/, /ipns/name/, a
// subdirectory of a web server). The exception is 404.html: the bundle's
// _redirects file ("/* /404.html 404") makes subdomain and DNSLink gateways
// serve it for every missing path, at any depth, so its links are
// root-absolute (see notfound.go). The same input always gives byte-identical
// output, so the site's CID only changes when its content does.
//
// The package does no networking; the importer takes the bundle through
// Bundle.FS or Bundle.Files without a round trip through the disk.
//
// The content directory is island's own layout (below) or a Hugo site's
// root, found by its hugo.toml, config.toml, config.yaml (…) or
// config/_default/, and read as Hugo lays a site out (see hugo.go):
// sections, bundles, taxonomies, menus, aliases, permalinks, Hugo's front
// matter and shortcodes (shortcode.go, shortcodes.go), rendered with
// island's theme and its link check. CheckFolder (folder.go) reads a folder
// another generator built for links that break under /ipfs/CID/.
//
// Build renders everything; a Builder builds the same content again and
// again (serve, publish after each save), redoing only what changed, with
// the same bytes as Build. Its bundles mark the files they share with the
// previous one, so that an importer.Cache skips them too.
//
// # Content
//
//	content/site.toml          title, author, description, language, base_url (all optional)
//	content/index.md           the home page's text, above the recent posts
//	content/NAME.md            a page at NAME/ (resources.md, resume.md, ...), linked in the navigation
//	content/404.md             optional text for 404.html
//	content/posts/NAME.md      a post at posts/NAME/ (or posts/SLUG/ with `slug:`)
//	content/static/...         copied verbatim to the root of the site (a _redirects there replaces the generated one)
//	content/layouts/...        replacements for the built-in theme's files, and new layouts
//
// Front matter keys: title, date, draft, tags, summary, slug, weight, layout.
//
// # Layouts
//
// A layout is an html/template. base.html is the skeleton of every page and
// calls {{template "main" .}}; home.html, post.html, page.html, posts.html,
// tags.html, tag.html and 404.html each {{define "main"}}; partials.html
// holds shared definitions; site.css is the style sheet. A file of the same
// name in content/layouts replaces the built-in one; any other .html file
// there is a new layout that a page selects with `layout: NAME`.
//
// Layouts see a view: .Site (Title, Author, Description, Language,
// BaseURL), .Kind, .Title, .Description, .Nav, .Page (Title, Date,
// Summary, Path, Tags, Content), .Posts, .Tags, .Tag, .Prev, .Next. Every
// internal link a layout writes must go through .Rel, which turns a path of
// the site ("posts/", "css/site.css", "" for the home page) into one
// relative to the page; root-absolute links are rewritten too, and all of
// them are checked.
package site
