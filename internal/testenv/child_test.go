//go:build linux

package testenv_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/eventshop/eventshop/internal/testenv"
	"github.com/eventshop/eventshop/internal/waittest"
)

// A server started with DieWithParent dies with the process that started
// it, killed: here a child of a re-executed test binary, which starts a
// long sleep, prints its pid and is SIGKILLed.
func TestAChildDiesWithItsParent(t *testing.T) {
	if os.Getenv("TESTENV_PARENT") != "" {
		child := exec.Command("sleep", "300")
		testenv.DieWithParent(child)
		if err := child.Start(); err != nil {
			fmt.Println("start:", err)
			os.Exit(1)
		}
		fmt.Println(child.Process.Pid)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL) // no cleanup runs
	}
	parent := exec.Command(os.Args[0], "-test.run=^TestAChildDiesWithItsParent$")
	parent.Env = append(os.Environ(), "TESTENV_PARENT=1")
	out, _ := parent.Output() // it is killed
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("the parent printed %q: %v", out, err)
	}
	waittest.For(t, "the child to be gone", func() bool {
		return syscall.Kill(pid, 0) == syscall.ESRCH
	})
}
