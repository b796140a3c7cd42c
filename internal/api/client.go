package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipns"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/repo"
)

// ErrNoDaemon means no daemon answers for the repo: the caller opens it.
var ErrNoDaemon = errors.New("api: no daemon is running for this repo")

// Client is core.API over HTTP: every call goes to the daemon at URL.
type Client struct {
	url   string
	token string
	http  *http.Client
}

var _ core.API = (*Client)(nil)

// NewClient returns a client of the API at baseURL (http://host:port),
// sending token as a bearer token when it is not empty.
func NewClient(baseURL, token string) *Client {
	return &Client{url: strings.TrimSuffix(baseURL, "/"), token: token, http: &http.Client{}}
}

// URL is the daemon's base URL.
func (c *Client) URL() string { return c.url }

// dialTimeout bounds the check that a daemon answers: a live one answers
// /id from memory at once.
const dialTimeout = 5 * time.Second

// Dial returns a client of the daemon holding the repo at dir. It reads
// $REPO/api (and $REPO/api-token when the repo has one) and, before sending
// anything else, checks that the daemon answering is this repo's own: a
// daemon killed without cleaning up leaves the file behind, and another
// program (another repo's daemon) may have its port since. No file, nothing
// answering, or a stranger answering is ErrNoDaemon.
func Dial(ctx context.Context, dir string) (*Client, error) {
	apiFile := filepath.Join(dir, FileName)
	b, err := os.ReadFile(apiFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoDaemon
	}
	if err != nil {
		return nil, fmt.Errorf("api: read %s: %w", apiFile, err)
	}
	base := strings.TrimSpace(string(b))
	if u, err := url.Parse(base); err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("api: %s holds %q, not an http:// URL: remove the file if no daemon runs", apiFile, base)
	}
	want, err := repo.PeerIDOf(dir)
	if err != nil {
		// No repo config next to the file: nobody can be its daemon.
		return nil, ErrNoDaemon
	}
	token, err := ReadToken(dir)
	if err != nil {
		return nil, err
	}
	c := NewClient(base, token)
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	id, err := c.ID(dctx)
	switch {
	case core.ErrorCode(err) == core.CodeUnauthorized:
		return nil, fmt.Errorf("api: the daemon at %s refused this repo's API token (%s): %w", base, filepath.Join(dir, TokenFile), err)
	case err != nil, id.ID != want:
		// Dead, or someone else: the file is stale.
		return nil, ErrNoDaemon
	}
	return c, nil
}

// ReadToken reads the repo's API token, "" when it has none. The token
// lets its holder act as the repo's owner, so a file others can read is
// refused rather than used.
func ReadToken(dir string) (string, error) {
	p := filepath.Join(dir, TokenFile)
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("api: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("api: %s has mode %04o, open to group or others: run chmod 600 %s", p, perm, p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("api: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("api: %s is empty: remove it, or put the daemon's token in it", p)
	}
	return tok, nil
}

// request sends one request and returns a 2xx response, or the error the
// daemon answered with. A daemon that cannot be reached is CodeUnavailable.
func (c *Client) request(ctx context.Context, method, path, contentType string, body io.Reader, query url.Values) (*http.Response, error) {
	return c.requestAccepting(ctx, method, path, contentType, "", body, query)
}

// requestAccepting is request with an Accept header (none if accept is "").
func (c *Client) requestAccepting(ctx context.Context, method, path, contentType, accept string, body io.Reader, query url.Values) (*http.Response, error) {
	u := c.url + Prefix + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &core.Error{Code: core.CodeUnavailable, Message: fmt.Sprintf("api: cannot reach the daemon at %s: %v", c.url, err), Err: err}
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	return resp, nil
}

func jsonBody(v any) (io.Reader, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("api: encode request: %w", err)
	}
	return bytes.NewReader(b), nil
}

func decodeResponse(resp *http.Response, out any) error {
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("api: decode the daemon's answer: %w", err)
	}
	return nil
}

func getJSON[Res any](ctx context.Context, c *Client, path string) (Res, error) {
	var res Res
	resp, err := c.request(ctx, http.MethodGet, path, "", nil, nil)
	if err != nil {
		return res, err
	}
	return res, decodeResponse(resp, &res)
}

