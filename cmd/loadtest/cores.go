package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// cores is where the load test runs its servers and its load generator.
type cores struct {
	servers, load []int // CPU numbers; both nil when everything shares the machine
	all           int   // the CPUs this process may use
}

// placement splits the CPUs this process may use: with four or more, each
// server gets the first two to itself (the project's target size) and wrk
// the others, as the issue measured; with fewer, all share them.
func placement() (cores, error) {
	cpus, err := usable()
	if err != nil {
		return cores{}, err
	}
	return split(cpus), nil
}

// usable lists the CPUs this process may use.
func usable() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("read the CPUs this process may use: %w", err)
	}
	var cpus []int
	for i := range len(set) * 64 {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}

func split(cpus []int) cores {
	if len(cpus) < 4 {
		return cores{all: len(cpus)}
	}
	return cores{servers: cpus[:2], load: cpus[2:], all: len(cpus)}
}

func (c cores) String() string {
	if c.servers == nil {
		return fmt.Sprintf("the servers and the load generator share this machine's %d CPUs", c.all)
	}
	return fmt.Sprintf("each server on CPUs %s, wrk on CPUs %s", list(c.servers), list(c.load))
}

// server returns the command that runs a server, on the servers' CPUs.
func (c cores) server(name string, args ...string) *exec.Cmd { return on(c.servers, name, args...) }

// wrk returns the command that runs wrk with args after its thread count, on
// the load's CPUs: one thread per CPU (at most 8, and no more than the
// connections), or one thread when it shares the servers' CPUs (two gave
// both servers a worse p99 on two cores).
func (c cores) wrk(conns int, args ...string) *exec.Cmd {
	threads := max(1, min(len(c.load), 8, conns))
	return on(c.load, "wrk", append([]string{"--threads", strconv.Itoa(threads)}, args...)...)
}

// on runs name on cpus with taskset, or anywhere when cpus is nil.
func on(cpus []int, name string, args ...string) *exec.Cmd {
	if cpus == nil {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"--cpu-list", list(cpus), name}, args...)...)
}

func list(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}
