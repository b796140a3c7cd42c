package sim

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// WriteTable prints every scenario's figures with both behaviours and
// their ratio (Kubo's over island's: above 1, island is faster), then
// what each run cost.
func WriteTable(w io.Writer, cfg Config, scs []Scenario) error {
	fmt.Fprintf(w, "N=%d seed=%d RTT median %s [%s, %s] σ=%.2g, %g Mbit/s, churn %g%%/h, time scale %g, %d samples, %d author-away visits\n\n",
		cfg.N, cfg.Seed, cfg.RTT.Median, cfg.RTT.Min, cfg.RTT.Max, cfg.RTT.Sigma, cfg.BandwidthMbps,
		cfg.ChurnPerHour*100, cfg.TimeScale, cfg.Samples, cfg.Visits)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tfigure\tisland\tkubo\tkubo/island\ttarget\t")
	for _, sc := range scs {
		for _, r := range sc.Rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", sc.Name, r.Metric, num(r.Island, r.Unit), num(r.Kubo, r.Unit),
				ratio(r.Kubo, r.Island, r.Unit), r.Target)
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "scenario\tbehaviour\tnodes\twall\tCPU s\tCPU ms/node\tpeak RSS MiB\tRSS KiB/node\tgoroutines/node\t")
	for _, sc := range scs {
		for _, u := range sc.Usage {
			cpu, rss, g := u.PerNode()
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.1f\t%.0f\t%d\t%d\t%.0f\t\n", sc.Name, u.Behaviour, u.Nodes,
				u.Wall.Round(time.Second), u.CPU.Seconds(), float64(cpu)/float64(time.Millisecond), u.PeakRSS>>20, rss>>10, g)
		}
	}
	return tw.Flush()
}

func num(v float64, unit string) string {
	if math.IsNaN(v) {
		return "–"
	}
	switch unit {
	case "%":
		return fmt.Sprintf("%.1f %%", v)
	case "s":
		return fmt.Sprintf("%.2f s", v)
	}
	return fmt.Sprintf("%.4g %s", v, unit)
}

// ratio is Kubo's figure over island's for costs (times, requests), where
// above 1 means island spends less; a share of successes is not a cost,
// and is left to be read side by side.
func ratio(kubo, island float64, unit string) string {
	if unit == "%" || unit == "visits" || math.IsNaN(kubo) || math.IsNaN(island) || island == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", kubo/island)
}

// WritePlots draws each scenario's series to dir/<scenario>.svg and
// returns the paths.
func WritePlots(dir string, scs []Scenario) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sim: plots: %w", err)
	}
	var paths []string
	for _, sc := range scs {
		if len(sc.Series) == 0 {
			continue
		}
		p := plot.New()
		p.Title.Text = sc.Name
		p.X.Label.Text = sc.XLabel
		p.Y.Label.Text = sc.YLabel
		p.Legend.Top = true
		var lines []any
		for _, s := range sc.Series {
			if len(s.X) == 0 {
				continue
			}
			xy := make(plotter.XYs, len(s.X))
			for j := range s.X {
				xy[j].X, xy[j].Y = s.X[j], s.Y[j]
			}
			lines = append(lines, s.Label, xy)
		}
		if err := plotutil.AddLinePoints(p, lines...); err != nil {
			return nil, fmt.Errorf("sim: plot %s: %w", sc.Name, err)
		}
		path := filepath.Join(dir, strings.ReplaceAll(sc.Name, " ", "-")+".svg")
		if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, path); err != nil {
			return nil, fmt.Errorf("sim: plot %s: %w", sc.Name, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