func postJSON[Req, Res any](ctx context.Context, c *Client, path string, req Req) (Res, error) {
	var res Res
	body, err := jsonBody(req)
	if err != nil {
		return res, err
	}
	resp, err := c.request(ctx, http.MethodPost, path, typeJSON, body, nil)
	if err != nil {
		return res, err
	}
	return res, decodeResponse(resp, &res)
}

// postProgress calls an operation that answers with progress lines and one
// result or error line.
func postProgress[Req, Res, Ev any](ctx context.Context, c *Client, path string, req Req, progress func(Ev)) (Res, error) {
	var res Res
	body, err := jsonBody(req)
	if err != nil {
		return res, err
	}
	resp, err := c.request(ctx, http.MethodPost, path, typeJSON, body, nil)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxJSONBody)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return res, fmt.Errorf("api: decode the daemon's answer: %w", err)
		}
		switch {
		case ev.Error != nil:
			return res, ev.Error.err()
		case ev.Result != nil:
			if err := json.Unmarshal(ev.Result, &res); err != nil {
				return res, fmt.Errorf("api: decode the daemon's answer: %w", err)
			}
			return res, nil
		case ev.Progress != nil && progress != nil:
			var p Ev
			if err := json.Unmarshal(ev.Progress, &p); err == nil {
				progress(p)
			}
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, &core.Error{Code: core.CodeUnavailable, Message: fmt.Sprintf("api: the daemon at %s stopped answering before %s finished", c.url, path)}
}

// postStream calls an operation that answers with a byte stream; its error
// after the first byte comes from the Island-Error trailer.
func (c *Client) postStream(ctx context.Context, path string, req any) (*http.Response, io.ReadCloser, error) {
	body, err := jsonBody(req)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.request(ctx, http.MethodPost, path, typeJSON, body, nil)
	if err != nil {
		return nil, nil, err
	}
	return resp, trailerReader{resp}, nil
}

// postFiles sends a directory of files as multipart/mixed, as boxo/files
// writes it (Kubo's form, but never a form: multipart/form-data is a type
// web pages may post cross-origin without asking).
func postFiles[Res any](ctx context.Context, c *Client, path string, dir files.Directory, query url.Values) (Res, error) {
	var res Res
	mfr := files.NewMultiFileReader(dir, false, false)
	resp, err := c.request(ctx, http.MethodPost, path, typeMultipart+"; boundary="+mfr.Boundary(), mfr, query)
	if err != nil {
		return res, err
	}
	return res, decodeResponse(resp, &res)
}

// Add streams req.Files to the daemon; req.Progress counts what is sent.
func (c *Client) Add(ctx context.Context, req core.AddRequest) (core.Added, error) {
	q := url.Values{}
	if req.Hidden {
		q.Set("hidden", "true")
	}
	d := req.Files
	if req.Progress != nil {
		d = progressDir{d, req.Progress}
	}
	return postFiles[core.Added](ctx, c, "/add", d, q)
}

func (c *Client) Cat(ctx context.Context, req core.PathRequest) (io.ReadCloser, error) {
	_, rc, err := c.postStream(ctx, "/cat", req)
	return rc, err
}

func (c *Client) Ls(ctx context.Context, req core.PathRequest) ([]core.LsEntry, error) {
	return postJSON[core.PathRequest, []core.LsEntry](ctx, c, "/ls", req)
}

func (c *Client) Fetch(ctx context.Context, req core.FetchRequest) (core.Fetched, error) {
	return postProgress[core.FetchRequest, core.Fetched](ctx, c, "/fetch", req, req.Progress)
}

