package site

import (
	"html/template"
	"text/template/parse"
)

// readsListContent reports whether executing a layout set (baseLayout,
// with a view as dot) may read the Content of an entry of view.Posts, by
// walking the set's parse trees. A Builder keys a list page on its
// entries' content only when it may: a post whose body alone changed then
// leaves the lists that show it as they were, which is most of what an
// edit would otherwise execute again (posts/ lists every post).
//
// The walk follows what each value can be: the view, its Posts, one of
// them, an entry the key covers whole (Page, Prev, Next), a value no entry
// of Posts is reachable from (strings, times, tags, the site), or unknown.
// It answers true for anything it cannot follow: Content read from one of
// Posts or from an unknown value, and such a value printed, formatted or
// handed to a function or a method it does not know. It must run before the
// set is first executed, which rewrites the trees (escaping).
func readsListContent(set *template.Template) bool {
	a := &contentWalk{set: set, done: map[walkKey]bool{}}
	a.template(baseLayout, valView)
	return a.reads
}

// value is what the walk knows of a template value.
type value int

const (
	valSafe    value = iota // no entry of view.Posts is reachable from it
	valFull                 // view.Page, Prev or Next: keyed with its content
	valView                 // the view
	valLinks                // what view.With returns: the view and tags
	valPosts                // view.Posts
	valPost                 // one entry of view.Posts
	valUnknown              // anything
)

func join(a, b value) value {
	if a == b {
		return a
	}
	return valUnknown
}

type walkKey struct {
	name string
	dot  value
}

type contentWalk struct {
	set   *template.Template
	done  map[walkKey]bool
	reads bool
}

// scope is one template's execution: its dot and variables ($ included).
type scope struct {
	vars map[string]value
}

func (a *contentWalk) template(name string, dot value) {
	k := walkKey{name, dot}
	if a.done[k] || a.reads {
		return
	}
	a.done[k] = true
	t := a.set.Lookup(name)
	if t == nil || t.Tree == nil || t.Tree.Root == nil {
		return // executing it fails; nothing is read
	}
	s := &scope{vars: map[string]value{"$": dot}}
	// Twice: a variable assigned late in a range is read early in the
	// next iteration; the second pass sees every assignment.
	a.list(t.Tree.Root, dot, s)
	a.list(t.Tree.Root, dot, s)
}

func (a *contentWalk) list(l *parse.ListNode, dot value, s *scope) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		a.node(n, dot, s)
	}
}

func (a *contentWalk) node(n parse.Node, dot value, s *scope) {
	switch n := n.(type) {
	case *parse.ActionNode:
		v := a.pipe(n.Pipe, dot, s)
		if len(n.Pipe.Decl) == 0 {
			a.printed(v)
		}
	case *parse.IfNode:
		a.pipe(n.Pipe, dot, s)
		a.list(n.List, dot, s)
		a.list(n.ElseList, dot, s)
	case *parse.WithNode:
		v := a.pipe(n.Pipe, dot, s)
		a.list(n.List, v, s)
		a.list(n.ElseList, dot, s)
	case *parse.RangeNode:
		v := a.pipeValue(n.Pipe, dot, s)
		elem := valUnknown
		switch v {
		case valPosts:
			elem = valPost
		case valSafe:
			elem = valSafe
		}
		switch len(n.Pipe.Decl) {
		case 1:
			a.assign(s, n.Pipe.Decl[0].Ident[0], elem)
		case 2:
			a.assign(s, n.Pipe.Decl[0].Ident[0], valSafe) // an index or key
			a.assign(s, n.Pipe.Decl[1].Ident[0], elem)
		}
		a.list(n.List, elem, s)
		a.list(n.ElseList, dot, s)
	case *parse.TemplateNode:
		v := valSafe // no pipeline: nil
		if n.Pipe != nil {
			v = a.pipe(n.Pipe, dot, s)
		}
		a.template(n.Name, v)
	case *parse.TextNode, *parse.CommentNode, *parse.BreakNode, *parse.ContinueNode:
	default:
		a.reads = true // a node this walk does not know
	}
}

func (a *contentWalk) assign(s *scope, name string, v value) {
	if old, ok := s.vars[name]; ok {
		v = join(old, v)
	}
	s.vars[name] = v
}

// pipe evaluates a pipeline and assigns its declared variables.
func (a *contentWalk) pipe(p *parse.PipeNode, dot value, s *scope) value {
	v := a.pipeValue(p, dot, s)
	for _, d := range p.Decl {
		a.assign(s, d.Ident[0], v)
	}
	return v
}

// pipeValue evaluates a pipeline: each command's result is the last
// argument of the next.
func (a *contentWalk) pipeValue(p *parse.PipeNode, dot value, s *scope) value {
	if p == nil {
		return valSafe
	}
	var piped *value
	v := valSafe
	for _, c := range p.Cmds {
		v = a.command(c, dot, s, piped)
		piped = &v
	}
	return v
}

