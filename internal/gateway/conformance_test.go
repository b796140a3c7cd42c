//go:build integration

package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/testutil"
)

// TestConformance runs the IPFS gateway conformance suite
// (github.com/ipfs/gateway-conformance) against `island daemon --offline`,
// the binary itself, loaded with the suite's fixtures through its command
// line as a user would: `island dag import --pin-roots=false` for the CARs
// (some hold incomplete DAGs on purpose) and `island routing put` for the
// IPNS records, with the DNSLink fixtures as the daemon's IPFS_NS_MAP. It
// needs a checkout of the suite with its binary built (go build
// ./cmd/gateway-conformance) named by ISLAND_CONFORMANCE_DIR, and fails on
// any failing subtest; ISLAND_CONFORMANCE_SKIP passes a -skip pattern to the
// suite for known gaps.
func TestConformance(t *testing.T) {
	dir := os.Getenv("ISLAND_CONFORMANCE_DIR")
	if dir == "" {
		t.Skip("set ISLAND_CONFORMANCE_DIR to a gateway-conformance checkout with its binary built to run the conformance suite")
	}
	bin := filepath.Join(dir, "gateway-conformance")
	fixtures := t.TempDir()
	out, err := exec.Command(bin, "extract-fixtures", "--dir", fixtures).CombinedOutput()
	require.NoError(t, err, "%s", out)

	island := filepath.Join(t.TempDir(), "island")
	build := exec.Command("go", "build", "-o", island, "./cmd/island")
	build.Dir = testutil.ModuleRoot()
	out, err = build.CombinedOutput()
	require.NoError(t, err, "build island: %s", out)
	repo := filepath.Join(t.TempDir(), "repo")
	run := func(args ...string) (string, error) {
		cmd := exec.Command(island, append([]string{"--repo", repo}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	nsMap, err := os.ReadFile(filepath.Join(fixtures, "dnslinks.IPFS_NS_MAP"))
	require.NoError(t, err)
	daemon := testutil.DieWithTest(exec.Command(island, "--repo", repo, "daemon", "--offline", "--dns-resolver", "none",
		"--api", "127.0.0.1:0", "--gateway", "127.0.0.1:0"))
	daemon.Env = append(os.Environ(), "IPFS_NS_MAP="+strings.TrimSpace(string(nsMap)))
	var daemonOut testutil.Buffer
	daemon.Stdout, daemon.Stderr = &daemonOut, &daemonOut
	require.NoError(t, daemon.Start())
	exited := make(chan error, 1)
	go func() { exited <- daemon.Wait() }()
	t.Cleanup(func() {
		_ = daemon.Process.Signal(os.Interrupt)
		<-exited
		if t.Failed() {
			t.Logf("daemon output:\n%s", daemonOut.String())
		}
	})
	require.Eventually(t, func() bool { return strings.Contains(daemonOut.String(), "Daemon is ready") },
		time.Minute, 20*time.Millisecond, "the daemon never got ready: %s", &daemonOut)

	entries, err := os.ReadDir(fixtures)
	require.NoError(t, err)
	var cars []string
	var records int
	for _, e := range entries {
		p := filepath.Join(fixtures, e.Name())
		switch {
		case strings.HasSuffix(e.Name(), ".car"):
			cars = append(cars, p)
		case strings.HasSuffix(e.Name(), ".ipns-record"):
			name := strings.SplitN(strings.TrimSuffix(e.Name(), ".ipns-record"), "_", 2)[0]
			// Some fixtures are broken on purpose; island refuses them as
			// `ipfs routing put` does.
			if out, err := run("routing", "put", "/ipns/"+name, p); err != nil {
				t.Logf("record %s refused: %s", e.Name(), strings.TrimSpace(out))
				continue
			}
			records++
		}
	}
	out2, err := run(append([]string{"dag", "import", "--pin-roots=false"}, cars...)...)
	require.NoError(t, err, "dag import: %s", out2)
	t.Logf("loaded %d CAR files and %d IPNS records through the binary", len(cars), records)

	gw, err := os.ReadFile(filepath.Join(repo, "gateway"))
	require.NoError(t, err)
	gateway := strings.TrimSpace(string(gw))
	port := gateway[strings.LastIndex(gateway, ":")+1:]

	report := filepath.Join(t.TempDir(), "report.json")
	args := []string{"test", "--gateway-url", gateway, "--subdomain-url", "http://localhost:" + port, "--json", report, "--", "-timeout", "20m"}
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
