package api

import (
	"cmp"
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/islandsite/island/internal/core"
)

// This file holds openapi.yaml to the code: its paths to Routes, each
// operation's bodies, parameters and statuses to the core.API method the
// route calls (specRoutes), its schemas to the JSON form of the Go types,
// and its error responses to httpStatus and the codes in core/errors.go.

// The parts of an OpenAPI 3.1 document the tests read.
type specDoc struct {
	OpenAPI    string                          `yaml:"openapi"`
	Info       struct{ Title, Version string } `yaml:"info"`
	Security   []map[string][]string           `yaml:"security"`
	Paths      map[string]map[string]*specOp   `yaml:"paths"`
	Components struct {
		Schemas         map[string]*schema       `yaml:"schemas"`
		Responses       map[string]*specResponse `yaml:"responses"`
		Parameters      map[string]*specParam    `yaml:"parameters"`
		RequestBodies   map[string]*specBody     `yaml:"requestBodies"`
		SecuritySchemes map[string]struct {
			Type   string `yaml:"type"`
			Scheme string `yaml:"scheme"`
		} `yaml:"securitySchemes"`
	} `yaml:"components"`
}

type specOp struct {
	OperationID string                   `yaml:"operationId"`
	Summary     string                   `yaml:"summary"`
	Description string                   `yaml:"description"`
	Parameters  []*specParam             `yaml:"parameters"`
	RequestBody *specBody                `yaml:"requestBody"`
	Responses   map[string]*specResponse `yaml:"responses"`
}

type specParam struct {
	Ref      string  `yaml:"$ref"`
	Name     string  `yaml:"name"`
	In       string  `yaml:"in"`
	Required bool    `yaml:"required"`
	Schema   *schema `yaml:"schema"`
}

type specBody struct {
	Ref      string                `yaml:"$ref"`
	Required bool                  `yaml:"required"`
	Content  map[string]*mediaType `yaml:"content"`
}

type specResponse struct {
	Ref     string                `yaml:"$ref"`
	Headers map[string]any        `yaml:"headers"`
	Content map[string]*mediaType `yaml:"content"`
}

type mediaType struct {
	Schema *schema `yaml:"schema"`
}

type schema struct {
	Ref                  string             `yaml:"$ref"`
	Type                 string             `yaml:"type"`
	Format               string             `yaml:"format"`
	ContentEncoding      string             `yaml:"contentEncoding"`
	Pattern              string             `yaml:"pattern"`
	Enum                 []string           `yaml:"enum"`
	Properties           map[string]*schema `yaml:"properties"`
	Required             []string           `yaml:"required"`
	Items                *schema            `yaml:"items"`
	AdditionalProperties *schema            `yaml:"additionalProperties"`
	AllOf                []*schema          `yaml:"allOf"`
}

const (
	refSchemas   = "#/components/schemas/"
	refResponses = "#/components/responses/"
	refParams    = "#/components/parameters/"
	refBodies    = "#/components/requestBodies/"
)

