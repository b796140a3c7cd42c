//go:build !linux

package testutil

import "os/exec"

// DieWithTest is a no-op where the kernel cannot tie a child's life to its
// parent's; t.Cleanup still stops the processes of a test that ends normally.
func DieWithTest(cmd *exec.Cmd) *exec.Cmd { return cmd }
