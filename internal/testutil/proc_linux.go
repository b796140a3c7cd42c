package testutil

import (
	"os/exec"
	"syscall"
)

// DieWithTest makes the process cmd starts get SIGKILL when the test
// process ends, however it ends: a test binary killed by its -timeout runs
// no t.Cleanup, and daemons it started would otherwise live on, holding
// ports and CPU for the next run.
func DieWithTest(cmd *exec.Cmd) *exec.Cmd {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	return cmd
}
