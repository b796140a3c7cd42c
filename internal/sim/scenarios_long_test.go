//go:build integration

package sim

import (
	"testing"
	"time"
)

// TestScenariosLong is the simulator at the Internet's round trips on a
// larger network, with more samples and a longer month: minutes under
// -race on two cores; `make test-integration` runs it beside the small
// version (TestScenarios).
func TestScenariosLong(t *testing.T) {
	cfg := DefaultConfig()
	cfg.N = 60
	cfg.Samples = 4
	cfg.Visits = 12
	cfg.Month = 4 * 24 * time.Hour
	cfg.Sites, cfg.BlocksPerSite = 4, 100
	cfg.Followers = []int{0, 1, 3}
	checkScenarios(t, cfg, 20*time.Minute)
}
