//go:build integration

package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ipfs/boxo/ipns"
	offlinerouting "github.com/ipfs/boxo/routing/offline"
	pebble "github.com/ipfs/go-ds-pebble"
	"github.com/ipld/go-car/v2"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/stretchr/testify/require"
)

// TestConformance runs the IPFS gateway conformance suite
// (github.com/ipfs/gateway-conformance) against the gateway, loaded with
// the suite's fixtures the way `island dag import` and `island routing put`
// would load them. It needs a checkout of the suite with its binary built
// (go build ./cmd/gateway-conformance) named by ISLAND_CONFORMANCE_DIR, and
// fails on any failing subtest; ISLAND_CONFORMANCE_SKIP passes a -skip
// pattern to the suite for known gaps.
func TestConformance(t *testing.T) {
	dir := os.Getenv("ISLAND_CONFORMANCE_DIR")
	if dir == "" {
		t.Skip("set ISLAND_CONFORMANCE_DIR to a gateway-conformance checkout with its binary built to run the conformance suite")
	}
	bin := filepath.Join(dir, "gateway-conformance")
	fixtures := t.TempDir()
	out, err := exec.Command(bin, "extract-fixtures", "--dir", fixtures).CombinedOutput()
	require.NoError(t, err, "%s", out)

	store, bserv := newTestStore(t)
	ds, err := pebble.NewDatastore(filepath.Join(t.TempDir(), "records"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ds.Close()) })
	router := offlinerouting.NewOfflineRouter(ds, record.NamespacedValidator{"ipns": ipns.Validator{}, "pk": record.PublicKeyValidator{}})
	entries, err := os.ReadDir(fixtures)
	require.NoError(t, err)
	var cars, records int
	for _, e := range entries {
		p := filepath.Join(fixtures, e.Name())
		switch {
		case strings.HasSuffix(e.Name(), ".car"):
			f, err := os.Open(p)
			require.NoError(t, err)
			br, err := car.NewBlockReader(f)
			require.NoError(t, err, e.Name())
			for {
				blk, err := br.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(t, err, e.Name())
				require.NoError(t, store.blocks.Put(context.Background(), blk))
			}
			f.Close()
			cars++
		case strings.HasSuffix(e.Name(), ".ipns-record"):
			name, err := ipns.NameFromString(strings.SplitN(strings.TrimSuffix(e.Name(), ".ipns-record"), "_", 2)[0])
			require.NoError(t, err, e.Name())
			rec, err := os.ReadFile(p)
			require.NoError(t, err)
			// Some fixtures are broken on purpose; routing refuses them as
			// `ipfs routing put` does.
			if err := router.PutValue(context.Background(), string(name.RoutingKey()), rec); err != nil {
				t.Logf("record %s refused: %v", e.Name(), err)
				continue
			}
			records++
		}
	}
	t.Logf("loaded %d CAR files and %d IPNS records", cars, records)
	nsMap, err := os.ReadFile(filepath.Join(fixtures, "dnslinks.IPFS_NS_MAP"))
	require.NoError(t, err)
	t.Setenv("IPFS_NS_MAP", strings.TrimSpace(string(nsMap)))

	cfg := DefaultConfig()
	cfg.BlockService = bserv
	cfg.Routing = router
	cfg.SubdomainHosts = []string{"example.com"}
	g := startGateway(t, cfg)
	port := g.URL()[strings.LastIndex(g.URL(), ":")+1:]

	report := filepath.Join(t.TempDir(), "report.json")
	args := []string{"test", "--gateway-url", g.URL(), "--subdomain-url", "http://example.com:" + port, "--json", report, "--", "-timeout", "20m"}
	if skip := os.Getenv("ISLAND_CONFORMANCE_SKIP"); skip != "" {
		args = append(args, "-skip", skip)
	}
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Dir = dir
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	runErr := cmd.Run()

	passed, failed := conformanceResults(t, report)
	t.Logf("conformance: %d of %d subtests pass", len(passed), len(passed)+len(failed))
	if len(failed) > 0 {
		sort.Strings(failed)
		t.Errorf("%d failing subtests:\n%s", len(failed), strings.Join(failed, "\n"))
	}
	if runErr != nil && len(failed) == 0 {
		t.Fatalf("gateway-conformance: %v\n%s", runErr, output.String())
	}
}

// conformanceResults reads the suite's test2json report and returns the
// leaf subtests that passed and failed.
func conformanceResults(t *testing.T, report string) (passed, failed []string) {
	t.Helper()
	f, err := os.Open(report)
	require.NoError(t, err)
	defer f.Close()
	result := map[string]string{}
	output := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var ev struct{ Action, Test, Output string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Test == "" {
			continue
		}
		switch ev.Action {
		case "pass", "fail":
			result[ev.Test] = ev.Action
		case "output":
			output[ev.Test] = append(output[ev.Test], ev.Output)
		}
	}
	require.NoError(t, sc.Err())
	var all int
	for _, action := range result {
		if action == "pass" {
			all++
		}
	}
	t.Logf("conformance: %d of %d tests and subtests pass, counting parents", all, len(result))
	for name, action := range result {
		if hasChildren(result, name) {
			continue
		}
		if action == "pass" {
			passed = append(passed, name)
			continue
		}
		failed = append(failed, name)
		// What the suite says about a failure is in the subtest's output.
		if os.Getenv("ISLAND_CONFORMANCE_VERBOSE") != "" {
			t.Logf("%s:\n%s", name, strings.Join(output[name], ""))
		}
	}
	return passed, failed
}

func hasChildren(results map[string]string, name string) bool {
	for other := range results {
		if strings.HasPrefix(other, name+"/") {
			return true
		}
	}
	return false
}