// Get reads the tree the daemon streams; closing its Node ends the stream.
// A file comes as its bytes, anything else as multipart/mixed.
func (c *Client) Get(ctx context.Context, req core.PathRequest) (core.Tree, error) {
	reqBody, err := jsonBody(req)
	if err != nil {
		return core.Tree{}, err
	}
	resp, err := c.requestAccepting(ctx, http.MethodPost, "/get", typeJSON, typeBytes+", "+typeMultipart, reqBody, nil)
	if err != nil {
		return core.Tree{}, err
	}
	body := trailerReader{resp}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err == nil && mt == typeBytes {
		return core.Tree{CID: resp.Header.Get(headerCID), Node: bytesFile{files.NewReaderFile(body), body}}, nil
	}
	if err != nil || mt != typeMultipart {
		body.Close()
		return core.Tree{}, fmt.Errorf("api: the daemon answered get with %q, not %s", resp.Header.Get("Content-Type"), typeMultipart)
	}
	// The multipart reader reads 4 KiB at a time whatever it is given: a
	// larger buffer under it turns a syscall per 4 KiB into a copy.
	dir, err := files.NewFileFromPartReader(multipart.NewReader(bufio.NewReaderSize(body, copyBufferSize), params["boundary"]), partDirectory)
	if err != nil {
		body.Close()
		return core.Tree{}, fmt.Errorf("api: read the daemon's answer: %w", err)
	}
	it := dir.Entries()
	if !it.Next() {
		body.Close()
		if err := it.Err(); err != nil {
			return core.Tree{}, fmt.Errorf("api: read the daemon's answer: %w", err)
		}
		return core.Tree{}, errors.New("api: the daemon's answer to get holds nothing")
	}
	return core.Tree{CID: resp.Header.Get(headerCID), Node: closing(it.Node(), body)}, nil
}

func (c *Client) DagImport(ctx context.Context, req core.DagImportRequest) (core.DagImported, error) {
	var res core.DagImported
	q := url.Values{}
	if req.NoPin {
		q.Set("noPin", "true")
	}
	resp, err := c.request(ctx, http.MethodPost, "/dag/import", typeCAR, req.CAR, q)
	if err != nil {
		return res, err
	}
	return res, decodeResponse(resp, &res)
}

func (c *Client) HistoryExport(ctx context.Context, req core.HistoryRequest) (io.ReadCloser, error) {
	_, rc, err := c.postStream(ctx, "/site/history/export", req)
	return rc, err
}

func (c *Client) HistoryImport(ctx context.Context, req core.HistoryImportRequest) (core.HistoryImported, error) {
	var res core.HistoryImported
	resp, err := c.request(ctx, http.MethodPost, "/site/history/import", typeCAR, req.CAR, nil)
	if err != nil {
		return res, err
	}
	return res, decodeResponse(resp, &res)
}

func (c *Client) DagExport(ctx context.Context, req core.PathRequest) (io.ReadCloser, error) {
	_, rc, err := c.postStream(ctx, "/dag/export", req)
	return rc, err
}

func (c *Client) PinAdd(ctx context.Context, req core.PinAddRequest) (core.PinAdded, error) {
	return postProgress[core.PinAddRequest, core.PinAdded](ctx, c, "/pin/add", req, req.Progress)
}

func (c *Client) PinRm(ctx context.Context, req core.PathRequest) (core.PinRemoved, error) {
	return postJSON[core.PathRequest, core.PinRemoved](ctx, c, "/pin/rm", req)
}

func (c *Client) PinLs(ctx context.Context, req core.PinLsRequest) ([]core.Pin, error) {
	return postJSON[core.PinLsRequest, []core.Pin](ctx, c, "/pin/ls", req)
}

func (c *Client) GC(ctx context.Context) (core.GCResult, error) {
	return postJSON[struct{}, core.GCResult](ctx, c, "/repo/gc", struct{}{})
}

func (c *Client) RepoStat(ctx context.Context) (core.RepoStat, error) {
	return getJSON[core.RepoStat](ctx, c, "/repo/stat")
}

func (c *Client) RepoVerify(ctx context.Context) (core.VerifyReport, error) {
	return postJSON[struct{}, core.VerifyReport](ctx, c, "/repo/verify", struct{}{})
}

// Publish streams the rendered site to the daemon.
func (c *Client) Publish(ctx context.Context, req core.PublishRequest) (core.Published, error) {
	q := url.Values{}
	if req.Key != "" {
		q.Set("key", req.Key)
	}
	if req.Check {
		q.Set("check", "true")
	}
	if req.CheckTimeout > 0 {
		q.Set("checkTimeout", time.Duration(req.CheckTimeout).String())
	}
	if req.Lifetime != 0 {
		q.Set("lifetime", req.Lifetime.String())
	}
	if req.Base != "" {
		q.Set("base", req.Base)
	}
	for _, r := range req.Remove {
		q.Add("remove", r)
	}
	site := req.Site
	if req.IfCurrent != "" {
		q.Set("ifCurrent", req.IfCurrent)
		if site == nil {
			site = files.NewMapDirectory(nil)
		}
	}
	return postFiles[core.Published](ctx, c, "/site/publish", site, q)
}

