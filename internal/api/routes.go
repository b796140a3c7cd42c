package api

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/boxo/files"

	"github.com/islandsite/island/internal/core"
)

//go:embed openapi.yaml
var openapiYAML []byte

// Route is one operation of the API, as openapi.yaml lists it.
type Route struct {
	Method string
	Path   string
}

// operation is a route and how to serve it with an API.
type operation struct {
	Route
	serve func(s *Server, a core.API) http.HandlerFunc
}

// Routes lists every operation the server answers, in the order of the
// spec.
func Routes() []Route {
	out := make([]Route, len(operations))
	for i, op := range operations {
		out[i] = op.Route
	}
	return out
}

func op(method, path string, serve func(s *Server, a core.API) http.HandlerFunc) operation {
	return operation{Route{method, Prefix + path}, serve}
}

const get, post = http.MethodGet, http.MethodPost

// operations is the API: GET for reads that take no arguments and change
// nothing, POST with a JSON body (or a data stream) for everything else, so
// that no <img> or <form> on a web page can start one.
var operations = []operation{
	// The status page, for a person's browser: on this origin, not the
	// gateway's, so no site the gateway serves can read it (statuspage.go).
	{Route{get, "/"}, func(s *Server, _ core.API) http.HandlerFunc { return s.servePage }},
	op(get, "/openapi.yaml", func(*Server, core.API) http.HandlerFunc { return serveSpec }),
	op(get, "/id", func(_ *Server, a core.API) http.HandlerFunc { return read(a.ID) }),
	op(get, "/status", func(_ *Server, a core.API) http.HandlerFunc { return read(a.Status) }),
	op(get, "/peers", func(_ *Server, a core.API) http.HandlerFunc { return read(a.Peers) }),
	op(get, "/provide/stat", func(_ *Server, a core.API) http.HandlerFunc { return read(a.ProvideStat) }),
	op(get, "/node/stats", func(_ *Server, a core.API) http.HandlerFunc { return read(a.NodeStats) }),

	op(post, "/add", func(s *Server, _ core.API) http.HandlerFunc { return s.add }),
	op(post, "/cat", func(_ *Server, a core.API) http.HandlerFunc { return stream(a.Cat, typeBytes) }),
	op(post, "/ls", func(_ *Server, a core.API) http.HandlerFunc { return call(a.Ls) }),
	op(post, "/fetch", func(_ *Server, a core.API) http.HandlerFunc {
		return progress(a.Fetch, func(q *core.FetchRequest, f func(core.FetchProgress)) { q.Progress = f })
	}),
	op(post, "/get", func(s *Server, _ core.API) http.HandlerFunc { return s.get }),
	op(post, "/dag/import", func(s *Server, _ core.API) http.HandlerFunc { return s.dagImport }),
	op(post, "/dag/export", func(_ *Server, a core.API) http.HandlerFunc { return stream(a.DagExport, typeCAR) }),

	op(post, "/pin/add", func(_ *Server, a core.API) http.HandlerFunc {
		return progress(a.PinAdd, func(q *core.PinAddRequest, f func(core.FetchProgress)) { q.Progress = f })
	}),
	op(post, "/pin/rm", func(_ *Server, a core.API) http.HandlerFunc { return call(a.PinRm) }),
	op(post, "/pin/ls", func(_ *Server, a core.API) http.HandlerFunc { return call(a.PinLs) }),
	op(post, "/repo/gc", func(_ *Server, a core.API) http.HandlerFunc { return call0(a.GC) }),
	op(post, "/repo/verify", func(_ *Server, a core.API) http.HandlerFunc { return call0(a.RepoVerify) }),
	op(get, "/repo/stat", func(_ *Server, a core.API) http.HandlerFunc { return read(a.RepoStat) }),

	op(post, "/site/publish", func(s *Server, _ core.API) http.HandlerFunc { return s.publish }),
	op(post, "/site/history", func(_ *Server, a core.API) http.HandlerFunc { return call(a.History) }),
	op(post, "/site/history/export", func(_ *Server, a core.API) http.HandlerFunc { return stream(a.HistoryExport, typeCAR) }),
	op(post, "/site/history/import", func(s *Server, _ core.API) http.HandlerFunc { return s.historyImport }),
	op(post, "/site/rollback", func(_ *Server, a core.API) http.HandlerFunc { return call(a.Rollback) }),

	op(post, "/name/publish", func(_ *Server, a core.API) http.HandlerFunc { return call(a.NamePublish) }),
	op(post, "/name/resolve", func(_ *Server, a core.API) http.HandlerFunc { return call(a.NameResolve) }),
	op(post, "/routing/put", func(_ *Server, a core.API) http.HandlerFunc { return call(a.RoutingPut) }),
	op(post, "/routing/get", func(_ *Server, a core.API) http.HandlerFunc { return rawOut(a.RoutingGet, typeRecord) }),

	op(get, "/key/ls", func(_ *Server, a core.API) http.HandlerFunc { return read(a.KeyLs) }),
	op(post, "/key/gen", func(_ *Server, a core.API) http.HandlerFunc { return call(a.KeyGen) }),
	op(post, "/key/rm", func(_ *Server, a core.API) http.HandlerFunc { return call(a.KeyRm) }),
	op(post, "/key/export", func(_ *Server, a core.API) http.HandlerFunc { return rawOut(a.KeyExport, typeBytes) }),
	op(post, "/key/import", func(_ *Server, a core.API) http.HandlerFunc { return call(a.KeyImport) }),

	op(get, "/follow/ls", func(_ *Server, a core.API) http.HandlerFunc { return read(a.FollowLs) }),
	op(post, "/follow/add", func(_ *Server, a core.API) http.HandlerFunc { return call(a.Follow) }),
	op(post, "/follow/rm", func(_ *Server, a core.API) http.HandlerFunc { return call(a.Unfollow) }),

	op(get, "/pin/remote/service/ls", func(_ *Server, a core.API) http.HandlerFunc { return read(a.RemoteServiceLs) }),
	op(post, "/pin/remote/service/add", func(_ *Server, a core.API) http.HandlerFunc { return call(a.RemoteServiceAdd) }),
	op(post, "/pin/remote/service/rm", func(_ *Server, a core.API) http.HandlerFunc { return callNoResult(a.RemoteServiceRm) }),
	op(post, "/pin/remote/add", func(_ *Server, a core.API) http.HandlerFunc {
		return progress(a.RemotePinAdd, func(q *core.RemotePinAddRequest, f func(core.RemotePin)) { q.Progress = f })
	}),
	op(post, "/pin/remote/ls", func(_ *Server, a core.API) http.HandlerFunc { return call(a.RemotePinLs) }),
	op(post, "/pin/remote/rm", func(_ *Server, a core.API) http.HandlerFunc { return callNoResult(a.RemotePinRm) }),
}

