package site

import (
	"errors"
	"fmt"
	"html"
	"html/template"
	"log/slog"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// shortcodeFuncs are the functions of Hugo's templates a shortcode may
// call: the common ones on strings, lists, maps and numbers, markdownify,
// ref and relref. Those that reach beyond the page (partial, resources.Get,
// getJSON, now) are not there: a template calling one fails to parse with
// an error naming it.
var shortcodeFuncs = template.FuncMap{
	"default": func(def any, v ...any) any {
		if len(v) == 0 || isZero(v[0]) {
			return def
		}
		return v[0]
	},
	"safeHTML":     func(s any) template.HTML { return template.HTML(fmt.Sprint(s)) },
	"safeHTMLAttr": func(s any) template.HTMLAttr { return template.HTMLAttr(fmt.Sprint(s)) },
	"safeCSS":      func(s any) template.CSS { return template.CSS(fmt.Sprint(s)) },
	"safeJS":       func(s any) template.JS { return template.JS(fmt.Sprint(s)) },
	"safeURL":      func(s any) template.URL { return template.URL(fmt.Sprint(s)) },
	"plainify":     func(s any) string { return plainText(fmt.Sprint(s)) },
	"htmlEscape":   func(s any) string { return html.EscapeString(fmt.Sprint(s)) },
	"htmlUnescape": func(s any) string { return html.UnescapeString(fmt.Sprint(s)) },
	"urlize":       func(s any) string { return strings.ToLower(strings.Join(strings.Fields(fmt.Sprint(s)), "-")) },
	"lower":        func(s any) string { return strings.ToLower(fmt.Sprint(s)) },
	"upper":        func(s any) string { return strings.ToUpper(fmt.Sprint(s)) },
	"title":        func(s any) string { return titleCase(fmt.Sprint(s)) },
	"humanize":     func(s any) string { return titleFromSlug(strings.ReplaceAll(fmt.Sprint(s), "_", "-")) },
	"trim":         func(s any, cut string) string { return strings.Trim(fmt.Sprint(s), cut) },
	"replace": func(s any, old, new string, n ...int) string {
		limit := -1
		if len(n) > 0 {
			limit = n[0]
		}
		return strings.Replace(fmt.Sprint(s), old, new, limit)
	},
	"replaceRE": func(pattern, repl string, s any) (string, error) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return "", err
		}
		return re.ReplaceAllString(fmt.Sprint(s), repl), nil
	},
	"findRE": func(pattern string, s any) ([]string, error) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, err
		}
		return re.FindAllString(fmt.Sprint(s), -1), nil
	},
	"split": func(s any, sep string) []string { return strings.Split(fmt.Sprint(s), sep) },
	"delimit": func(list any, sep string) string {
		var parts []string
		for _, v := range toList(list) {
			parts = append(parts, fmt.Sprint(v))
		}
		return strings.Join(parts, sep)
	},
	"in": func(list any, v any) bool {
		if s, ok := list.(string); ok {
			return strings.Contains(s, fmt.Sprint(v))
		}
		return slices.ContainsFunc(toList(list), func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) })
	},
	"isset": func(c any, key any) bool {
		switch x := c.(type) {
		case map[string]any:
			_, ok := x[strings.ToLower(fmt.Sprint(key))]
			return ok
		case []any:
			i, ok := toInt(key)
			return ok && i >= 0 && i < len(x)
		}
		return false
	},
	"cond": func(c bool, a, b any) any {
		if c {
			return a
		}
		return b
	},
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, errors.New("dict takes pairs of keys and values")
		}
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m, nil
	},
	"slice": func(v ...any) []any { return v },
	"first": func(n int, list any) []any {
		l := toList(list)
		return l[:min(max(n, 0), len(l))]
	},
	"last": func(n int, list any) []any {
		l := toList(list)
		return l[len(l)-min(max(n, 0), len(l)):]
	},
	"seq": func(args ...int) ([]int, error) {
		from, to := 1, 0
		switch len(args) {
		case 1:
			to = args[0]
		case 2:
			from, to = args[0], args[1]
		default:
			return nil, errors.New("seq takes a last number, or a first and a last")
		}
		if to-from > 10000 {
			return nil, errors.New("seq: more than 10000 numbers")
		}
		var out []int
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out, nil
	},
	"add": func(a, b any) (any, error) { return arith(a, b, '+') },
	"sub": func(a, b any) (any, error) { return arith(a, b, '-') },
	"mul": func(a, b any) (any, error) { return arith(a, b, '*') },
	"div": func(a, b any) (any, error) { return arith(a, b, '/') },
	"mod": func(a, b any) (any, error) { return arith(a, b, '%') },
	"int": func(v any) (int, error) {
		if n, ok := toInt(v); ok {
			return n, nil
		}
		var n int
		_, err := fmt.Sscan(fmt.Sprint(v), &n)
		return n, err
	},
	"string":  func(v any) string { return fmt.Sprint(v) },
	"ref":     func(ctx any, arg string) (string, error) { return refFunc(ctx, arg) },
	"relref":  func(ctx any, arg string) (string, error) { return refFunc(ctx, arg) },
	"relURL":  func(s any) string { return "/" + strings.TrimPrefix(fmt.Sprint(s), "/") },
	"absURL":  func(s any) string { return "/" + strings.TrimPrefix(fmt.Sprint(s), "/") },
	"errorf":  func(format string, args ...any) (string, error) { return "", fmt.Errorf(format, args...) },
	"strings": func() stringsNS { return stringsNS{} },
}

