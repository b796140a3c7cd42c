package sim

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Runner is one scenario.
type Runner struct {
	Name string
	Run  func(ctx context.Context, cfg Config) (Scenario, error)
}

// Scenarios are every scenario, in the order `island-sim` runs them.
var Scenarios = []Runner{
	{"publish-found", PublishFound},
	{"cold-visit", ColdVisit},
	{"author-away", AuthorAway},
	{"many-sites", ManySites},
}

// Select returns the scenarios named in a comma-separated list ("all" or
// "" for every one).
func Select(list string) ([]Runner, error) {
	if list == "" || list == "all" {
		return Scenarios, nil
	}
	var out []Runner
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(Scenarios, func(r Runner) bool { return r.Name == name })
		if i < 0 {
			var names []string
			for _, r := range Scenarios {
				names = append(names, r.Name)
			}
			return nil, fmt.Errorf("sim: no scenario %q: want one of %s, or all", name, strings.Join(names, ", "))
		}
		out = append(out, Scenarios[i])
	}
	return out, nil
}

// RunAll runs the scenarios one after the other, printing each one's rows
// as it ends, then the whole table; plots go to dir (none if dir is "").
func RunAll(ctx context.Context, cfg Config, rs []Runner, dir string, w io.Writer) ([]Scenario, []string, error) {
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	var scs []Scenario
	for _, r := range rs {
		fmt.Fprintf(w, "== %s\n", r.Name)
		sc, err := r.Run(ctx, cfg)
		if err != nil {
			return scs, nil, fmt.Errorf("sim: %s: %w", r.Name, err)
		}
		scs = append(scs, sc)
		if err := WriteTable(w, cfg, []Scenario{sc}); err != nil {
			return scs, nil, err
		}
	}
	fmt.Fprintln(w, "\n== all scenarios")
	if err := WriteTable(w, cfg, scs); err != nil {
		return scs, nil, err
	}
	if dir == "" {
		return scs, nil, nil
	}
	paths, err := WritePlots(dir, scs)
	return scs, paths, err
}
