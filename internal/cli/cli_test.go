package cli

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// runCLI runs one command line in-process and returns its exit status and output.
func runCLI(t *testing.T, env *Env, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := *env
	e.Stdout, e.Stderr = &out, &errb
	if e.Stdin == nil {
		e.Stdin = bytes.NewReader(nil)
	}
	code := Run(context.Background(), args, &e)
	return code, out.String(), errb.String()
}

func testEnv(t *testing.T) *Env {
	t.Helper()
	repo := t.TempDir()
	return &Env{
		Getenv: func(k string) string {
			if k == "ISLAND_PATH" {
				return repo
			}
			return ""
		},
		Cwd: t.TempDir(),
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown command", []string{"frobnicate"}, exitUsage, "unknown command"},
		{"unknown flag", []string{"version", "--nope"}, exitUsage, "unknown flag"},
		{"extra argument", []string{"version", "x"}, exitUsage, "takes no arguments"},
		{"bad log level", []string{"--log-level", "loud", "version"}, exitUsage, "--log-level"},
		{"bad relay service", []string{"daemon", "--relay-service", "sometimes"}, exitUsage, `--relay-service "sometimes": want auto, on or off`},
		{"relay without peer ID", []string{"daemon", "--relay", "/ip4/192.0.2.1/tcp/4001"}, exitUsage, "--relay"},
		{"version", []string{"version"}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, testEnv(t), tt.args...)
			require.Equal(t, tt.code, code, stderr)
			require.Contains(t, stderr, tt.stderr)
		})
	}
}
