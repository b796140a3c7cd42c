package core_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/core/coretest"
)

// openCore opens an offline Core on a fresh repo.
func openCore(t *testing.T) core.API {
	t.Helper()
	cfg := core.DefaultConfig()
	cfg.RepoPath = t.TempDir()
	c, err := core.Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

func TestCore(t *testing.T) { coretest.Run(t, openCore) }