// funcMap is shortcodeFuncs with those that need the site: markdownify
// renders with its settings, warnf logs.
func (env *renderEnv) funcMap(log *slog.Logger) template.FuncMap {
	m := maps.Clone(shortcodeFuncs)
	m["markdownify"] = func(s any) template.HTML { return env.markdownify(fmt.Sprint(s), true) }
	m["warnf"] = func(format string, args ...any) string {
		log.Warn("site: a shortcode template warns: " + fmt.Sprintf(format, args...))
		return ""
	}
	return m
}

// titleCase capitalizes the first letter of every word.
func titleCase(s string) string {
	prev := ' '
	return strings.Map(func(r rune) rune {
		defer func() { prev = r }()
		if unicode.IsSpace(prev) {
			return unicode.ToTitle(r)
		}
		return r
	}, s)
}

// refFunc is the ref and relref functions: {{ ref . "post/x.md" }}, with
// the shortcode's context or its page.
func refFunc(ctx any, arg string) (string, error) {
	var e *expander
	switch c := ctx.(type) {
	case *scContext:
		e = c.e
	case *pageContext:
		e = c.e
	}
	if e == nil {
		return "", errors.New("ref takes the page (or the shortcode's context, .) first")
	}
	l := loc{dir: e.p.dir, file: e.p.outPath(), src: e.p.src}
	href, msg := e.res.ref(l, arg)
	e.x.refs = append(e.x.refs, refUse{from: l, arg: arg, href: href, err: msg})
	if msg != "" {
		return "", fmt.Errorf("ref %q: %s", arg, msg)
	}
	return href, nil
}

// stringsNS is Hugo's strings namespace: {{ strings.TrimPrefix "a" $s }}.
type stringsNS struct{}

func (stringsNS) Contains(s, sub any) bool         { return strings.Contains(fmt.Sprint(s), fmt.Sprint(sub)) }
func (stringsNS) HasPrefix(s, p any) bool          { return strings.HasPrefix(fmt.Sprint(s), fmt.Sprint(p)) }
func (stringsNS) HasSuffix(s, p any) bool          { return strings.HasSuffix(fmt.Sprint(s), fmt.Sprint(p)) }
func (stringsNS) TrimPrefix(p, s any) string       { return strings.TrimPrefix(fmt.Sprint(s), fmt.Sprint(p)) }
func (stringsNS) TrimSuffix(p, s any) string       { return strings.TrimSuffix(fmt.Sprint(s), fmt.Sprint(p)) }
func (stringsNS) TrimSpace(s any) string           { return strings.TrimSpace(fmt.Sprint(s)) }
func (stringsNS) ToLower(s any) string             { return strings.ToLower(fmt.Sprint(s)) }
func (stringsNS) ToUpper(s any) string             { return strings.ToUpper(fmt.Sprint(s)) }
func (stringsNS) Title(s any) string               { return titleCase(fmt.Sprint(s)) }
func (stringsNS) FirstUpper(s any) string          { return titleFromSlug(fmt.Sprint(s)) }
func (stringsNS) Split(s any, sep string) []string { return strings.Split(fmt.Sprint(s), sep) }
func (stringsNS) Replace(s any, old, new string) string {
	return strings.ReplaceAll(fmt.Sprint(s), old, new)
}
func (stringsNS) Count(sub, s any) int { return strings.Count(fmt.Sprint(s), fmt.Sprint(sub)) }
func (stringsNS) Repeat(n int, s any) (string, error) {
	if n < 0 || n > 10000 {
		return "", errors.New("strings.Repeat: want 0 to 10000 repetitions")
	}
	return strings.Repeat(fmt.Sprint(s), n), nil
}

func isZero(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.String:
		return rv.Len() == 0
	}
	return rv.IsZero()
}

func toList(v any) []any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		if x == float64(int(x)) {
			return int(x), true
		}
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// arith does integer arithmetic on integers, else float arithmetic.
func arith(a, b any, op byte) (any, error) {
	if x, ok := toInt(a); ok {
		if y, ok := toInt(b); ok {
			if op == '%' {
				if y == 0 {
					return nil, errors.New("division by zero")
				}
				return x % y, nil
			}
			return arithOf(x, y, op)
		}
	}
	x, ok1 := toFloat(a)
	y, ok2 := toFloat(b)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("cannot compute with %v and %v: want numbers", a, b)
	}
	if op == '%' {
		return nil, errors.New("mod takes whole numbers")
	}
	return arithOf(x, y, op)
}

// arithOf is x op y for +, -, * and /.
func arithOf[T int | float64](x, y T, op byte) (any, error) {
	switch op {
	case '+':
		return x + y, nil
	case '-':
		return x - y, nil
	case '*':
		return x * y, nil
	}
	if y == 0 {
		return nil, errors.New("division by zero")
	}
	return x / y, nil
}