func (c *Client) History(ctx context.Context, req core.HistoryRequest) (core.History, error) {
	return postJSON[core.HistoryRequest, core.History](ctx, c, "/site/history", req)
}

func (c *Client) Rollback(ctx context.Context, req core.RollbackRequest) (core.RolledBack, error) {
	return postJSON[core.RollbackRequest, core.RolledBack](ctx, c, "/site/rollback", req)
}

func (c *Client) NamePublish(ctx context.Context, req core.NamePublishRequest) (core.NamePublished, error) {
	return postJSON[core.NamePublishRequest, core.NamePublished](ctx, c, "/name/publish", req)
}

func (c *Client) NameResolve(ctx context.Context, req core.NameResolveRequest) (core.Resolved, error) {
	return postJSON[core.NameResolveRequest, core.Resolved](ctx, c, "/name/resolve", req)
}

func (c *Client) RoutingPut(ctx context.Context, req core.RoutingPutRequest) (core.RecordStored, error) {
	return postJSON[core.RoutingPutRequest, core.RecordStored](ctx, c, "/routing/put", req)
}

func (c *Client) RoutingGet(ctx context.Context, req core.RoutingGetRequest) ([]byte, error) {
	// A record is at most 10 KiB: a longer answer is not one.
	return postSmall(ctx, c, "/routing/get", req, ipns.MaxRecordSize, "an IPNS record")
}

