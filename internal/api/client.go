package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the file in the repo holding the running daemon's API URL.
const FileName = "api"

// ErrNoDaemon means no daemon answers for the repo: the caller opens it itself.
var ErrNoDaemon = errors.New("no daemon is running for this repo")

// Client sends command lines to a running daemon.
type Client struct {
	URL  string
	HTTP *http.Client
}

// Dial reads $REPO/api. A missing file means no daemon; a file whose daemon
// does not answer is a daemon that died without cleaning up, also no daemon.
func Dial(ctx context.Context, repoPath string) (*Client, error) {
	b, err := os.ReadFile(filepath.Join(repoPath, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoDaemon
	}
	if err != nil {
		return nil, fmt.Errorf("api: read %s: %w", filepath.Join(repoPath, FileName), err)
	}
	url := strings.TrimSpace(string(b))
	if !strings.HasPrefix(url, "http://") {
		return nil, fmt.Errorf("api: %s holds %q, not an http:// URL: remove the file if no daemon runs", filepath.Join(repoPath, FileName), url)
	}
	c := &Client{URL: url, HTTP: &http.Client{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v0/run", nil)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, ErrNoDaemon
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		return nil, fmt.Errorf("api: %s answered %s, not like an island daemon: remove %s if no daemon runs", url, resp.Status, filepath.Join(repoPath, FileName))
	}
	return c, nil
}

// Run sends one command line and copies its output as it arrives.
func (c *Client) Run(ctx context.Context, req RunRequest, stdout, stderr io.Writer) (int, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return 0, fmt.Errorf("api: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+"/api/v0/run", bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("api: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(hreq)
	if err != nil {
		return 0, fmt.Errorf("api: send command to the daemon at %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, fmt.Errorf("api: daemon at %s: %s", c.URL, strings.TrimSpace(string(msg)))
	}
	code, err := readFrames(resp.Body, stdout, stderr)
	if err != nil {
		return 0, fmt.Errorf("api: daemon at %s: %w", c.URL, err)
	}
	return code, nil
}
