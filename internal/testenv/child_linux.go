package testenv

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes cmd, a server a test starts, killed by the kernel when
// the test process dies, even by SIGKILL or a timeout, so that no server is
// left running (Linux's parent-death signal; set before cmd.Start). The
// signal follows the thread that started cmd: Go keeps its threads while
// the process lives, unless a goroutine locked to one ends.
func DieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
