package sim

import (
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var nan = math.NaN()

// Usage is what one behaviour's run of a scenario cost the process.
type Usage struct {
	Behaviour string
	Nodes     int
	Wall      time.Duration
	CPU       time.Duration // user + system
	// PeakRSS is the process's resident set high-water mark so far (it
	// never goes down, so later scenarios inherit earlier peaks).
	PeakRSS    int64
	Goroutines int // at the end of the run, before the network closed
}

// PerNode divides the cost by the nodes.
func (u Usage) PerNode() (cpu time.Duration, rss int64, goroutines float64) {
	n := max(u.Nodes, 1)
	return u.CPU / time.Duration(n), u.PeakRSS / int64(n), float64(u.Goroutines) / float64(n)
}

type sample struct {
	at         time.Time
	cpu        time.Duration
	rss        int64
	goroutines int
}

func measure() sample {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return sample{at: time.Now(), cpu: cpu, rss: peakRSS(), goroutines: runtime.NumGoroutine()}
}

func (s sample) since(before sample, behaviour string, nodes int) Usage {
	return Usage{Behaviour: behaviour, Nodes: nodes, Wall: s.at.Sub(before.at), CPU: s.cpu - before.cpu,
		PeakRSS: s.rss, Goroutines: s.goroutines}
}

// peakRSS reads VmHWM from /proc (Linux); 0 elsewhere.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
