// Command e2e measures what a user runs, through bin/island, side by side
// with Kubo (ipfs) and Hugo in the same run when they are found: the rows
// of issue 14's table (get between two daemons, add, publish through the
// daemon, build, the gateway by name and by CID, idle daemon RSS). Every
// daemon listens on 127.0.0.1 only and dials no one but the others started
// here (--bootstrap none; Kubo's test profile). `make bench-e2e` runs it;
// docs/bench.md says how to get the references.
//
// Seconds on a shared machine are noisy: each timed row is the best of
// -rounds, island's and the reference's rounds taking turns, and the ratio
// to the reference measured in the same run is the figure that counts.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	island, kubo, hugo, wrk string
	python, corpusScript    string
	work                    string
	rounds                  int
	getMiB, addMiB          int
	posts, images           int
	wrkDuration             time.Duration
	settle                  time.Duration
	only                    string
	jsonOut                 string
	keep                    bool
}

// row is one line of the table.
type row struct {
	Name      string  `json:"name"`
	Island    string  `json:"island"`
	Reference string  `json:"reference,omitempty"`
	Ratio     string  `json:"ratio,omitempty"`
	Target    string  `json:"target"`
	Met       *bool   `json:"met,omitempty"`
	Value     float64 `json:"value"`          // island's figure in its unit (s, req/s, MB)
	RefValue  float64 `json:"refValue"`       // the reference's, 0 when not run
	Note      string  `json:"note,omitempty"` // why a reference is missing, or what else was seen
}

type bench struct {
	opt     options
	ctx     context.Context
	procs   []*daemon
	rows    []row
	corpus  string
	counter int
}