// printed is a value written out (or formatted): an entry of Posts prints
// its Content, and so may anything unknown.
func (a *contentWalk) printed(v value) {
	if v != valSafe && v != valFull {
		a.reads = true
	}
}

func (a *contentWalk) command(c *parse.CommandNode, dot value, s *scope, piped *value) value {
	if len(c.Args) == 0 {
		a.reads = true
		return valUnknown
	}
	var args []value
	for _, arg := range c.Args[1:] {
		args = append(args, a.operand(arg, dot, s))
	}
	if piped != nil {
		args = append(args, *piped)
	}
	if v, ok := a.named(c.Args[0], dot, s, args); ok {
		return v
	}
	if len(args) > 0 {
		a.reads = true // arguments to a value that is not a function
	}
	return a.operand(c.Args[0], dot, s)
}

// named is the value of a field, chain, variable or function node called
// with args (none for an operand); ok is false for any other node.
func (a *contentWalk) named(n parse.Node, dot value, s *scope, args []value) (value, bool) {
	switch n := n.(type) {
	case *parse.FieldNode:
		return a.fields(dot, n.Ident, args), true
	case *parse.ChainNode:
		return a.fields(a.operand(n.Node, dot, s), n.Field, args), true
	case *parse.VariableNode:
		v, ok := s.vars[n.Ident[0]]
		if !ok {
			v = valUnknown
		}
		return a.fields(v, n.Ident[1:], args), true
	case *parse.IdentifierNode:
		return a.function(n.Ident, args), true
	}
	return valUnknown, false
}

// operand is a command's argument.
func (a *contentWalk) operand(n parse.Node, dot value, s *scope) value {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode, *parse.ChainNode, *parse.VariableNode, *parse.IdentifierNode:
		v, _ := a.named(n, dot, s, nil)
		return v
	case *parse.PipeNode:
		return a.pipe(n, dot, s)
	case *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
		return valSafe
	}
	a.reads = true
	return valUnknown
}

// fields follows a chain of fields (or methods, the last one called with
// args) from v.
func (a *contentWalk) fields(v value, idents []string, args []value) value {
	for i, name := range idents {
		last := i == len(idents)-1
		if name == "Content" && (v == valPost || v == valUnknown) {
			a.reads = true
		}
		switch {
		case v == valView && (name == "With" || name == "Rel"):
			// View's own methods: Rel makes a link of a path; With reads
			// only an entry's tags.
			if !last {
				a.reads = true
			}
			if name == "With" {
				return valLinks
			}
			return valSafe
		case v == valView:
			v = viewField(name)
		case v == valLinks:
			switch name {
			case "View":
				v = valView
			case "Tags":
				v = valSafe
			default:
				v = valUnknown
			}
		case v == valPost || v == valFull:
			switch name {
			case "Title", "Date", "Summary", "Path", "Tags", "Content":
				v = valSafe
			default:
				v = valUnknown
			}
		case v == valSafe:
			// Fields and methods of values no entry is reachable from
			// reach none; their arguments are checked below.
		default:
			v = valUnknown
		}
	}
	for _, arg := range args {
		a.printed(arg) // handed to a method this walk cannot see into
	}
	return v
}

// viewField is what a field of the view is.
func viewField(name string) value {
	switch name {
	case "Posts":
		return valPosts
	case "Page", "Prev", "Next":
		return valFull
	case "Site", "Kind", "Title", "Description", "Nav", "Tags", "Tag", "Taxonomy", "MainPath", "InlineCSS":
		return valSafe
	}
	return valUnknown
}

// function is a call of one of text/template's functions (the theme adds
// none).
func (a *contentWalk) function(name string, args []value) value {
	switch name {
	case "len", "not", "eq", "ne", "lt", "le", "gt", "ge":
		// Lengths, truth and comparisons (entries are pointers, compared
		// as such) read no field.
		return valSafe
	case "and", "or":
		v := valSafe
		for i, arg := range args {
			if i == 0 {
				v = arg
			} else {
				v = join(v, arg)
			}
		}
		return v
	case "index", "slice":
		if len(args) == 0 {
			return valUnknown
		}
		for _, k := range args[1:] {
			a.printed(k)
		}
		switch {
		case args[0] == valPosts && name == "index":
			return valPost
		case args[0] == valPosts || args[0] == valSafe:
			return args[0]
		}
		return valUnknown
	}
	// print, printf, html, js, urlquery, call and anything else: their
	// arguments are formatted or run; from what reaches no entry of Posts,
	// they make what reaches none either.
	for _, arg := range args {
		a.printed(arg)
	}
	return valSafe
}
