package sim

import (
	"os"
	"strconv"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func smallConfig() Config {
	c := DefaultConfig()
	c.N = 40
	c.Samples = 5
	return c
}

func TestPublishFound(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sc, err := PublishFound(ctx, smallConfig())
	require.NoError(t, err)
	t.Logf("%+v", sc.Rows)
	t.Logf("%+v", sc.Usage)
}

func TestColdVisit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sc, err := ColdVisit(ctx, smallConfig())
	require.NoError(t, err)
	t.Logf("%+v", sc.Rows)
	t.Logf("%+v", sc.Usage)
}

func TestAuthorAway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := smallConfig()
	c.Month = 4 * 24 * time.Hour
	c.Samples = 6
	if os.Getenv("SIM_CHURN") != "" {
		c.ChurnPerHour, _ = strconv.ParseFloat(os.Getenv("SIM_CHURN"), 64)
	}
	sc, err := AuthorAway(ctx, c)
	require.NoError(t, err)
	t.Logf("%+v", sc.Rows)
	t.Logf("%+v", sc.Series)
	t.Logf("%+v", sc.Usage)
}