func main() {
	var o options
	flag.StringVar(&o.island, "island", "bin/island", "the island binary")
	flag.StringVar(&o.kubo, "kubo", envOr("KUBO_BIN", "ipfs"), "Kubo's ipfs binary ($KUBO_BIN; skipped when not found)")
	flag.StringVar(&o.hugo, "hugo", envOr("HUGO_BIN", "hugo"), "Hugo's binary ($HUGO_BIN; skipped when not found)")
	flag.StringVar(&o.wrk, "wrk", envOr("WRK_BIN", "wrk"), "wrk, for the gateway rows")
	flag.StringVar(&o.python, "python", "python3", "python, to run the corpus generator")
	flag.StringVar(&o.corpusScript, "corpus-script", "testdata/gen-corpus.py", "the corpus generator")
	flag.StringVar(&o.work, "work", "", "work directory (default: a new temporary one, removed after)")
	flag.IntVar(&o.rounds, "rounds", 3, "best of this many rounds per timed row")
	flag.IntVar(&o.getMiB, "get-mib", 256, "size of the file `get` fetches between two daemons")
	flag.IntVar(&o.addMiB, "add-mib", 512, "size of the file `add` imports")
	flag.IntVar(&o.posts, "posts", 2000, "posts in the corpus")
	flag.IntVar(&o.images, "images", 50, "images in the corpus")
	flag.DurationVar(&o.wrkDuration, "wrk-duration", 5*time.Second, "how long each wrk run lasts")
	flag.DurationVar(&o.settle, "settle", 10*time.Second, "how long a daemon idles before its RSS is read")
	flag.StringVar(&o.only, "only", "", "comma-separated rows to run: get,add,publish,build,gateway,rss (default all)")
	flag.StringVar(&o.jsonOut, "json", "", "also write the rows as JSON to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")
	flag.Parse()
	log.SetFlags(log.Ltime)
	log.SetPrefix("bench-e2e: ")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{opt: o, ctx: ctx}
	err := b.run()
	b.stopAll()
	if err != nil {
		log.Fatal(err)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func (b *bench) run() error {
	var err error
	if b.opt.island, err = exec.LookPath(b.opt.island); err != nil {
		return fmt.Errorf("island binary: %w (run `make build`)", err)
	}
	b.opt.island, _ = filepath.Abs(b.opt.island)
	b.opt.kubo = lookOptional(b.opt.kubo, "Kubo (ipfs)")
	b.opt.hugo = lookOptional(b.opt.hugo, "Hugo")
	b.opt.wrk = lookOptional(b.opt.wrk, "wrk")
	if b.opt.work == "" {
		if b.opt.work, err = os.MkdirTemp("", "island-bench-e2e-"); err != nil {
			return err
		}
		if !b.opt.keep {
			defer os.RemoveAll(b.opt.work)
		}
	}
	if err := os.MkdirAll(b.opt.work, 0o755); err != nil {
		return err
	}
	log.Printf("work directory %s; island %s; kubo %q; hugo %q; wrk %q", b.opt.work, b.opt.island, b.opt.kubo, b.opt.hugo, b.opt.wrk)
	for _, r := range []struct {
		name string
		f    func() error
	}{
		{"get", b.benchGet},
		{"add", b.benchAdd},
		{"publish", b.benchPublishAndGateway},
		{"build", b.benchBuild},
		{"rss", b.benchIdleRSS},
	} {
		if !b.wanted(r.name) && !(r.name == "publish" && b.wanted("gateway")) {
			continue
		}
		log.Printf("== %s", r.name)
		if err := r.f(); err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		b.stopAll()
	}
	b.print()
	if b.opt.jsonOut != "" {
		data, _ := json.MarshalIndent(b.rows, "", "  ")
		if err := os.WriteFile(b.opt.jsonOut, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) wanted(name string) bool {
	if b.opt.only == "" {
		return true
	}
	for _, n := range strings.Split(b.opt.only, ",") {
		if strings.TrimSpace(n) == name {
			return true
		}
	}
	return false
}

func lookOptional(bin, what string) string {
	p, err := exec.LookPath(bin)
	if err != nil {
		log.Printf("%s not found (%s): its rows run without it", what, bin)
		return ""
	}
	abs, _ := filepath.Abs(p)
	return abs
}

// dir is a new directory under the work directory.
func (b *bench) dir(name string) string {
	b.counter++
	d := filepath.Join(b.opt.work, fmt.Sprintf("%s-%d", name, b.counter))
	if err := os.MkdirAll(d, 0o755); err != nil {
		log.Fatal(err)
	}
	return d
}

// result of one command: wall time and peak RSS (from wait4's rusage).
type result struct {
	wall   time.Duration
	maxRSS int64 // bytes
	out    string
}

// cmd runs a command to completion with env added to the environment.
func (b *bench) cmd(env []string, name string, args ...string) (result, error) {
	c := exec.CommandContext(b.ctx, name, args...)
	c.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	start := time.Now()
	err := c.Run()
	r := result{wall: time.Since(start), out: out.String()}
	if c.ProcessState != nil {
		if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSS = ru.Maxrss * 1024
		}
	}
	if err != nil {
		return r, fmt.Errorf("%s %s: %w\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out.String(), errb.String())
	}
	return r, nil
}

// best runs f rounds times and keeps the fastest result.
func (b *bench) best(what string, f func(i int) (result, error)) (result, error) {
	r, _, err := b.bestPair(what, f, "", nil)
	return r, err
}

// bestPair runs island's round and then the reference's, round by round,
// so that a change in the machine's load weighs on both alike, and keeps
// each one's fastest result. ref nil: island's rounds only.
func (b *bench) bestPair(what string, isl func(i int) (result, error), refWhat string, ref func(i int) (result, error)) (result, result, error) {
	var best [2]result
	for i := range b.opt.rounds {
		for j, f := range []func(int) (result, error){isl, ref} {
			if f == nil {
				continue
			}
			r, err := f(i)
			if err != nil {
				return best[0], best[1], err
			}
			log.Printf("  %s round %d: %s (peak RSS %s)", []string{what, refWhat}[j], i+1, secs(r.wall), mb(r.maxRSS))
			if i == 0 || r.wall < best[j].wall {
				best[j] = r
			}
		}
	}
	return best[0], best[1], nil
}

// randomFile writes n MiB of incompressible bytes.
func (b *bench) randomFile(name string, mib int) (string, error) {
	p := filepath.Join(b.opt.work, name)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	f, err := os.Create(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, int64(mib)<<20); err != nil {
		return "", err
	}
	return p, f.Close()
}

// ---- daemons ----

type daemon struct {
	name string
	cmd  *exec.Cmd
	env  []string
	done chan struct{}
	log  *os.File
}

// startIsland starts `island daemon` on a new repo, dialing bootstrap
// ("none": no one), and waits for $REPO/gateway.
func (b *bench) startIsland(name, bootstrap string) (*daemon, error) {
	repo := filepath.Join(b.dir(name), "repo")
	args := []string{"daemon", "--bootstrap", bootstrap, "--gateway", "127.0.0.1:0", "--api", "127.0.0.1:0",
		"--listen", "/ip4/127.0.0.1/tcp/0", "--dns-resolver", "none"}
	d, err := b.startDaemon(name, []string{"ISLAND_PATH=" + repo}, b.opt.island, args...)
	if err != nil {
		return nil, err
	}
	return d, b.waitFile(d, filepath.Join(repo, "gateway"))
}

func (d *daemon) repo() string {
	for _, e := range d.env {
		if k, v, _ := strings.Cut(e, "="); k == "ISLAND_PATH" || k == "IPFS_PATH" {
			return v
		}
	}
	return ""
}

// startKubo initialises a loopback-only Kubo repo and starts its daemon.
func (b *bench) startKubo(name string) (*daemon, error) {
	env, err := b.kuboRepo(name)
	if err != nil {
		return nil, err
	}
	d, err := b.startDaemon(name, env, b.opt.kubo, "daemon")
	if err != nil {
		return nil, err
	}
	return d, b.waitFile(d, filepath.Join(d.repo(), "api"))
}

// kuboRepo is a fresh loopback-only Kubo repo (ANCHORS: the test profile
// and unixfs-v1-2025, telemetry off).
func (b *bench) kuboRepo(name string) ([]string, error) {
	env := []string{"IPFS_PATH=" + filepath.Join(b.dir(name), "ipfs"), "IPFS_TELEMETRY=off"}
	_, err := b.cmd(env, b.opt.kubo, "init", "--profile=test,unixfs-v1-2025")
	return env, err
}

func (b *bench) startDaemon(name string, env []string, bin string, args ...string) (*daemon, error) {
	lf, err := os.Create(filepath.Join(b.opt.work, name+".log"))
	if err != nil {
		return nil, err
	}
	c := exec.Command(bin, args...)
	c.Env = append(os.Environ(), env...)
	c.Stdout, c.Stderr = lf, lf
	if err := c.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	d := &daemon{name: name, cmd: c, env: env, done: make(chan struct{}), log: lf}
	go func() { _ = c.Wait(); close(d.done) }()
	b.procs = append(b.procs, d)
	return d, nil
}

func (b *bench) waitFile(d *daemon, p string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
		select {
		case <-d.done:
			logText, _ := os.ReadFile(d.log.Name())
			return fmt.Errorf("daemon %s exited before it was ready:\n%s", d.name, logText)
		case <-b.ctx.Done():
			return b.ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("daemon %s: %s did not appear within a minute", d.name, p)
}

func (b *bench) stop(d *daemon) {
	select {
	case <-d.done:
	default:
		_ = d.cmd.Process.Signal(os.Interrupt)
		select {
		case <-d.done:
		case <-time.After(15 * time.Second):
			_ = d.cmd.Process.Kill()
			<-d.done
		}
	}
	d.log.Close()
}

func (b *bench) stopAll() {
	for _, d := range b.procs {
		b.stop(d)
	}
	b.procs = nil
}

// rss is a running process's resident set (VmRSS).
func rss(pid int) (int64, error) {
	return procStatus(pid, "VmRSS")
}

// procStatus is a field of /proc/PID/status counted in kB, in bytes.
func procStatus(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`(?m)^` + field + `:\s+(\d+) kB`).FindSubmatch(data)
	if m == nil {
		return 0, fmt.Errorf("no %s in /proc status", field)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb * 1024, nil
}

// rssSplit words what a resident set is made of: the process's own
// (anonymous) memory and the file pages it maps, mostly its executable's,
// which the page cache shares.
func rssSplit(pid int) string {
	anon, err1 := procStatus(pid, "RssAnon")
	file, err2 := procStatus(pid, "RssFile")
	if err1 != nil || err2 != nil {
		return "?"
	}
	return fmt.Sprintf("anonymous %s + file-backed %s", mb(anon), mb(file))
}

func (b *bench) island(env []string, args ...string) (result, error) {
	return b.cmd(env, b.opt.island, args...)
}

// islandAddr is a daemon's first dialable multiaddr.
func (b *bench) islandAddr(d *daemon) (string, error) {
	r, err := b.island(d.env, "id", "--json")
	if err != nil {
		return "", err
	}
	var id struct {
		Addrs []string `json:"addrs"`
	}
	if err := json.Unmarshal([]byte(r.out), &id); err != nil || len(id.Addrs) == 0 {
		return "", fmt.Errorf("island id --json: no address in %q", r.out)
	}
	return id.Addrs[0], nil
}

func (b *bench) kuboAddr(d *daemon) (string, error) {
	r, err := b.cmd(d.env, b.opt.kubo, "id", "-f", "<addrs>")
	if err != nil {
		return "", err
	}
	for _, a := range strings.Fields(r.out) {
		if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") {
			return a, nil
		}
	}
	return "", fmt.Errorf("ipfs id: no loopback TCP address in %q", r.out)
}

// ---- rows ----

func (b *bench) benchGet() error {
	file, err := b.randomFile(fmt.Sprintf("random-%dMiB", b.opt.getMiB), b.opt.getMiB)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("`island get CID -o OUT`, %d MiB, daemon B from daemon A (loopback TCP)", b.opt.getMiB)
	a, err := b.startIsland("get-a", "none")
	if err != nil {
		return err
	}
	r, err := b.island(a.env, "add", "-q", file)
	if err != nil {
		return err
	}
	cid := strings.TrimSpace(r.out)
	addr, err := b.islandAddr(a)
	if err != nil {
		return err
	}
	bd, err := b.startIsland("get-b", addr)
	if err != nil {
		return err
	}
	islGet := func(i int) (result, error) {
		out := filepath.Join(b.dir("get-out"), "out")
		if _, err := b.island(bd.env, "gc"); err != nil {
			return result{}, err
		}
		r, err := b.island(bd.env, "get", cid, "-o", out)
		if err == nil {
			err = sameSize(out, file)
			os.Remove(out)
		}
		return r, err
	}
	var kuboGet func(i int) (result, error)
	note := "Kubo not found"
	if b.opt.kubo != "" {
		note = ""
		ka, err := b.startKubo("kubo-get-a")
		if err != nil {
			return err
		}
		r, err := b.cmd(ka.env, b.opt.kubo, "add", "-q", "--quieter", file)
		if err != nil {
			return err
		}
		kcid := strings.TrimSpace(r.out)
		if kcid != cid {
			log.Printf("  warning: Kubo's CID %s differs from island's %s", kcid, cid)
		}
		kaddr, err := b.kuboAddr(ka)
		if err != nil {
			return err
		}
		kb, err := b.startKubo("kubo-get-b")
		if err != nil {
			return err
		}
		kuboGet = func(i int) (result, error) {
			out := filepath.Join(b.dir("kubo-get-out"), "out")
			if _, err := b.cmd(kb.env, b.opt.kubo, "repo", "gc", "-q"); err != nil {
				return result{}, err
			}
			if _, err := b.cmd(kb.env, b.opt.kubo, "swarm", "connect", kaddr); err != nil {
				return result{}, err
			}
			r, err := b.cmd(kb.env, b.opt.kubo, "get", "-o", out, kcid)
			if err == nil {
				err = sameSize(out, file)
				os.Remove(out)
			}
			return r, err
		}
	}
	isl, ref, err := b.bestPair("island get", islGet, "ipfs get", kuboGet)
	if err != nil {
		return err
	}
	b.add(timeRow(name, isl, ref, "≥ 4× Kubo", 4, true, note))
	return nil
}

func sameSize(got, want string) error {
	g, err := os.Stat(got)
	if err != nil {
		return err
	}
	w, err := os.Stat(want)
	if err != nil {
		return err
	}
	if g.Size() != w.Size() {
		return fmt.Errorf("%s has %d bytes, want %d", got, g.Size(), w.Size())
	}
	return nil
}

func (b *bench) benchAdd() error {
	file, err := b.randomFile(fmt.Sprintf("random-%dMiB", b.opt.addMiB), b.opt.addMiB)
	if err != nil {
		return err
	}
	islAdd := func(i int) (result, error) {
		env := []string{"ISLAND_PATH=" + filepath.Join(b.dir("add"), "repo")}
		// The repo is created first, as `ipfs init` is for Kubo.
		if _, err := b.island(env, "key", "ls"); err != nil {
			return result{}, err
		}
		return b.island(env, "add", "-q", file)
	}
	var kuboAdd func(i int) (result, error)
	note := "Kubo not found"
	if b.opt.kubo != "" {
		note = ""
		kuboAdd = func(i int) (result, error) {
			env, err := b.kuboRepo("kubo-add")
			if err != nil {
				return result{}, err
			}
			return b.cmd(env, b.opt.kubo, "add", "-q", "--quieter", file)
		}
	}
	isl, ref, err := b.bestPair("island add", islAdd, "ipfs add", kuboAdd)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("`island add` %d MiB, fresh repo", b.opt.addMiB)
	r := timeRow(name, isl, ref, "≥ 2× Kubo, RSS < 150 MB", 2, true, note)
	r.Island += fmt.Sprintf(", RSS %s", mb(isl.maxRSS))
	if ref.wall > 0 {
		r.Reference += fmt.Sprintf(", RSS %s", mb(ref.maxRSS))
		r.Note = "Kubo writes its blocks without fsync (flatfs `sync: false`, its default config); island's add fsyncs every block before it answers"
	}
	if r.Met != nil {
		met := *r.Met && isl.maxRSS < 150e6
		r.Met = &met
	} else {
		met := isl.maxRSS < 150e6
		r.Note = strings.TrimSpace(r.Note + fmt.Sprintf(" (RSS target met: %v)", met))
	}
	b.add(r)
	return nil
}

func (b *bench) ensureCorpus() (string, error) {
	if b.corpus != "" {
		return b.corpus, nil
	}
	dir := filepath.Join(b.opt.work, "corpus")
	if _, err := b.cmd(nil, b.opt.python, b.opt.corpusScript, dir, strconv.Itoa(b.opt.posts), strconv.Itoa(b.opt.images)); err != nil {
		return "", err
	}
	b.corpus = dir
	return dir, nil
}

// copyCorpus copies the corpus, so edits stay out of the other rows.
func (b *bench) copyCorpus(name string) (string, error) {
	src, err := b.ensureCorpus()
	if err != nil {
		return "", err
	}
	dst := filepath.Join(b.dir(name), "content")
	_, err = b.cmd(nil, "cp", "-r", src, dst)
	return dst, err
}

var publishedRe = regexp.MustCompile(`(?m)^(?:published|unchanged: )\s*(\S+)`)
var nameRe = regexp.MustCompile(`(?m)^name: /ipns/(\S+)`)

func (b *bench) benchPublishAndGateway() error {
	content, err := b.copyCorpus("publish")
	if err != nil {
		return err
	}
	// A site's posts were not all written a moment ago: wait until the
	// copies' stat can be trusted (a file changed within the last 2 s is
	// read whole by every publish, as a coarse file system clock may hide
	// a second change), so that the rounds measure an edit, not the copy.
	time.Sleep(2 * time.Second)
	d, err := b.startIsland("publish", "none")
	if err != nil {
		return err
	}
	r, err := b.island(d.env, "publish", "--content", content)
	if err != nil {
		return err
	}
	name := nameRe.FindStringSubmatch(r.out)
	if name == nil {
		return fmt.Errorf("publish printed no name: %q", r.out)
	}
	edits := 0
	edit, err := b.best("publish after editing one post", func(i int) (result, error) {
		edits++
		post := filepath.Join(content, "posts", fmt.Sprintf("%05d.md", 5+i))
		if err := appendLine(post, fmt.Sprintf("\nEdit number %d of the benchmark.\n", edits)); err != nil {
			return result{}, err
		}
		r, err := b.island(d.env, "publish", "--content", content)
		if err == nil && !strings.HasPrefix(r.out, "published ") {
			err = fmt.Errorf("publish after an edit made no new version: %q", r.out)
		}
		return r, err
	})
	if err != nil {
		return err
	}
	same, err := b.best("publish with nothing changed", func(i int) (result, error) {
		r, err := b.island(d.env, "publish", "--content", content)
		if err == nil && !strings.HasPrefix(r.out, "unchanged: ") {
			err = fmt.Errorf("publish with nothing changed made a new version: %q", r.out)
		}
		return r, err
	})
	if err != nil {
		return err
	}
	if b.wanted("publish") {
		b.add(absRow("`island publish` through the daemon, one post of the 2,000-post corpus edited", edit, 0.100, "< 100 ms"))
		b.add(absRow("the same with nothing changed", same, 0.050, "< 50 ms"))
	}
	if !b.wanted("gateway") {
		return nil
	}
	gw, err := os.ReadFile(filepath.Join(d.repo(), "gateway"))
	if err != nil {
		return err
	}
	base := strings.TrimSpace(string(gw))
	cid := publishedRe.FindStringSubmatch(same.out)
	if cid == nil {
		return fmt.Errorf("publish printed no CID: %q", same.out)
	}
	fresh, err := b.freshness(d, content, base, name[1])
	if err != nil {
		return err
	}
	if b.opt.wrk == "" {
		b.add(row{Name: "gateway `GET /ipns/NAME/`", Target: "≥ 0.8 of /ipfs/", Note: "wrk not found (apt-get install wrk); " + fresh})
		return nil
	}
	// The current version, after the freshness check's publish.
	cur, err := b.island(d.env, "publish", "--content", content)
	if err != nil {
		return err
	}
	cid = publishedRe.FindStringSubmatch(cur.out)
	rates, err := b.bestRates([]string{"/ipns/NAME/", "/ipfs/CID/"}, []string{base + "/ipns/" + name[1] + "/", base + "/ipfs/" + cid[1] + "/"})
	if err != nil {
		return err
	}
	ipns, ipfs := rates[0], rates[1]
	ratio := ipns / ipfs
	met := ratio >= 0.8 && strings.HasPrefix(fresh, "new version visible at once")
	b.add(row{Name: "gateway `GET /ipns/NAME/` of the published site, wrk -t2 -c32",
		Island: fmt.Sprintf("%.1f k req/s", ipns/1000), Reference: fmt.Sprintf("/ipfs/CID/: %.1f k req/s", ipfs/1000),
		Ratio: fmt.Sprintf("%.2f", ratio), Target: "≥ 0.8 of /ipfs/, a new version visible at once", Met: &met,
		Value: ipns, RefValue: ipfs, Note: fresh})
	return nil
}

// freshness edits a post, publishes, and reads the post by name through
// the gateway right away: the new text must be there.
func (b *bench) freshness(d *daemon, content, base, name string) (string, error) {
	marker := fmt.Sprintf("Freshness marker %d.", time.Now().UnixNano())
	if err := appendLine(filepath.Join(content, "posts", "00003.md"), "\n"+marker+"\n"); err != nil {
		return "", err
	}
	// Warm the name's cache first, as a visitor would have.
	if _, err := httpGet(base + "/ipns/" + name + "/posts/00003/"); err != nil {
		return "", err
	}
	if _, err := b.island(d.env, "publish", "--content", content); err != nil {
		return "", err
	}
	body, err := httpGet(base + "/ipns/" + name + "/posts/00003/")
	if err != nil {
		return "", err
	}
	if strings.Contains(body, marker) {
		return "new version visible at once", nil
	}
	return "STALE: the page by name did not show the new version right after publish", nil
}

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(data), err
}

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
var wrkErrors = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)

// bestRates runs wrk -t2 -c32 rounds times on each url, taking turns so
// that a busy moment of the machine weighs on both alike, and keeps each
// url's best rate.
func (b *bench) bestRates(what, urls []string) ([]float64, error) {
	best := make([]float64, len(urls))
	for _, url := range urls {
		if _, err := httpGet(url); err != nil {
			return nil, err
		}
	}
	for i := range b.opt.rounds {
		for j, url := range urls {
			r, err := b.cmd(nil, b.opt.wrk, "-t2", "-c32", "-d"+strconv.Itoa(int(b.opt.wrkDuration.Seconds()))+"s", url)
			if err != nil {
				return nil, err
			}
			if m := wrkErrors.FindStringSubmatch(r.out); m != nil {
				return nil, fmt.Errorf("wrk %s: %s responses were not 2xx/3xx", url, m[1])
			}
			m := wrkRate.FindStringSubmatch(r.out)
			if m == nil {
				return nil, fmt.Errorf("wrk printed no rate: %q", r.out)
			}
			v, _ := strconv.ParseFloat(m[1], 64)
			log.Printf("  wrk %s round %d: %.0f req/s", what[j], i+1, v)
			best[j] = max(best[j], v)
		}
	}
	return best, nil
}

func appendLine(p, s string) error {
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hugoSite lays out the corpus as a Hugo site with a minimal layout that
// renders what island's theme does: each post, the post list, tag pages.
func (b *bench) hugoSite() (string, error) {
	src, err := b.ensureCorpus()
	if err != nil {
		return "", err
	}
	site := b.dir("hugo-site")
	if err := os.MkdirAll(filepath.Join(site, "content"), 0o755); err != nil {
		return "", err
	}
	if _, err := b.cmd(nil, "cp", "-r", filepath.Join(src, "posts"), filepath.Join(site, "content")); err != nil {
		return "", err
	}
	if _, err := b.cmd(nil, "cp", "-r", filepath.Join(src, "static"), filepath.Join(site, "static")); err != nil {
		return "", err
	}
	layouts := map[string]string{
		"hugo.toml": "baseURL = \"https://example.org/\"\ntitle = \"Bench\"\n[markup.goldmark.renderer]\nunsafe = true\n",
		"layouts/baseof.html": `<!doctype html><html><head><meta charset="utf-8"><title>{{ .Title }}</title></head>` +
			`<body><nav><a href="{{ "/" | relURL }}">Home</a></nav><main>{{ block "main" . }}{{ end }}</main></body></html>`,
		"layouts/single.html": `{{ define "main" }}<article><h1>{{ .Title }}</h1><time>{{ .Date.Format "2006-01-02" }}</time>` +
			`{{ .Content }}<ul>{{ range .GetTerms "tags" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>` +
			`{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</article>{{ end }}`,
		"layouts/list.html": `{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Summary }}</li>{{ end }}</ul>{{ end }}`,
	}
	for p, text := range layouts {
		full := filepath.Join(site, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	return site, nil
}

func (b *bench) benchBuild() error {
	content, err := b.ensureCorpus()
	if err != nil {
		return err
	}
	islBuild := func(i int) (result, error) {
		return b.island(nil, "build", "--content", content, "--out", filepath.Join(b.dir("build-out"), "public"))
	}
	var hugo func(i int) (result, error)
	note := "Hugo not found"
	if b.opt.hugo != "" {
		note = ""
		site, err := b.hugoSite()
		if err != nil {
			return err
		}
		hugo = func(i int) (result, error) {
			return b.cmd(nil, b.opt.hugo, "--quiet", "-s", site, "-d", filepath.Join(b.dir("hugo-out"), "public"))
		}
	}
	isl, ref, err := b.bestPair("island build", islBuild, "hugo", hugo)
	if err != nil {
		return err
	}
	r := timeRow("`island build` of the 2,000-post corpus", isl, ref, "≤ 0.25× Hugo, < 200 MB", 0.25, false, note)
	r.Island += fmt.Sprintf(", RSS %s", mb(isl.maxRSS))
	if ref.wall > 0 {
		r.Reference += fmt.Sprintf(", RSS %s", mb(ref.maxRSS))
		met := *r.Met && isl.maxRSS < 200e6
		r.Met = &met
	}
	b.add(r)
	return nil
}

func (b *bench) benchIdleRSS() error {
	a, err := b.startIsland("rss-a", "none")
	if err != nil {
		return err
	}
	addr, err := b.islandAddr(a)
	if err != nil {
		return err
	}
	if _, err := b.startIsland("rss-b", addr); err != nil {
		return err
	}
	var ka *daemon
	if b.opt.kubo != "" {
		if ka, err = b.startKubo("kubo-rss-a"); err != nil {
			return err
		}
		kb, err := b.startKubo("kubo-rss-b")
		if err != nil {
			return err
		}
		kaddr, err := b.kuboAddr(ka)
		if err != nil {
			return err
		}
		if _, err := b.cmd(kb.env, b.opt.kubo, "swarm", "connect", kaddr); err != nil {
			return err
		}
	}
	log.Printf("  idling %s", b.opt.settle)
	select {
	case <-time.After(b.opt.settle):
	case <-b.ctx.Done():
		return b.ctx.Err()
	}
	peers, err := b.island(a.env, "peers")
	if err != nil {
		return err
	}
	if n := len(strings.Fields(peers.out)); n == 0 {
		return fmt.Errorf("daemon A has no peer: %q", peers.out)
	}
	v, err := rss(a.cmd.Process.Pid)
	if err != nil {
		return err
	}
	r := row{Name: "idle daemon RSS, one peer", Island: mb(v), Target: "< 50 MB", Value: float64(v) / 1e6,
		Note: "island: " + rssSplit(a.cmd.Process.Pid)}
	met := v < 50e6
	r.Met = &met
	if ka != nil {
		kv, err := rss(ka.cmd.Process.Pid)
		if err != nil {
			return err
		}
		r.Reference, r.RefValue = "Kubo: "+mb(kv), float64(kv)/1e6
		r.Ratio = fmt.Sprintf("%.2f", float64(v)/float64(kv))
		r.Note += "; Kubo: " + rssSplit(ka.cmd.Process.Pid)
	} else {
		r.Note += "; Kubo not found"
	}
	b.add(r)
	return nil
}

// ---- table ----

// timeRow compares two wall times. With higherIsBetter the ratio is
// reference/island (a speed-up, target ≥ want), else island/reference
// (a fraction of the reference's time, target ≤ want).
func timeRow(name string, isl, ref result, target string, want float64, higherIsBetter bool, note string) row {
	r := row{Name: name, Island: secs(isl.wall), Target: target, Value: isl.wall.Seconds(), Note: note}
	if ref.wall == 0 {
		return r
	}
	r.Reference, r.RefValue = secs(ref.wall), ref.wall.Seconds()
	var ratio float64
	var met bool
	if higherIsBetter {
		ratio = ref.wall.Seconds() / isl.wall.Seconds()
		met = ratio >= want
	} else {
		ratio = isl.wall.Seconds() / ref.wall.Seconds()
		met = ratio <= want
	}
	r.Ratio = fmt.Sprintf("%.2f×", ratio)
	r.Met = &met
	return r
}

func absRow(name string, isl result, limit float64, target string) row {
	met := isl.wall.Seconds() < limit
	return row{Name: name, Island: secs(isl.wall), Target: target, Met: &met, Value: isl.wall.Seconds(),
		Note: "no reference (Hugo re-renders everything; Kubo has no equivalent)"}
}

func (b *bench) add(r row) {
	b.rows = append(b.rows, r)
	log.Printf("  -> %s: %s (%s) %s", r.Name, r.Island, r.Reference, r.Ratio)
}

func (b *bench) print() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "\nbest of %d, same run (%s)\n\n", b.opt.rounds, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintln(w, "| what a user runs | island | reference, same run | ratio | target | met |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range b.rows {
		met := "—"
		if r.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*r.Met]
		}
		ref := r.Reference
		if ref == "" {
			ref = "—"
		}
		ratio := r.Ratio
		if ratio == "" {
			ratio = "—"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.Name, r.Island, ref, ratio, r.Target, met)
	}
	for _, r := range b.rows {
		if r.Note != "" {
			fmt.Fprintf(w, "\n- %s: %s", r.Name, r.Note)
		}
	}
	fmt.Fprintln(w)
}

func secs(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func mb(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/1e6) }