// specRoute is what a route sends and answers, in terms of the core.API
// method it calls.
type specRoute struct {
	// api is the core.API method the route calls ("" for none).
	api string
	// in is the method's request type (nil: it takes none). Sent as the
	// JSON body when body is application/json; otherwise its JSON fields
	// are the query parameters.
	in reflect.Type
	// body is the request's media type ("" for no body).
	body string
	// status is the success status.
	status int
	// media is the success media type ("" for none).
	media string
	// alt are the other success media types, answered when Accept asks
	// (never JSON).
	alt []string
	// out is the method's result type: the JSON body for media
	// application/json, the result line for application/x-ndjson.
	out reflect.Type
	// progress is the progress line of an application/x-ndjson answer.
	progress reflect.Type
	// headers are the success response's headers.
	headers []string
	// id is the operationId of a route that calls no core.API method
	// ("openapi" when empty).
	id string
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// specRoutes maps every route to its Go types. Keys are "METHOD /path".
var specRoutes = map[string]specRoute{
	"GET /":                    {id: "statusPage", status: 200, media: typeHTML},
	"GET /api/v1/openapi.yaml": {status: 200, media: typeYAML},
	"GET /api/v1/id":           {api: "ID", status: 200, media: typeJSON, out: typeOf[core.Identity]()},
	"GET /api/v1/status":       {api: "Status", status: 200, media: typeJSON, out: typeOf[core.Status]()},
	"GET /api/v1/peers":        {api: "Peers", status: 200, media: typeJSON, out: typeOf[[]core.Peer]()},
	"GET /api/v1/provide/stat": {api: "ProvideStat", status: 200, media: typeJSON, out: typeOf[core.ProvideStat]()},
	"GET /api/v1/node/stats":   {api: "NodeStats", status: 200, media: typeJSON, out: typeOf[core.NodeStats]()},
	"GET /api/v1/repo/stat":    {api: "RepoStat", status: 200, media: typeJSON, out: typeOf[core.RepoStat]()},

	"POST /api/v1/add": {api: "Add", in: typeOf[core.AddRequest](), body: typeMultipart,
		status: 200, media: typeJSON, out: typeOf[core.Added]()},
	"POST /api/v1/cat": {api: "Cat", in: typeOf[core.PathRequest](), body: typeJSON,
		status: 200, media: typeBytes, out: typeOf[io.ReadCloser](), headers: []string{"Trailer", trailerError}},
	"POST /api/v1/ls": {api: "Ls", in: typeOf[core.PathRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[[]core.LsEntry]()},
	"POST /api/v1/fetch": {api: "Fetch", in: typeOf[core.FetchRequest](), body: typeJSON,
		status: 200, media: typeNDJSON, out: typeOf[core.Fetched](), progress: typeOf[core.FetchProgress]()},
	"POST /api/v1/get": {api: "Get", in: typeOf[core.PathRequest](), body: typeJSON,
		status: 200, media: typeMultipart, alt: []string{typeBytes}, out: typeOf[core.Tree](), headers: []string{headerCID, "Trailer", trailerError}},
	"POST /api/v1/dag/import": {api: "DagImport", in: typeOf[core.DagImportRequest](), body: typeCAR,
		status: 200, media: typeJSON, out: typeOf[core.DagImported]()},
	"POST /api/v1/dag/export": {api: "DagExport", in: typeOf[core.PathRequest](), body: typeJSON,
		status: 200, media: typeCAR, out: typeOf[io.ReadCloser](), headers: []string{"Trailer", trailerError}},

	"POST /api/v1/pin/add": {api: "PinAdd", in: typeOf[core.PinAddRequest](), body: typeJSON,
		status: 200, media: typeNDJSON, out: typeOf[core.PinAdded](), progress: typeOf[core.FetchProgress]()},
	"POST /api/v1/pin/rm": {api: "PinRm", in: typeOf[core.PathRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[core.PinRemoved]()},
	"POST /api/v1/pin/ls": {api: "PinLs", in: typeOf[core.PinLsRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[[]core.Pin]()},
	"POST /api/v1/repo/gc":     {api: "GC", body: typeJSON, status: 200, media: typeJSON, out: typeOf[core.GCResult]()},
	"POST /api/v1/repo/verify": {api: "RepoVerify", body: typeJSON, status: 200, media: typeJSON, out: typeOf[core.VerifyReport]()},

	"POST /api/v1/site/publish": {api: "Publish", in: typeOf[core.PublishRequest](), body: typeMultipart,
		status: 200, media: typeJSON, out: typeOf[core.Published]()},
	"POST /api/v1/site/history": {api: "History", in: typeOf[core.HistoryRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[core.History]()},
	"POST /api/v1/site/history/export": {api: "HistoryExport", in: typeOf[core.HistoryRequest](), body: typeJSON,
		status: 200, media: typeCAR, out: typeOf[io.ReadCloser](), headers: []string{"Trailer", trailerError}},
	"POST /api/v1/site/history/import": {api: "HistoryImport", in: typeOf[core.HistoryImportRequest](), body: typeCAR,
		status: 200, media: typeJSON, out: typeOf[core.HistoryImported]()},
	"POST /api/v1/site/rollback": {api: "Rollback", in: typeOf[core.RollbackRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[core.RolledBack]()},

	"POST /api/v1/name/publish": {api: "NamePublish", in: typeOf[core.NamePublishRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[core.NamePublished]()},
	"POST /api/v1/name/resolve": {api: "NameResolve", in: typeOf[core.NameResolveRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[core.Resolved]()},
	"POST /api/v1/routing/put": {api: "RoutingPut", in: typeOf[core.RoutingPutRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[core.RecordStored]()},
	"POST /api/v1/routing/get": {api: "RoutingGet", in: typeOf[core.RoutingGetRequest](), body: typeJSON,
		status: 200, media: typeRecord, out: typeOf[[]byte]()},

	"GET /api/v1/key/ls": {api: "KeyLs", status: 200, media: typeJSON, out: typeOf[[]core.Key]()},
	"POST /api/v1/key/gen": {api: "KeyGen", in: typeOf[core.KeyRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[core.Key]()},
	"POST /api/v1/key/rm": {api: "KeyRm", in: typeOf[core.KeyRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[core.Key]()},
	"POST /api/v1/key/export": {api: "KeyExport", in: typeOf[core.KeyRequest](), body: typeJSON,
		status: 200, media: typeBytes, out: typeOf[[]byte]()},
	"POST /api/v1/key/import": {api: "KeyImport", in: typeOf[core.KeyImportRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[core.Key]()},

	"GET /api/v1/follow/ls": {api: "FollowLs", status: 200, media: typeJSON, out: typeOf[[]core.Follow]()},
	"POST /api/v1/follow/add": {api: "Follow", in: typeOf[core.FollowRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[core.Followed]()},
	"POST /api/v1/follow/rm": {api: "Unfollow", in: typeOf[core.FollowRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[core.Unfollowed]()},

	"GET /api/v1/pin/remote/service/ls": {api: "RemoteServiceLs", status: 200, media: typeJSON, out: typeOf[[]core.RemoteService]()},
	"POST /api/v1/pin/remote/service/add": {api: "RemoteServiceAdd", in: typeOf[core.RemoteService](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[core.RemoteServiceAdded]()},
	"POST /api/v1/pin/remote/service/rm": {api: "RemoteServiceRm", in: typeOf[core.RemoteServiceRmRequest](), body: typeJSON,
		status: 204},
	"POST /api/v1/pin/remote/add": {api: "RemotePinAdd", in: typeOf[core.RemotePinAddRequest](), body: typeJSON,
		status: 200, media: typeNDJSON, out: typeOf[core.RemotePinAdded](), progress: typeOf[core.RemotePin]()},
	"POST /api/v1/pin/remote/ls": {api: "RemotePinLs", in: typeOf[core.RemotePinLsRequest](), body: typeJSON,
		status: 200, media: typeJSON, out: typeOf[[]core.RemotePin]()},
	"POST /api/v1/pin/remote/rm": {api: "RemotePinRm", in: typeOf[core.RemotePinRmRequest](), body: typeJSON,
		status: 204},
}

func routeKey(r Route) string { return r.Method + " " + r.Path }

func loadSpec(t *testing.T) *specDoc {
	t.Helper()
	var doc specDoc
	require.NoError(t, yaml.Unmarshal(openapiYAML, &doc), "openapi.yaml")
	return &doc
}

// specRouteOrder lists the spec's operations in the order the file has them.
func specRouteOrder(t *testing.T) []Route {
	t.Helper()
	var root yaml.Node
	require.NoError(t, yaml.Unmarshal(openapiYAML, &root))
	require.Equal(t, yaml.DocumentNode, root.Kind)
	paths := mappingValue(root.Content[0], "paths")
	require.NotNil(t, paths, "openapi.yaml has no paths")
	var out []Route
	for i := 0; i+1 < len(paths.Content); i += 2 {
		item := paths.Content[i+1]
		for j := 0; j+1 < len(item.Content); j += 2 {
			out = append(out, Route{strings.ToUpper(item.Content[j].Value), paths.Content[i].Value})
		}
	}
	return out
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// diff reports what want has and got lacks, and what got has beyond want.
func diff(want, got []string) (missing, extra []string) {
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

func requireSameSet(t *testing.T, want, got []string, what string) {
	t.Helper()
	missing, extra := diff(want, got)
	require.True(t, len(missing) == 0 && len(extra) == 0, "%s:\n  missing: %q\n  extra:   %q", what, missing, extra)
}

func routeKeys(rs []Route) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = routeKey(r)
	}
	return out
}

func TestSpecPathsAreRoutes(t *testing.T) {
	doc := loadSpec(t)
	var inSpec []string
	for p, item := range doc.Paths {
		for m := range item {
			inSpec = append(inSpec, strings.ToUpper(m)+" "+p)
		}
	}
	routes := routeKeys(Routes())
	tests := []struct {
		name string
		got  []string
	}{
		{"openapi.yaml paths", inSpec},
		{"specRoutes table", slices.Collect(maps.Keys(specRoutes))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireSameSet(t, routes, tc.got, tc.name+" against Routes() (missing from it / extra in it)")
		})
	}
	t.Run("order", func(t *testing.T) {
		// Routes says it lists the operations in the order of the spec.
		require.Equal(t, routes, routeKeys(specRouteOrder(t)))
	})
}

// TestSpecTableMatchesAPI holds specRoutes to core.API: every method is
// served by exactly one route, with the request and result types the table
// says.
func TestSpecTableMatchesAPI(t *testing.T) {
	api := typeOf[core.API]()
	served := map[string][]string{}
	for key, r := range specRoutes {
		if r.api == "" {
			continue
		}
		served[r.api] = append(served[r.api], key)
		t.Run(key, func(t *testing.T) {
			m, ok := api.MethodByName(r.api)
			require.True(t, ok, "core.API has no method %s", r.api)
			mt := m.Type
			require.Equal(t, typeOf[context.Context](), mt.In(0))
			if r.in == nil {
				require.Equal(t, 1, mt.NumIn(), "%s takes a request", r.api)
			} else {
				require.Equal(t, 2, mt.NumIn(), "%s takes no request", r.api)
				require.Equal(t, r.in, mt.In(1), "%s's request type", r.api)
			}
			require.Equal(t, typeOf[error](), mt.Out(mt.NumOut()-1))
			if r.out == nil {
				require.Equal(t, 1, mt.NumOut(), "%s returns a result", r.api)
			} else {
				require.Equal(t, 2, mt.NumOut(), "%s returns no result", r.api)
				require.Equal(t, r.out, mt.Out(0), "%s's result type", r.api)
			}
		})
	}
	for i := range api.NumMethod() {
		name := api.Method(i).Name
		require.Len(t, served[name], 1, "core.API.%s: want exactly one route calling it, got %v", name, served[name])
	}
}

func TestSpecOperations(t *testing.T) {
	doc := loadSpec(t)
	codes := errorCodes(t)
	var errStatuses []string
	for _, c := range codes {
		errStatuses = append(errStatuses, strconv.Itoa(httpStatus(c)))
	}
	// The browser guard refuses with 403.
	errStatuses = append(errStatuses, strconv.Itoa(http.StatusForbidden))
	slices.Sort(errStatuses)
	errStatuses = slices.Compact(errStatuses)

	for _, route := range Routes() {
		key := routeKey(route)
		t.Run(key, func(t *testing.T) {
			r, ok := specRoutes[key]
			require.True(t, ok, "specRoutes lacks %s", key)
			op := doc.Paths[route.Path][strings.ToLower(route.Method)]
			require.NotNil(t, op, "openapi.yaml lacks %s", key)
			c := newChecker(doc)

			wantID := r.api
			if wantID == "" {
				wantID = cmp.Or(r.id, "openapi")
			}
			require.Equal(t, wantID, op.OperationID, "operationId")
			require.NotEmpty(t, op.Summary, "summary")
			require.NotEmpty(t, op.Description, "description")

			checkRequest(t, c, r, op)
			checkResponses(t, c, r, op, codes, errStatuses)
			require.Empty(t, c.problems, "openapi.yaml and the Go types disagree:\n  %s", strings.Join(c.problems, "\n  "))
		})
	}
}

func checkRequest(t *testing.T, c *checker, r specRoute, op *specOp) {
	t.Helper()
	var params []*specParam
	for _, p := range op.Parameters {
		params = append(params, c.param(p))
	}
	if r.body == "" {
		require.Nil(t, op.RequestBody, "a GET takes no body")
		require.Empty(t, params, "parameters")
		return
	}
	require.NotNil(t, op.RequestBody, "requestBody")
	body := op.RequestBody
	if body.Ref != "" {
		name, ok := strings.CutPrefix(body.Ref, refBodies)
		require.True(t, ok, "requestBody $ref %s", body.Ref)
		body = c.doc.Components.RequestBodies[name]
		require.NotNil(t, body, "no request body %s", name)
	}
	require.Equal(t, []string{r.body}, slices.Collect(maps.Keys(body.Content)), "request media types")
	mt := body.Content[r.body]
	require.NotNil(t, mt)

	if r.body != typeJSON {
		// Bytes in the body, the request's other fields in the query.
		require.True(t, body.Required, "a %s body is required", r.body)
		c.nonJSON("request body", mt.Schema)
		fields := jsonFields(r.in)
		var names []string
		for _, p := range params {
			names = append(names, p.Name)
		}
		requireSameSet(t, fieldNames(fields), names, fmt.Sprintf("query parameters against the JSON fields of %s", r.in))
		for _, p := range params {
			f := fields[slices.IndexFunc(fields, func(f jsonField) bool { return f.name == p.Name })]
			require.Equal(t, "query", p.In, "parameter %s", p.Name)
			require.Equal(t, f.required, p.Required, "parameter %s: required", p.Name)
			c.check("?"+p.Name, p.Schema, f.typ)
		}
		return
	}
	require.Empty(t, params, "a JSON request takes its arguments in the body")
	in := r.in
	if in == nil {
		in = typeOf[struct{}]()
	}
	// The server takes an empty body as the zero request, so the body is
	// required exactly when the request has required fields.
	anyRequired := slices.ContainsFunc(jsonFields(in), func(f jsonField) bool { return f.required })
	require.Equal(t, anyRequired, body.Required, "requestBody.required (%s has required fields: %v)", in, anyRequired)
	c.check("request", mt.Schema, in)
}

func checkResponses(t *testing.T, c *checker, r specRoute, op *specOp, codes []core.Code, errStatuses []string) {
	t.Helper()
	var ok, errs []string
	for s := range op.Responses {
		if strings.HasPrefix(s, "2") {
			ok = append(ok, s)
		} else {
			errs = append(errs, s)
		}
	}
	require.Equal(t, []string{strconv.Itoa(r.status)}, ok, "success statuses")
	requireSameSet(t, errStatuses, errs, "error statuses against httpStatus and the browser guard")

	res := c.response(op.Responses[ok[0]])
	var headers []string
	for h := range res.Headers {
		headers = append(headers, h)
	}
	requireSameSet(t, r.headers, headers, "success headers")
	if r.media == "" {
		require.Empty(t, res.Content, "a %d answer has no body", r.status)
	} else {
		requireSameSet(t, append([]string{r.media}, r.alt...), slices.Collect(maps.Keys(res.Content)), "success media types")
		for _, alt := range r.alt {
			c.nonJSON("result", res.Content[alt].Schema)
		}
		s := res.Content[r.media].Schema
		switch r.media {
		case typeJSON:
			c.check("result", s, r.out)
		case typeNDJSON:
			c.event(s, r.progress, r.out)
		default:
			c.nonJSON("result", s)
		}
	}

	for _, status := range errs {
		res := op.Responses[status]
		require.NotEmpty(t, res.Ref, "error %s: want a $ref to a shared response", status)
		res = c.response(res)
		n, _ := strconv.Atoi(status)
		var want []string
		for _, code := range codes {
			if httpStatus(code) == n {
				want = append(want, string(code))
			}
		}
		if n == http.StatusForbidden {
			want = []string{string(core.CodeUnauthorized)}
		}
		require.Equal(t, []string{typeJSON}, slices.Collect(maps.Keys(res.Content)), "error %s media types", status)
		s := res.Content[typeJSON].Schema
		require.NotNil(t, s, "error %s schema", status)
		require.Len(t, s.AllOf, 2, "error %s: want allOf: [Error, the codes it carries]", status)
		c.check("error "+status, s.AllOf[0], typeOf[errorBody]())
		code := s.AllOf[1].Properties["error"]
		require.NotNil(t, code, "error %s: no error property", status)
		code = code.Properties["code"]
		require.NotNil(t, code, "error %s: no error.code property", status)
		requireSameSet(t, want, code.Enum, fmt.Sprintf("error %s: the codes httpStatus maps to it", status))
	}
}

// TestSpecCodes holds the Code schema to the codes core/errors.go defines.
func TestSpecCodes(t *testing.T) {
	doc := loadSpec(t)
	code := doc.Components.Schemas["Code"]
	require.NotNil(t, code, "no Code schema")
	var want []string
	for _, c := range errorCodes(t) {
		want = append(want, string(c))
	}
	requireSameSet(t, want, code.Enum, "Code enum against core/errors.go")
}

// errorCodes lists the values of the Code constants in core/errors.go.
func errorCodes(t *testing.T) []core.Code {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../core/errors.go", nil, 0)
	require.NoError(t, err)
	var out []core.Code
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				require.True(t, ok && lit.Kind == token.STRING, "a Code constant that is not a string literal")
				s, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				out = append(out, core.Code(s))
			}
		}
	}
	require.NotEmpty(t, out, "no Code constants in core/errors.go")
	return out
}

// TestSpecRefs checks every $ref resolves and every component is used.
func TestSpecRefs(t *testing.T) {
	var root yaml.Node
	require.NoError(t, yaml.Unmarshal(openapiYAML, &root))
	doc := root.Content[0]
	var refs []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		for i, c := range n.Content {
			if n.Kind == yaml.MappingNode && i%2 == 0 && c.Value == "$ref" {
				refs = append(refs, n.Content[i+1].Value)
			}
			walk(c)
		}
	}
	walk(doc)
	components := mappingValue(doc, "components")
	require.NotNil(t, components)
	var defined []string
	for _, kind := range []string{"schemas", "responses", "parameters", "requestBodies", "headers"} {
		m := mappingValue(components, kind)
		if m == nil {
			continue
		}
		for i := 0; i < len(m.Content); i += 2 {
			defined = append(defined, "#/components/"+kind+"/"+m.Content[i].Value)
		}
	}
	slices.Sort(refs)
	refs = slices.Compact(refs)
	missing, unused := diff(refs, defined)
	require.Empty(t, missing, "$refs to components that do not exist")
	require.Empty(t, unused, "components nothing refers to")

	spec := loadSpec(t)
	require.Equal(t, "http", spec.Components.SecuritySchemes["bearerAuth"].Type)
	require.Equal(t, "bearer", spec.Components.SecuritySchemes["bearerAuth"].Scheme)
	require.Equal(t, []map[string][]string{{}, {"bearerAuth": {}}}, spec.Security, "security: the token is optional")
}

type nopAPI struct{ core.API }

// TestSpecServed gets the spec from a Server: the embedded file, as YAML,
// OpenAPI 3.1, behind the token when there is one.
func TestSpecServed(t *testing.T) {
	onDisk, err := os.ReadFile("openapi.yaml")
	require.NoError(t, err)
	require.Equal(t, string(onDisk), string(openapiYAML), "the embedded spec is openapi.yaml")

	tests := []struct {
		name   string
		token  string
		auth   string
		status int
	}{
		{name: "no token", status: http.StatusOK},
		{name: "token sent", token: "s3cret", auth: "Bearer s3cret", status: http.StatusOK},
		{name: "token missing", token: "s3cret", status: http.StatusUnauthorized},
		{name: "token wrong", token: "s3cret", auth: "Bearer guess", status: http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(t.Context(), Config{ListenAddr: "127.0.0.1:0", API: nopAPI{}, Token: tc.token})
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+Prefix+"/openapi.yaml", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.status != http.StatusOK {
				var eb errorBody
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &eb))
				require.Equal(t, core.CodeUnauthorized, eb.Error.Code)
				return
			}
			require.Equal(t, typeYAML, rec.Header().Get("Content-Type"))
			require.Equal(t, string(openapiYAML), rec.Body.String())
			var doc specDoc
			require.NoError(t, yaml.Unmarshal(rec.Body.Bytes(), &doc))
			require.Regexp(t, `^3\.1\.\d+$`, doc.OpenAPI)
			require.NotEmpty(t, doc.Info.Title)
			require.NotEmpty(t, doc.Info.Version)
		})
	}
}

// checker compares schemas with the JSON form of Go types, collecting
// every disagreement.
type checker struct {
	doc      *specDoc
	seen     map[string]reflect.Type
	problems []string
}

func newChecker(doc *specDoc) *checker {
	return &checker{doc: doc, seen: map[string]reflect.Type{}}
}

func (c *checker) fail(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// schemaName is the component a Go type's schema has: its name, but for
// the unexported types of the error body.
func schemaName(t reflect.Type) string {
	switch t {
	case typeOf[errorBody]():
		return "Error"
	case typeOf[wireError]():
		return "ErrorDetail"
	}
	return t.Name()
}

var (
	timeType     = typeOf[time.Time]()
	durationType = typeOf[core.Duration]()
	stdDuration  = typeOf[time.Duration]()
	bytesType    = typeOf[[]byte]()
)

// check compares the schema s, found at at, with the JSON form of t.
func (c *checker) check(at string, s *schema, t reflect.Type) {
	if s == nil {
		c.fail("%s: no schema for %s", at, t)
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s.Ref != "" {
		name, ok := strings.CutPrefix(s.Ref, refSchemas)
		switch {
		case !ok:
			c.fail("%s: $ref %s is not a component schema", at, s.Ref)
			return
		case t.Name() == "":
			c.fail("%s: $ref %s for the unnamed Go type %s", at, name, t)
			return
		case name != schemaName(t):
			c.fail("%s: $ref %s, but the Go type is %s (want %s%s)", at, name, t, refSchemas, schemaName(t))
			return
		}
		if prev, ok := c.seen[name]; ok {
			if prev != t {
				c.fail("%s: schema %s stands for both %s and %s", at, name, prev, t)
			}
			return
		}
		c.seen[name] = t
		if s = c.doc.Components.Schemas[name]; s == nil {
			c.fail("%s: no schema %s", at, name)
			return
		}
		at = name
	} else if t.Kind() == reflect.Struct && t.Name() != "" && t != timeType {
		c.fail("%s: %s inline; want a $ref to %s%s", at, t, refSchemas, schemaName(t))
	}

	switch {
	case t == timeType:
		c.leaf(at, s, "string")
		if s.Format != "date-time" {
			c.fail("%s: a time.Time has format date-time, not %q", at, s.Format)
		}
	case t == durationType:
		c.leaf(at, s, "string")
		if s.Pattern != "" {
			re, err := regexp.Compile(s.Pattern)
			if err != nil {
				c.fail("%s: pattern: %v", at, err)
				break
			}
			for _, d := range []time.Duration{0, 250, time.Microsecond, 1500 * time.Millisecond, 30 * time.Second, 90 * time.Second, 48 * time.Hour, -5 * time.Second} {
				if v := core.Duration(d).String(); !re.MatchString(v) {
					c.fail("%s: pattern refuses %q", at, v)
				}
			}
		}
	case t == stdDuration:
		// encoding/json writes a time.Duration as its int64 nanoseconds.
		c.leaf(at, s, "integer")
	case t == bytesType:
		c.leaf(at, s, "string")
		if s.ContentEncoding != "base64" {
			c.fail("%s: []byte is base64 in JSON: want contentEncoding base64, not %q", at, s.ContentEncoding)
		}
	case t.Implements(typeOf[json.Marshaler]()) || reflect.PointerTo(t).Implements(typeOf[json.Marshaler]()) ||
		t.Implements(typeOf[encoding.TextMarshaler]()) || reflect.PointerTo(t).Implements(typeOf[encoding.TextMarshaler]()):
		c.fail("%s: %s marshals itself: teach spec_test.go its JSON form", at, t)
	default:
		switch t.Kind() {
		case reflect.Bool:
			c.leaf(at, s, "boolean")
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			c.leaf(at, s, "integer")
		case reflect.Float32, reflect.Float64:
			c.leaf(at, s, "number")
		case reflect.String:
			c.leaf(at, s, "string")
		case reflect.Slice, reflect.Array:
			c.leaf(at, s, "array")
			c.check(at+"[]", s.Items, t.Elem())
		case reflect.Map:
			c.leaf(at, s, "object")
			if t.Key().Kind() != reflect.String {
				c.fail("%s: %s: map keys other than strings", at, t)
			}
			c.check(at+"{}", s.AdditionalProperties, t.Elem())
		case reflect.Struct:
			c.object(at, s, t)
		default:
			c.fail("%s: %s has no JSON form", at, t)
		}
	}
}

func (c *checker) leaf(at string, s *schema, typ string) {
	if s.Type != typ {
		c.fail("%s: type %q, want %q", at, s.Type, typ)
	}
}

func (c *checker) object(at string, s *schema, t reflect.Type) {
	c.leaf(at, s, "object")
	fields := jsonFields(t)
	var names []string
	for name := range s.Properties {
		names = append(names, name)
	}
	missing, extra := diff(fieldNames(fields), names)
	if len(missing) > 0 {
		c.fail("%s: lacks the properties %q of %s", at, missing, t)
	}
	if len(extra) > 0 {
		c.fail("%s: has the properties %q, which %s lacks", at, extra, t)
	}
	var required []string
	for _, f := range fields {
		if f.required {
			required = append(required, f.name)
		}
		if p := s.Properties[f.name]; p != nil {
			if f.asString {
				c.leaf(at+"."+f.name, p, "string")
			} else {
				c.check(at+"."+f.name, p, f.typ)
			}
		}
	}
	missing, extra = diff(required, s.Required)
	if len(missing) > 0 {
		c.fail("%s: %q required in %s (no omitempty/omitzero), not in required", at, missing, t)
	}
	if len(extra) > 0 {
		c.fail("%s: required lists %q, optional in %s", at, extra, t)
	}
}

// event checks the schema of an application/x-ndjson line: the event
// envelope with progress and result of the operation's types.
func (c *checker) event(s *schema, progress, result reflect.Type) {
	if s == nil || s.Ref == "" {
		c.fail("ndjson: want a $ref to the event schema")
		return
	}
	name, _ := strings.CutPrefix(s.Ref, refSchemas)
	if s = c.doc.Components.Schemas[name]; s == nil {
		c.fail("ndjson: no schema %s", name)
		return
	}
	c.leaf(name, s, "object")
	fields := jsonFields(typeOf[event]())
	var names []string
	for n := range s.Properties {
		names = append(names, n)
	}
	if missing, extra := diff(fieldNames(fields), names); len(missing)+len(extra) > 0 {
		c.fail("%s: properties missing %q, extra %q against api.event", name, missing, extra)
	}
	for _, f := range fields {
		typ := f.typ
		switch f.name {
		case "progress":
			typ = progress
		case "result":
			typ = result
		}
		c.check(name+"."+f.name, s.Properties[f.name], typ)
	}
}

// nonJSON checks the schema of a body of bytes.
func (c *checker) nonJSON(at string, s *schema) {
	if s == nil || s.Type != "string" {
		c.fail("%s: bytes: want a schema of type string", at)
	}
}

func (c *checker) param(p *specParam) *specParam {
	if p.Ref == "" {
		return p
	}
	name, ok := strings.CutPrefix(p.Ref, refParams)
	if q := c.doc.Components.Parameters[name]; ok && q != nil {
		return q
	}
	c.fail("parameter $ref %s does not resolve", p.Ref)
	return &specParam{}
}

func (c *checker) response(r *specResponse) *specResponse {
	if r.Ref == "" {
		return r
	}
	name, ok := strings.CutPrefix(r.Ref, refResponses)
	if q := c.doc.Components.Responses[name]; ok && q != nil {
		return q
	}
	c.fail("response $ref %s does not resolve", r.Ref)
	return &specResponse{}
}

// jsonField is a field of a struct's JSON form.
type jsonField struct {
	name string
	typ  reflect.Type
	// required: no omitempty or omitzero, so it is always there.
	required bool
	// asString: the ",string" option quotes a number or bool.
	asString bool
	depth    int
	tagged   bool
}

// jsonFields lists the fields of t's JSON form as encoding/json does:
// json tags name them, "-" drops them, unexported fields are skipped and
// embedded structs without a name are flattened, a shallower field hiding
// a deeper one of the same name (and a tagged one an untagged one at the
// same depth; two alike hide each other).
func jsonFields(t reflect.Type) []jsonField {
	var all []jsonField
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			ft := sf.Type
			if sf.Anonymous {
				et := ft
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if !sf.IsExported() && et.Kind() != reflect.Struct {
					continue
				}
				if name == "" && et.Kind() == reflect.Struct {
					walk(et, depth+1)
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			f := jsonField{name: name, typ: ft, depth: depth, tagged: name != "", required: true}
			if f.name == "" {
				f.name = sf.Name
			}
			for o := range strings.SplitSeq(opts, ",") {
				switch o {
				case "omitempty", "omitzero":
					f.required = false
				case "string":
					switch ft.Kind() {
					case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
						reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
						f.asString = true
					}
				}
			}
			all = append(all, f)
		}
	}
	walk(t, 0)

	byName := map[string][]jsonField{}
	for _, f := range all {
		byName[f.name] = append(byName[f.name], f)
	}
	var out []jsonField
	for _, fs := range byName {
		minDepth := slices.MinFunc(fs, func(a, b jsonField) int { return a.depth - b.depth }).depth
		fs = slices.DeleteFunc(fs, func(f jsonField) bool { return f.depth > minDepth })
		if len(fs) > 1 {
			fs = slices.DeleteFunc(fs, func(f jsonField) bool { return !f.tagged })
		}
		if len(fs) == 1 {
			out = append(out, fs[0])
		}
	}
	slices.SortFunc(out, func(a, b jsonField) int { return strings.Compare(a.name, b.name) })
	return out
}

func fieldNames(fs []jsonField) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.name
	}
	return out
}

// TestJSONFields holds jsonFields to encoding/json on the tricky cases.
func TestJSONFields(t *testing.T) {
	type inner struct {
		A string `json:"a"`
		B string `json:"b,omitempty"`
	}
	type Tagged struct {
		C string `json:"c"`
	}
	tests := []struct {
		name string
		v    any
	}{
		{"embedded flattened", struct {
			Path string `json:"path"`
			core.Lookup
		}{}},
		{"unexported embedded struct flattened", struct{ inner }{}},
		{"embedded pointer flattened", struct{ *inner }{&inner{}}},
		{"named embedded not flattened", struct {
			Tagged `json:"t"`
		}{}},
		{"shallower wins", struct {
			A int `json:"a"`
			inner
		}{}},
		{"skipped and unexported", struct {
			X int    `json:"-"`
			y int    //nolint:unused // unexported: not in JSON
			Z string `json:",omitempty"`
		}{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.v)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(b, &m))
			var want []string
			for k := range m {
				want = append(want, k)
			}
			got := fieldNames(jsonFields(reflect.TypeOf(tc.v)))
			// Fields with omitempty and a zero value are absent from b.
			for _, f := range jsonFields(reflect.TypeOf(tc.v)) {
				if !f.required && !slices.Contains(want, f.name) {
					want = append(want, f.name)
				}
			}
			requireSameSet(t, want, got, "jsonFields against encoding/json")
		})
	}
}
