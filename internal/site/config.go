package site

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
)

// Config says what to build and how.
type Config struct {
	// ContentDir holds site.toml, *.md pages, posts/, static/ and layouts/.
	ContentDir string
	// Drafts includes pages marked draft: true.
	Drafts bool
	// Future includes pages dated after Now.
	Future bool
	// Now decides which pages are future-dated; zero means the time each
	// build starts. Tests fix it for determinism.
	Now time.Time
	// Workers bounds the goroutines rendering pages; 0 means GOMAXPROCS.
	Workers int
	// Logger receives warnings about input that is skipped, and a summary;
	// nil means slog.Default() as of each build.
	Logger *slog.Logger
}

// DefaultConfig renders ./content. Now stays zero so that a Builder made
// from it judges future-dated posts by when it builds, not by when it was
// configured.
func DefaultConfig() Config {
	return Config{ContentDir: "content"}
}

// siteInfo is content/site.toml, as the templates see it.
type siteInfo struct {
	Title       string `toml:"title"`
	Author      string `toml:"author"`
	Description string `toml:"description"`
	Language    string `toml:"language"`
	// BaseURL, when set, makes the feed and the sitemap absolute; always ends in "/".
	BaseURL string `toml:"base_url"`
	// Copyright is a Hugo site's copyright line, shown in the footer.
	Copyright string `toml:"-"`
}

// siteTOML is site.toml: what templates see, and what only publishing
// reads.
type siteTOML struct {
	siteInfo
	// Lifetime is how long each signed record of the site's name stays
	// valid ("720h", "35d"); 0 leaves the publisher's default.
	Lifetime duration `toml:"lifetime"`
}

// duration is a TOML string such as "720h" or "35d" (days, which Go's
// durations lack).
type duration time.Duration

func (d *duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

// ParseLifetime reads a record lifetime as site.toml takes it: a Go
// duration or a whole number of days ("35d"), at least an hour.
func ParseLifetime(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err == nil && d < time.Hour {
		err = fmt.Errorf("lifetime %s: want 1h or more: a shorter one would expire between republishes", d)
	}
	return d, err
}

// parseDuration reads a Go duration or a whole number of days ("35d").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err == nil && fmt.Sprint(n) == days && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("lifetime %q: want a positive duration such as 35d or 840h", s)
	}
	return d, nil
}

const siteFile = "site.toml"

// loadSiteInfo reads site.toml, which is optional: every field has a default.
func loadSiteInfo(dir string, ps *problems) siteTOML {
	info := siteTOML{siteInfo: siteInfo{Title: "My island", Language: "en"}}
	name := filepath.Join(dir, siteFile)
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return info
	}
	if err != nil {
		ps.addf(name, 0, "cannot read: %v", err)
		return info
	}
	if line, ok := invalidUTF8Line(data); !ok {
		ps.addf(name, line, "not valid UTF-8; save the file as UTF-8")
		return info
	}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	var got siteTOML
	if err := dec.Decode(&got); err != nil {
		var strict *toml.StrictMissingError
		var de *toml.DecodeError
		switch {
		case errors.As(err, &strict):
			for _, e := range strict.Errors {
				row, _ := e.Position()
				ps.addf(name, row, "unknown key %q; the keys are title, author, description, language, base_url and lifetime",
					strings.Join(e.Key(), "."))
			}
		case errors.As(err, &de):
			tomlProblem(name, err, ps)
		default:
			ps.addf(name, 0, "%v; the keys are title, author, description, language, base_url and lifetime, all strings", err)
		}
		return info
	}
	if got.Title != "" {
		info.Title = got.Title
	}
	if got.Language != "" {
		info.Language = got.Language
	}
	info.Author, info.Description = got.Author, got.Description
	if got.Lifetime > 0 && time.Duration(got.Lifetime) < time.Hour {
		ps.addf(name, keyLine(data, "lifetime"), "lifetime %s: a record valid for less than an hour would expire between republishes; want 1h or more (the default is 35d)", time.Duration(got.Lifetime))
		return info
	}
	info.Lifetime = got.Lifetime
	if got.BaseURL != "" {
		u, err := url.Parse(got.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ps.addf(name, keyLine(data, "base_url"), "base_url %q: want an absolute http(s) URL such as https://example.org/", got.BaseURL)
			return info
		}
		info.BaseURL = strings.TrimSuffix(got.BaseURL, "/") + "/"
	}
	return info
}

// tomlProblem reports a TOML syntax error at its line.
func tomlProblem(file string, err error, ps *problems) {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		ps.addf(file, row, "%s; fix the TOML syntax", de.Error())
		return
	}
	ps.addf(file, 0, "%v; fix the TOML syntax", err)
}

// keyLine finds the line on which a TOML or YAML key is set, for messages
// about values whose decoder reports no position; 0 when not found.
func keyLine(data []byte, key string) int {
	for i, line := range strings.Split(string(data), "\n") {
		l := strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(l, key); ok {
			rest = strings.TrimSpace(rest)
			if strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, ":") {
				return i + 1
			}
		}
	}
	return 0
}

// invalidUTF8Line reports the line of the first byte that is not UTF-8.
func invalidUTF8Line(data []byte) (int, bool) {
	if utf8.Valid(data) {
		return 0, true
	}
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return line, false
		}
		if data[i] == '\n' {
			line++
		}
		i += size
	}
	return line, false
}
