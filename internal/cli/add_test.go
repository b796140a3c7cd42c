package cli

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMemoryLimitFor(t *testing.T) {
	env := func(own bool, gomemlimit string) *Env {
		return &Env{OwnProcess: own, Getenv: func(k string) string {
			if k == "GOMEMLIMIT" {
				return gomemlimit
			}
			return ""
		}}
	}
	tests := []struct {
		name string
		env  *Env
		want int64
	}{
		{"own process", env(true, ""), addMemoryLimit},
		{"the user's GOMEMLIMIT wins", env(true, "1GiB"), 0},
		{"a process shared with others is left alone", env(false, ""), 0},
		{"no environment at all", &Env{OwnProcess: true}, addMemoryLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, memoryLimitFor(tt.env, addMemoryLimit))
		})
	}
	require.True(t, StdEnv().OwnProcess, "the real binary's Env owns its process")
}

func TestGCPercentFor(t *testing.T) {
	env := func(own bool, gogc string) *Env {
		return &Env{OwnProcess: own, Getenv: func(k string) string {
			if k == "GOGC" {
				return gogc
			}
			return ""
		}}
	}
	tests := []struct {
		name string
		env  *Env
		want int
	}{
		{"own process", env(true, ""), publishGCPercent},
		{"the user's GOGC wins", env(true, "50"), 0},
		{"a process shared with others is left alone", env(false, ""), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, gcPercentFor(tt.env, publishGCPercent))
		})
	}
}
