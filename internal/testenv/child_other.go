//go:build !linux

package testenv

import "os/exec"

// DieWithParent does nothing where the kernel has no parent-death signal:
// the tests' cleanups still stop their servers when the tests end normally.
func DieWithParent(*exec.Cmd) {}