func serveSpec(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", typeYAML)
	_, _ = w.Write(openapiYAML)
}

// decodeJSON reads a JSON request body into v. An empty body leaves v as it
// is (operations without arguments); anything but application/json is
// refused, because a page can POST text/plain or a form without a preflight.
func decodeJSON(r *http.Request, v any) error {
	if err := needType(r, typeJSON); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxJSONBody))
	if err != nil {
		return core.Errorf(core.CodeInvalid, "api: read request: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return core.Errorf(core.CodeInvalid, "api: request body: %w", err)
	}
	if dec.More() {
		return core.Errorf(core.CodeInvalid, "api: request body: more than one JSON value")
	}
	return nil
}

// needType refuses a body of another media type than want.
func needType(r *http.Request, want string) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != want {
		return core.Errorf(core.CodeInvalid, "api: %s %s takes %s, not %q", r.Method, r.URL.Path, want, r.Header.Get("Content-Type"))
	}
	return nil
}

// read serves an operation without arguments.
func read[Res any](f func(context.Context) (Res, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		res, err := f(r.Context())
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

// call0 serves a POST operation without arguments (its body is empty or {}).
func call0[Res any](f func(context.Context) (Res, error)) http.HandlerFunc {
	return call(func(ctx context.Context, _ struct{}) (Res, error) { return f(ctx) })
}

// call serves a JSON-in, JSON-out operation.
func call[Req, Res any](f func(context.Context, Req) (Res, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
		res, err := f(r.Context(), req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, res)
	}
}

// callNoResult serves a JSON-in operation that returns nothing (204).
func callNoResult[Req any](f func(context.Context, Req) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
		if err := f(r.Context(), req); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// rawOut serves a JSON-in operation whose result is a few raw bytes.
func rawOut[Req any](f func(context.Context, Req) ([]byte, error), contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
		b, err := f(r.Context(), req)
		if err != nil {
			writeError(w, err)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(b)
	}
}

// progressEvery bounds how often progress lines are sent: a fetch reports
// every block, a person reads ten updates a second at most.
const progressEvery = 100 * time.Millisecond

// ndjson writes an application/x-ndjson answer. The header goes out with
// the first line, so an operation that fails before reporting any progress
// still answers with its error's status.
type ndjson struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	mu      sync.Mutex
	started bool
	last    time.Time
}

func (n *ndjson) line(ev event) {
	b, err := json.Marshal(ev)
	if err != nil {
		b, _ = json.Marshal(event{Error: &wireError{core.CodeInternal, "api: encode event: " + err.Error()}})
	}
	if !n.started {
		n.started = true
		n.w.Header().Set("Content-Type", typeNDJSON)
		n.w.Header().Set("X-Content-Type-Options", "nosniff")
		n.w.WriteHeader(http.StatusOK)
	}
	_, _ = n.w.Write(append(b, '\n'))
	_ = n.rc.Flush()
}

// progress serves an operation that reports progress while it runs.
func progress[Req, Res, Ev any](f func(context.Context, Req) (Res, error), set func(*Req, func(Ev))) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
		out := &ndjson{w: w, rc: http.NewResponseController(w)}
		set(&req, func(ev Ev) {
			out.mu.Lock()
			defer out.mu.Unlock()
			if time.Since(out.last) < progressEvery {
				return
			}
			out.last = time.Now()
			if b, err := json.Marshal(ev); err == nil {
				out.line(event{Progress: b})
			}
		})
		res, err := f(r.Context(), req)
		out.mu.Lock()
		defer out.mu.Unlock()
		switch {
		case err != nil && !out.started:
			writeError(w, err)
		case err != nil:
			we := toWire(err)
			out.line(event{Error: &we})
		default:
			b, merr := json.Marshal(res)
			if merr != nil {
				we := toWire(merr)
				out.line(event{Error: &we})
				return
			}
			out.line(event{Result: b})
		}
	}
}

