//go:build !linux

package resident

// dropExecutable does nothing where the mappings cannot be read.
func dropExecutable() (int64, error) { return 0, nil }
