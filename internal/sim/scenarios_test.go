//go:build !race

package sim

import (
	"testing"
	"time"
)

// TestScenarios runs every scenario, both behaviours, on a small network
// as a test of the simulator itself. `make test` runs it in a second,
// race-free pass (hence the build constraint): 50 in-process nodes under
// the race detector cost minutes of both cores, while the code they run is
// raced in its own packages' tests (node, names, namesps, follow).
func TestScenarios(t *testing.T) {
	checkScenarios(t, smallConfig(), 4*time.Minute)
}