// stream serves an operation whose result is a byte stream. An error after
// the first byte goes into the Island-Error trailer: the status is gone.
func stream[Req any](f func(context.Context, Req) (io.ReadCloser, error), contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
		rc, err := f(r.Context(), req)
		if err != nil {
			writeError(w, err)
			return
		}
		defer rc.Close()
		w.Header().Set("Content-Type", contentType)
		copyWithTrailer(w, rc)
	}
}

// copyWithTrailer sends src as the body and reports a read error in the
// trailer.
func copyWithTrailer(w http.ResponseWriter, src io.Reader) {
	w.Header().Set("Trailer", trailerError)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	var err error
	if wt, ok := src.(io.WriterTo); ok {
		_, err = wt.WriteTo(errWriter{w}) // a file's blocks as they are
	} else {
		_, err = io.CopyBuffer(errWriter{w}, src, make([]byte, copyBufferSize))
	}
	var werr *writeFailed
	if err != nil && !errors.As(err, &werr) {
		b, _ := json.Marshal(toWire(err))
		w.Header().Set(trailerError, string(b))
	}
}

// writeFailed marks an error writing to the client: it has gone, there is
// no one to tell.
type writeFailed struct{ error }

// partDirectory is the media type boxo/files' reader takes for "the parts
// are a directory"; the wire type stays multipart/mixed.
const partDirectory = "multipart/form-data"

// multipartDir reads a multipart/mixed body of files as a streamed directory.
func multipartDir(r *http.Request) (files.Directory, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != typeMultipart || params["boundary"] == "" {
		return nil, core.Errorf(core.CodeInvalid, "api: %s %s takes %s with a boundary, not %q", r.Method, r.URL.Path, typeMultipart, r.Header.Get("Content-Type"))
	}
	d, err := files.NewFileFromPartReader(multipart.NewReader(r.Body, params["boundary"]), partDirectory)
	if err != nil {
		return nil, core.Errorf(core.CodeInvalid, "api: request body: %w", err)
	}
	return d, nil
}

func queryBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, core.Errorf(core.CodeInvalid, "api: query parameter %s=%q: want true or false", name, v)
	}
	return b, nil
}

func (s *Server) add(w http.ResponseWriter, r *http.Request) {
	d, err := multipartDir(r)
	if err != nil {
		writeError(w, err)
		return
	}
	req := core.AddRequest{Files: d}
	if req.Hidden, err = queryBool(r, "hidden"); err != nil {
		writeError(w, err)
		return
	}
	res, err := s.cfg.API.Add(r.Context(), req)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request) {
	d, err := multipartDir(r)
	if err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	req := core.PublishRequest{Key: q.Get("key"), Site: d, IfCurrent: q.Get("ifCurrent"), Base: q.Get("base"), Remove: q["remove"]}
	if req.IfCurrent != "" {
		req.Site = nil // the client sends an empty folder along
	}
	if req.Check, err = queryBool(r, "check"); err != nil {
		writeError(w, err)
		return
	}
	if v := q.Get("checkTimeout"); v != "" {
		if err := req.CheckTimeout.UnmarshalText([]byte(v)); err != nil || req.CheckTimeout < 0 {
			writeError(w, core.Errorf(core.CodeInvalid, "api: query parameter checkTimeout=%q: want a duration such as 20s", v))
			return
		}
	}
	if v := q.Get("lifetime"); v != "" {
		if err := req.Lifetime.UnmarshalText([]byte(v)); err != nil || req.Lifetime < 0 {
			writeError(w, core.Errorf(core.CodeInvalid, "api: query parameter lifetime=%q: want a duration such as 840h", v))
			return
		}
	}
	res, err := s.cfg.API.Publish(r.Context(), req)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) dagImport(w http.ResponseWriter, r *http.Request) {
	if err := needType(r, typeCAR); err != nil {
		writeError(w, err)
		return
	}
	req := core.DagImportRequest{CAR: r.Body}
	var err error
	if req.NoPin, err = queryBool(r, "noPin"); err != nil {
		writeError(w, err)
		return
	}
	res, err := s.cfg.API.DagImport(r.Context(), req)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) historyImport(w http.ResponseWriter, r *http.Request) {
	if err := needType(r, typeCAR); err != nil {
		writeError(w, err)
		return
	}
	res, err := s.cfg.API.HistoryImport(r.Context(), core.HistoryImportRequest{CAR: r.Body})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// get sends the tree at a path as a multipart/mixed stream holding one
// entry named by its CID, the form boxo/files reads back.
func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	var req core.PathRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	t, err := s.cfg.API.Get(r.Context(), req)
	if err != nil {
		writeError(w, err)
		return
	}
	defer t.Node.Close()
	if f, ok := t.Node.(files.File); ok && acceptsBytes(r) {
		// A file as its bytes: no multipart framing for the client to scan
		// every byte of for a boundary.
		w.Header().Set("Content-Type", typeBytes)
		w.Header().Set(headerCID, t.CID)
		copyWithTrailer(w, f)
		return
	}
	mfr := files.NewMultiFileReader(files.NewSliceDirectory([]files.DirEntry{files.FileEntry(t.CID, t.Node)}), false, false)
	w.Header().Set("Content-Type", typeMultipart+"; boundary="+mfr.Boundary())
	w.Header().Set(headerCID, t.CID)
	copyWithTrailer(w, mfr)
}

// acceptsBytes says whether a get's client takes a file as its bytes
// (Accept lists application/octet-stream); else it gets multipart/mixed.
func acceptsBytes(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			if mt, _, err := mime.ParseMediaType(part); err == nil && mt == typeBytes {
				return true
			}
		}
	}
	return false
}

// errWriter marks write errors, so copyWithTrailer can tell a client that
// left from a tree that could not be read.
type errWriter struct{ http.ResponseWriter }

func (e errWriter) Write(p []byte) (int, error) {
	n, err := e.ResponseWriter.Write(p)
	if err != nil {
		return n, &writeFailed{err}
	}
	return n, nil
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (e errWriter) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// copyBufferSize is the unit streamed answers (a file, a CAR) are copied in
// on both ends of the API: with io.Copy's 32 KiB, a 256 MiB `get` cost
// tens of thousands of syscalls in the daemon and in the command.
const copyBufferSize = 1 << 20
