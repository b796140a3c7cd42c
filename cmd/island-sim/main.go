// Command island-sim runs the simulated Internet of islands (package
// internal/sim): N nodes over an in-memory network with latency and churn,
// each scenario once with island's behaviour and once with Kubo's. It
// prints a table of figures and ratios and writes SVG plots. `make sim`
// runs it at N = 1,000; docs/scale.md explains the figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/islandsite/island/internal/sim"
)

func main() {
	// Every simulated node lives in this process: with Go's default GC
	// target a quarter of its CPU went to the collector at N = 1,000, CPU
	// the churn batches and lookups then lacked, and a fifth still did at
	// 200. The collector runs about half as often at 400, with a soft limit
	// that makes it run more often again before the heap outgrows a 24 GiB
	// machine; GOGC and GOMEMLIMIT still override.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(14 << 30)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := sim.DefaultConfig()
	fs := flag.NewFlagSet("island-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.N, "n", cfg.N, "nodes in the network (DHT servers plus resident island nodes)")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed for identities, latencies, churn and choices: the same seed, the same network")
	fs.DurationVar(&cfg.RTT.Median, "rtt-median", cfg.RTT.Median, "median round-trip time between two nodes")
	fs.DurationVar(&cfg.RTT.Min, "rtt-min", cfg.RTT.Min, "shortest round-trip time")
	fs.DurationVar(&cfg.RTT.Max, "rtt-max", cfg.RTT.Max, "longest round-trip time")
	fs.Float64Var(&cfg.RTT.Sigma, "rtt-sigma", cfg.RTT.Sigma, "shape of the log-normal RTT distribution")
	fs.Float64Var(&cfg.BandwidthMbps, "bandwidth", cfg.BandwidthMbps, "median upload bandwidth per node, Mbit/s")
	fs.Float64Var(&cfg.ChurnPerHour, "churn", cfg.ChurnPerHour, "share of DHT servers replaced per simulated hour")
	fs.Float64Var(&cfg.TimeScale, "time-scale", cfg.TimeScale, "how much faster than real time long intervals run (record lifetimes, republish, reprovide)")
	fs.IntVar(&cfg.Samples, "samples", cfg.Samples, "measurements per latency scenario")
	fs.IntVar(&cfg.Visits, "visits", cfg.Visits, "fresh visitors over the author-away month (a few at a time), each visiting every away author")
	fs.DurationVar(&cfg.Month, "month", cfg.Month, "simulated time the author is away")
	fs.IntVar(&cfg.Sites, "sites", cfg.Sites, "publishers in the many-sites scenario")
	fs.IntVar(&cfg.BlocksPerSite, "blocks", cfg.BlocksPerSite, "blocks per site in the many-sites scenario")
	followers := fs.String("followers", joinInts(cfg.Followers), "follower counts the author-away scenario tries, comma-separated")
	behaviours := fs.String("behaviours", strings.Join(cfg.Behaviours, ","), "behaviours the latency and author-away scenarios run, comma-separated: island, kubo (both: every figure a ratio)")
	scenarios := fs.String("scenarios", "all", "scenarios to run, comma-separated: publish-found, cold-visit, author-away, many-sites")
	out := fs.String("out", "sim-out", "folder for the SVG plots")
	verbose := fs.Bool("v", false, "log progress to stderr")
	pprofAddr := fs.String("pprof", "", "serve Go's /debug/pprof/ on this loopback address (e.g. 127.0.0.1:6061) during the run: the heap of a large N while it runs")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it): where a large N spends its time")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var err error
	if cfg.Followers, err = parseInts(*followers); err != nil {
		fmt.Fprintf(stderr, "island-sim: -followers %q: %v\n", *followers, err)
		return 2
	}
	cfg.Behaviours = nil
	for b := range strings.SplitSeq(*behaviours, ",") {
		cfg.Behaviours = append(cfg.Behaviours, strings.TrimSpace(b))
	}
	rs, err := sim.Select(*scenarios)
	if err != nil {
		fmt.Fprintln(stderr, "island-sim:", err)
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "island-sim: -cpuprofile:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "island-sim: -cpuprofile:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if *pprofAddr != "" {
		stop, err := servePprof(*pprofAddr)
		if err != nil {
			fmt.Fprintln(stderr, "island-sim: -pprof:", err)
			return 2
		}
		defer stop()
	}
	start := time.Now()
	_, paths, err := sim.RunAll(ctx, cfg, rs, *out, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "island-sim:", err)
		return 1
	}
	for _, p := range paths {
		fmt.Fprintln(stdout, "plot:", p)
	}
	fmt.Fprintf(stdout, "took %s\n", time.Since(start).Round(time.Second))
	return 0
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%q is not a follower count (0 or more)", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// servePprof serves the profiles on addr, which must be a loopback address:
// they show the process's memory and code to whoever can reach them.
func servePprof(addr string) (stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%q is not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}
