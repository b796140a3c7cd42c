package site

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadsListContent: a layout is found to read the Content of the
// entries of view.Posts however it reaches one (ranged over, indexed,
// through a variable, a template, the view With gives back), or prints or
// formats one; one that reads only other fields, its own page's Content
// or its neighbours' is not. island's own layouts read none.
func TestReadsListContent(t *testing.T) {
	for _, tc := range []struct {
		name, main string
		partials   string
		want       bool
	}{
		{"titles and summaries", `{{range .Posts}}<a href="{{$.Rel .Path}}">{{.Title}}</a>{{with .Summary}}<p>{{.}}</p>{{end}}{{template "taglinks" ($.With .)}}{{end}}`, "", false},
		{"its own page's content", `{{.Page.Content}}{{with .Page}}{{.Content}}{{end}}{{range .Posts}}{{len .Title}}{{end}}`, "", false},
		{"neighbours", `{{with .Prev}}{{.Content}}{{end}}{{if or .Prev .Next}}x{{end}}{{.Next.Content}}`, "", false},
		{"dates formatted", `{{range .Posts}}{{.Date.Format "2006"}}{{printf "%s" .Title}}{{end}}`, "", false},
		{"ranged over", `{{range .Posts}}{{.Content}}{{end}}`, "", true},
		{"a range variable", `{{range $i, $p := .Posts}}{{$p.Content}}{{end}}`, "", true},
		{"indexed", `{{with index .Posts 0}}{{.Content}}{{end}}`, "", true},
		{"sliced", `{{range slice .Posts 1}}{{.Content}}{{end}}`, "", true},
		{"printed whole", `{{range .Posts}}{{.}}{{end}}`, "", true},
		{"formatted", `{{range .Posts}}{{printf "%v" .}}{{end}}`, "", true},
		{"the list printed", `{{.Posts}}`, "", true},
		{"through a variable", `{{$x := .Posts}}{{range $x}}{{.Content}}{{end}}`, "", true},
		{"a variable assigned in a range", `{{$x := .Page}}{{range .Posts}}{{$x = .}}{{end}}{{$x.Content}}`, "", true},
		{"in a template given the list", `{{template "c" .Posts}}`, `{{define "c"}}{{range .}}{{.Content}}{{end}}{{end}}`, true},
		{"in a template given an entry", `{{range .Posts}}{{template "c" .}}{{end}}`, `{{define "c"}}{{.Content}}{{end}}`, true},
		{"through With's view", `{{with ($.With .Page).View}}{{range .Posts}}{{.Content}}{{end}}{{end}}`, "", true},
		{"piped", `{{range .Posts}}{{.Content | print}}{{end}}`, "", true},
		{"an unknown field of an entry", `{{range .Posts}}{{.Other}}{{end}}`, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			overrides := map[string]layoutFile{"posts.html": {name: "posts.html", text: `{{define "main"}}` + tc.main + `{{end}}`}}
			if tc.partials != "" {
				th := newTheme(nil, &problems{})
				overrides[partialsLayout] = layoutFile{name: partialsLayout, text: th.files[partialsLayout].text + tc.partials}
			}
			var ps problems
			th := newTheme(overrides, &ps)
			require.Empty(t, ps)
			require.Equal(t, tc.want, th.listContent["posts.html"])
		})
	}
	var ps problems
	th := newTheme(nil, &ps)
	require.Empty(t, ps)
	require.NotEmpty(t, th.listContent)
	for name, reads := range th.listContent {
		require.False(t, reads, "island's %s", name)
	}
}
