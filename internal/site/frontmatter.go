package site

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"gopkg.in/yaml.v3"
)

// meta is a page's front matter.
type meta struct {
	Title   string
	Date    time.Time // zero when the page has no date
	Draft   bool
	Tags    []string
	Summary string
	Slug    string
	Weight  int
	Layout  string
	// Description is a Hugo page's `description`, for its meta description.
	Description string
	// keyLines maps each key to the line of the file it is set on, so that
	// later checks (a duplicate slug, an unknown layout) can point at it.
	keyLines map[string]int
	// unknown lists keys the front matter sets that island's own layout
	// does not use.
	unknown []string
	// values holds every key's value, as written, for a Hugo site, which
	// reads more keys (and any key as a page parameter).
	values map[string]fmValue
}

// lineError is a problem at a line of the file being parsed.
type lineError struct {
	Line int
	Msg  string
}

// knownKeys are the front matter keys island reads.
var knownKeys = []string{"date", "draft", "layout", "slug", "summary", "tags", "title", "weight"}

// fmValue is one front matter value, read from YAML or TOML.
type fmValue interface {
	str() (string, error)
	strs() ([]string, error)
	date() (time.Time, error)
	boolean() (bool, error)
	integer() (int, error)
	// any is the value as plain Go data: strings, bools, numbers, times,
	// []any and map[string]any.
	any() any
}

// set stores the value of one key; unknown keys are noted, not refused.
func (m *meta) set(key string, v fmValue) error {
	var err error
	switch key {
	case "title":
		m.Title, err = v.str()
	case "summary":
		m.Summary, err = v.str()
	case "slug":
		m.Slug, err = v.str()
	case "layout":
		m.Layout, err = v.str()
	case "date":
		m.Date, err = v.date()
	case "draft":
		m.Draft, err = v.boolean()
	case "weight":
		m.Weight, err = v.integer()
	case "tags":
		m.Tags, err = v.strs()
	default:
		m.unknown = append(m.unknown, key)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

var (
	errWantBool = errors.New("want true or false")
	errWantInt  = errors.New("want a whole number")
)

// parseFrontMatter splits src into front matter and Markdown body and
// decodes the front matter. YAML is fenced by "---" lines, TOML by "+++"
// lines; a file without either fence is all body. bodyLine is the 1-based
// line of the file on which body starts. Every problem found is returned.
func parseFrontMatter(src []byte) (m meta, body []byte, bodyLine int, errs []lineError) {
	m.keyLines = map[string]int{}
	m.values = map[string]fmValue{}
	first, rest, _ := cutLine(src)
	fence := string(bytes.TrimRight(first, " \t\r"))
	if fence != "---" && fence != "+++" {
		return m, src, 1, nil
	}
	// Find the closing fence; the front matter is everything between.
	start := len(src) - len(rest)
	pos, line := start, 2
	for pos <= len(src) {
		l, next, ok := cutLine(src[pos:])
		t := string(bytes.TrimRight(l, " \t\r"))
		if t == fence || (fence == "---" && t == "...") {
			fm := src[start:pos]
			body = src[len(src)-len(next):]
			if !ok {
				body = nil
			}
			switch fence {
			case "---":
				errs = decodeYAML(fm, &m)
			case "+++":
				errs = decodeTOML(fm, &m)
			}
			return m, body, line + 1, errs
		}
		if !ok {
			break
		}
		pos = len(src) - len(next)
		line++
	}
	return m, nil, 1, []lineError{{1, fmt.Sprintf("front matter opened with %q is never closed; end it with a line holding only %q", fence, fence)}}
}

// cutLine returns the first line of b without its "\n", the rest after it,
// and whether there was a "\n".
func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, b[len(b):], false
	}
	return b[:i], b[i+1:], true
}

// fmLineOffset is the file line of the first front matter line.
const fmLineOffset = 1

func decodeYAML(fm []byte, m *meta) (errs []lineError) {
	// yaml.v3 has panicked on hostile input before; a panic here must be a
	// message about the file, not a crash of the build.
	defer func() {
		if r := recover(); r != nil {
			errs = append(errs, lineError{1, fmt.Sprintf("front matter: the YAML parser failed (%v); simplify the YAML", r)})
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(fm, &doc); err != nil {
		return []lineError{yamlError(err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // empty front matter
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return []lineError{{root.Line + fmLineOffset, "front matter must be a mapping of keys to values, such as `title: My post`"}}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], resolveAlias(root.Content[i+1])
		line := k.Line + fmLineOffset
		key := k.Value
		if _, dup := m.keyLines[key]; dup {
			errs = append(errs, lineError{line, fmt.Sprintf("key %q is set twice; keep one", key)})
			continue
		}
		m.keyLines[key] = line
		m.values[key] = yamlValue{v}
		if err := m.set(key, yamlValue{v}); err != nil {
			errs = append(errs, lineError{line, err.Error()})
		}
	}
	return errs
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// yamlParserProblems are the messages of yaml.v3's parser (as opposed to
// its scanner), whose line numbers it reports counting from 0.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected '-' indicator",
	"did not find expected <document start>", "did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive", "found duplicate %YAML directive",
	"found incompatible YAML document", "found undefined tag handle",
}

// yamlError turns "yaml: line N: msg" into a line of the file.
func yamlError(err error) lineError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line, known := 0, false
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ":"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				line, known, msg = v, true, strings.TrimSpace(after)
			}
		}
	}
	if slices.Contains(yamlParserProblems, msg) {
		line, known = line+1, true
	}
	if !known {
		return lineError{1, "front matter is not valid YAML: " + msg}
	}
	return lineError{line + fmLineOffset, "front matter is not valid YAML: " + msg}
}

