package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/islandsite/island/internal/core"
)

// Content types the API reads and writes. None of the request types is one
// a page can send cross-origin without a preflight (text/plain, forms).
const (
	typeJSON      = "application/json"
	typeNDJSON    = "application/x-ndjson"
	typeMultipart = "multipart/mixed"
	typeCAR       = "application/vnd.ipld.car"
	typeBytes     = "application/octet-stream"
	typeRecord    = "application/vnd.ipfs.ipns-record"
	typeYAML      = "application/yaml"
	typeHTML      = "text/html"
)

// Headers and trailers of the API.
const (
	// trailerError carries the error of a byte stream that failed after
	// its first byte, as a JSON wireError.
	trailerError = "Island-Error"
	// headerCID names the CID a get response holds.
	headerCID = "Island-Cid"
)

// maxJSONBody bounds a JSON request: arguments, not data (a routing put's
// record, the largest, is at most 10 KiB).
const maxJSONBody = 1 << 20

// wireError is an error as the API sends it.
type wireError struct {
	Code    core.Code `json:"code"`
	Message string    `json:"message"`
}

type errorBody struct {
	Error wireError `json:"error"`
}

// event is one line of an application/x-ndjson answer: progress, then one
// result or error.
type event struct {
	Progress json.RawMessage `json:"progress,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	Error    *wireError      `json:"error,omitempty"`
}

// httpStatus is the one place that maps error codes to HTTP statuses.
func httpStatus(c core.Code) int {
	switch c {
	case core.CodeInvalid:
		return http.StatusBadRequest
	case core.CodeNotFound:
		return http.StatusNotFound
	case core.CodeConflict:
		return http.StatusConflict
	case core.CodeRefused:
		return http.StatusUnprocessableEntity
	case core.CodeUnavailable:
		return http.StatusServiceUnavailable
	case core.CodeUnauthorized:
		return http.StatusUnauthorized
	case core.CodeRepoFull:
		return http.StatusInsufficientStorage
	default:
		return http.StatusInternalServerError
	}
}

// codeOfStatus is what a client makes of an error status that came without
// an error body (a proxy, or a server that is not island's).
func codeOfStatus(status int) core.Code {
	switch status {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge:
		return core.CodeInvalid
	case http.StatusNotFound:
		return core.CodeNotFound
	case http.StatusConflict:
		return core.CodeConflict
	case http.StatusUnprocessableEntity:
		return core.CodeRefused
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		return core.CodeUnavailable
	case http.StatusUnauthorized, http.StatusForbidden:
		return core.CodeUnauthorized
	case http.StatusInsufficientStorage:
		return core.CodeRepoFull
	default:
		return core.CodeInternal
	}
}

func toWire(err error) wireError {
	return wireError{Code: core.ErrorCode(err), Message: err.Error()}
}

func (w wireError) err() error {
	code := w.Code
	if code == "" {
		code = core.CodeInternal
	}
	return &core.Error{Code: code, Message: w.Message}
}

// writeError answers with err's status and JSON form.
func writeError(w http.ResponseWriter, err error) {
	we := toWire(err)
	writeJSON(w, httpStatus(we.Code), errorBody{we})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{wireError{core.CodeInternal, "api: encode response: " + err.Error()}})
	}
	w.Header().Set("Content-Type", typeJSON)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// readError turns an error answer into the error the server reported.
func readError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxJSONBody))
	var eb errorBody
	if json.Unmarshal(b, &eb) == nil && eb.Error.Message != "" {
		return eb.Error.err()
	}
	msg := strings.TrimSpace(string(b))
	if msg == "" {
		msg = resp.Status
	}
	return &core.Error{Code: codeOfStatus(resp.StatusCode), Message: fmt.Sprintf("api: the daemon answered %s: %s", resp.Status, msg)}
}

// trailerReader reads a streamed body and, at its end, reports the error
// the server put in the Island-Error trailer instead of io.EOF.
type trailerReader struct {
	resp *http.Response
}

func (t trailerReader) Read(p []byte) (int, error) {
	n, err := t.resp.Body.Read(p)
	if errors.Is(err, io.EOF) {
		if s := t.resp.Trailer.Get(trailerError); s != "" {
			var we wireError
			if json.Unmarshal([]byte(s), &we) != nil {
				we = wireError{core.CodeInternal, s}
			}
			return n, we.err()
		}
	}
	return n, err
}

func (t trailerReader) Close() error { return t.resp.Body.Close() }