// postSmall posts req as JSON and reads an answer of a few raw bytes, at
// most limit of them.
func postSmall[Req any](ctx context.Context, c *Client, path string, req Req, limit int, what string) ([]byte, error) {
	body, err := jsonBody(req)
	if err != nil {
		return nil, err
	}
	resp, err := c.request(ctx, http.MethodPost, path, typeJSON, body, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("api: read the daemon's answer: %w", err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("api: the daemon's answer to %s is longer than %s may be", path, what)
	}
	return b, nil
}

func (c *Client) KeyExport(ctx context.Context, req core.KeyRequest) ([]byte, error) {
	return postSmall(ctx, c, "/key/export", req, maxKeyBytes, "a private key")
}

func (c *Client) KeyImport(ctx context.Context, req core.KeyImportRequest) (core.Key, error) {
	return postJSON[core.KeyImportRequest, core.Key](ctx, c, "/key/import", req)
}

// maxKeyBytes bounds an exported private key (RSA-4096 is ~2.4 KiB).
const maxKeyBytes = 16 << 10

func (c *Client) KeyGen(ctx context.Context, req core.KeyRequest) (core.Key, error) {
	return postJSON[core.KeyRequest, core.Key](ctx, c, "/key/gen", req)
}

func (c *Client) KeyLs(ctx context.Context) ([]core.Key, error) {
	return getJSON[[]core.Key](ctx, c, "/key/ls")
}

func (c *Client) KeyRm(ctx context.Context, req core.KeyRequest) (core.Key, error) {
	return postJSON[core.KeyRequest, core.Key](ctx, c, "/key/rm", req)
}

func (c *Client) Follow(ctx context.Context, req core.FollowRequest) (core.Followed, error) {
	return postJSON[core.FollowRequest, core.Followed](ctx, c, "/follow/add", req)
}

func (c *Client) FollowLs(ctx context.Context) ([]core.Follow, error) {
	return getJSON[[]core.Follow](ctx, c, "/follow/ls")
}

func (c *Client) Unfollow(ctx context.Context, req core.FollowRequest) (core.Unfollowed, error) {
	return postJSON[core.FollowRequest, core.Unfollowed](ctx, c, "/follow/rm", req)
}

func (c *Client) RemoteServiceAdd(ctx context.Context, req core.RemoteService) (core.RemoteServiceAdded, error) {
	return postJSON[core.RemoteService, core.RemoteServiceAdded](ctx, c, "/pin/remote/service/add", req)
}

func (c *Client) RemoteServiceLs(ctx context.Context) ([]core.RemoteService, error) {
	return getJSON[[]core.RemoteService](ctx, c, "/pin/remote/service/ls")
}

func (c *Client) RemoteServiceRm(ctx context.Context, req core.RemoteServiceRmRequest) error {
	_, err := postJSON[core.RemoteServiceRmRequest, struct{}](ctx, c, "/pin/remote/service/rm", req)
	return err
}

func (c *Client) RemotePinAdd(ctx context.Context, req core.RemotePinAddRequest) (core.RemotePinAdded, error) {
	return postProgress[core.RemotePinAddRequest, core.RemotePinAdded](ctx, c, "/pin/remote/add", req, req.Progress)
}

func (c *Client) RemotePinLs(ctx context.Context, req core.RemotePinLsRequest) ([]core.RemotePin, error) {
	return postJSON[core.RemotePinLsRequest, []core.RemotePin](ctx, c, "/pin/remote/ls", req)
}

func (c *Client) RemotePinRm(ctx context.Context, req core.RemotePinRmRequest) error {
	_, err := postJSON[core.RemotePinRmRequest, struct{}](ctx, c, "/pin/remote/rm", req)
	return err
}

func (c *Client) ID(ctx context.Context) (core.Identity, error) {
	return getJSON[core.Identity](ctx, c, "/id")
}

func (c *Client) Peers(ctx context.Context) ([]core.Peer, error) {
	return getJSON[[]core.Peer](ctx, c, "/peers")
}

func (c *Client) ProvideStat(ctx context.Context) (core.ProvideStat, error) {
	return getJSON[core.ProvideStat](ctx, c, "/provide/stat")
}

func (c *Client) Status(ctx context.Context) (core.Status, error) {
	return getJSON[core.Status](ctx, c, "/status")
}

func (c *Client) NodeStats(ctx context.Context) (core.NodeStats, error) {
	return getJSON[core.NodeStats](ctx, c, "/node/stats")
}

// progressDir reports the bytes read from the files of a directory tree, as
// the in-process importer reports the bytes it reads.
type progressDir struct {
	files.Directory
	report func(int64)
}

func (d progressDir) Entries() files.DirIterator {
	return progressIter{d.Directory.Entries(), d.report}
}

type progressIter struct {
	files.DirIterator
	report func(int64)
}

func (it progressIter) Node() files.Node {
	switch n := it.DirIterator.Node().(type) {
	case files.Directory:
		return progressDir{n, it.report}
	case *files.Symlink:
		return n
	case files.File:
		return progressFile{n, it.report}
	default:
		return n
	}
}

type progressFile struct {
	files.File
	report func(int64)
}

func (f progressFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	if n > 0 {
		f.report(int64(n))
	}
	return n, err
}

// closing makes closing a tree's root also end the response it came in. A
// symlink is whole once read, and must stay a *files.Symlink for
// files.WriteTo: the response ends at once.
func closing(n files.Node, body io.Closer) files.Node {
	switch v := n.(type) {
	case *files.Symlink:
		body.Close()
		return v
	case files.Directory:
		return closingDir{v, body}
	case files.File:
		return closingFile{v, body}
	default:
		body.Close()
		return n
	}
}

// bytesFile is a file the daemon sent as its bytes; closing it ends the
// answer.
type bytesFile struct {
	files.File
	body io.Closer
}

func (f bytesFile) Close() error { return errors.Join(f.File.Close(), f.body.Close()) }

type closingDir struct {
	files.Directory
	body io.Closer
}

func (d closingDir) Close() error { return errors.Join(d.Directory.Close(), d.body.Close()) }

type closingFile struct {
	files.File
	body io.Closer
}

func (f closingFile) Close() error { return errors.Join(f.File.Close(), f.body.Close()) }

// WriteTo copies the file in copyBufferSize pieces. The multipart reader
// hands out at most 4 KiB per read (its own buffer, whatever it is given), so
// io.Copy into an *os.File would write 4 KiB at a time: a syscall each.
func (f closingFile) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, copyBufferSize)
	var total int64
	for {
		n, rerr := io.ReadFull(f.File, buf)
		if n > 0 {
			m, err := w.Write(buf[:n])
			total += int64(m)
			if err != nil {
				return total, err
			}
		}
		switch rerr {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return total, nil
		default:
			return total, rerr
		}
	}
}