// yamlValue reads a YAML node.
type yamlValue struct{ n *yaml.Node }

func (v yamlValue) str() (string, error) {
	if v.n.Kind != yaml.ScalarNode {
		return "", errors.New("want a single value in quotes, not a list or a mapping")
	}
	if v.n.Tag == "!!null" {
		return "", nil
	}
	return v.n.Value, nil
}

func (v yamlValue) strs() ([]string, error) {
	switch v.n.Kind {
	case yaml.ScalarNode:
		if v.n.Tag == "!!null" || v.n.Value == "" {
			return nil, nil
		}
		return []string{v.n.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(v.n.Content))
		for _, item := range v.n.Content {
			item = resolveAlias(item)
			if item.Kind != yaml.ScalarNode {
				return nil, errors.New("want a list of words, such as [go, p2p]")
			}
			out = append(out, item.Value)
		}
		return out, nil
	}
	return nil, errors.New("want a list of words, such as [go, p2p]")
}

func (v yamlValue) any() any {
	var out any
	if v.n.Decode(&out) != nil {
		return nil
	}
	return lowerValue(out)
}

func (v yamlValue) date() (time.Time, error) {
	s, err := v.str()
	if err != nil || s == "" {
		return time.Time{}, err
	}
	return parseDate(s)
}

func (v yamlValue) boolean() (b bool, err error) {
	if v.n.Kind != yaml.ScalarNode || v.n.Tag != "!!bool" || v.n.Decode(&b) != nil {
		return false, errWantBool
	}
	return b, nil
}

func (v yamlValue) integer() (n int, err error) {
	if v.n.Kind != yaml.ScalarNode || v.n.Tag != "!!int" || v.n.Decode(&n) != nil || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, errWantInt
	}
	return n, nil
}

func decodeTOML(fm []byte, m *meta) (errs []lineError) {
	var raw map[string]any
	if err := toml.Unmarshal(fm, &raw); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return []lineError{{row + fmLineOffset, "front matter is not valid TOML: " + de.Error()}}
		}
		return []lineError{{1, "front matter is not valid TOML: " + err.Error()}}
	}
	for _, key := range slices.Sorted(maps.Keys(raw)) {
		v := raw[key]
		line := keyLine(fm, key) + fmLineOffset
		m.keyLines[key] = line
		m.values[key] = tomlValue{v}
		if err := m.set(key, tomlValue{v}); err != nil {
			errs = append(errs, lineError{line, err.Error()})
		}
	}
	return errs
}

// tomlValue reads a value go-toml decoded into an any.
type tomlValue struct{ v any }

func (v tomlValue) str() (string, error) {
	s, ok := v.v.(string)
	if !ok {
		return "", errors.New("want a string in quotes")
	}
	return s, nil
}

func (v tomlValue) strs() ([]string, error) {
	switch x := v.v.(type) {
	case string:
		if x == "" {
			return nil, nil
		}
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, item := range x {
			s, ok := item.(string)
			if !ok {
				return nil, errors.New(`want a list of strings, such as ["go", "p2p"]`)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, errors.New(`want a list of strings, such as ["go", "p2p"]`)
}

func (v tomlValue) any() any { return lowerValue(v.v) }

func (v tomlValue) date() (time.Time, error) {
	switch x := v.v.(type) {
	case time.Time:
		return x, nil
	case toml.LocalDate:
		return time.Date(x.Year, time.Month(x.Month), x.Day, 0, 0, 0, 0, time.UTC), nil
	case toml.LocalDateTime:
		return time.Date(x.Year, time.Month(x.Month), x.Day, x.Hour, x.Minute, x.Second, x.Nanosecond, time.UTC), nil
	case string:
		if x == "" {
			return time.Time{}, nil
		}
		return parseDate(x)
	}
	return time.Time{}, errors.New("want a date such as 2024-05-17 or 2024-05-17T09:30:00Z")
}

func (v tomlValue) boolean() (bool, error) {
	b, ok := v.v.(bool)
	if !ok {
		return false, errWantBool
	}
	return b, nil
}

func (v tomlValue) integer() (int, error) {
	var n int64
	switch x := v.v.(type) {
	case int64:
		n = x
	case int:
		n = int64(x)
	default:
		return 0, errWantInt
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, errWantInt
	}
	return int(n), nil
}

// dateLayouts are the forms a date may take; a date without a zone is UTC,
// so that the build does not depend on the machine's time zone.
var dateLayouts = []string{
	"2006-01-02",
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
}

func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date; write it as 2024-05-17 or 2024-05-17T09:30:00Z", s)
}
