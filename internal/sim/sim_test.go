package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSelect(t *testing.T) {
	for _, tc := range []struct {
		list string
		want []string
		err  string
	}{
		{list: "", want: []string{"publish-found", "cold-visit", "author-away", "many-sites"}},
		{list: "all", want: []string{"publish-found", "cold-visit", "author-away", "many-sites"}},
		{list: "cold-visit, many-sites", want: []string{"cold-visit", "many-sites"}},
		{list: "cold", err: `no scenario "cold"`},
	} {
		t.Run(tc.list, func(t *testing.T) {
			rs, err := Select(tc.list)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, r := range rs {
				got = append(got, r.Name)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		err  string
	}{
		{"too small", func(c *Config) { c.N = 5 }, "N 5"},
		{"rtt order", func(c *Config) { c.RTT.Min = time.Second }, "RTT"},
		{"churn", func(c *Config) { c.ChurnPerHour = 1 }, "churn"},
		{"scale", func(c *Config) { c.TimeScale = 0.5 }, "time scale"},
		{"visits", func(c *Config) { c.Visits = 0 }, "visits 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			require.ErrorContains(t, c.validate(), tc.err)
		})
	}
	require.NoError(t, DefaultConfig().validate())
}
