package main

import (
	"slices"
	"strconv"
	"testing"
)

func TestServersGetTwoCPUsOfTheirOwnWhereThereAreFour(t *testing.T) {
	for _, c := range []struct {
		cpus          []int
		servers, load []int
		wrk           []string
	}{
		{cpus: []int{0, 1}, wrk: []string{"wrk", "--threads", "1"}},
		{cpus: []int{0, 1, 2}, wrk: []string{"wrk", "--threads", "1"}},
		{cpus: []int{0, 1, 2, 3}, servers: []int{0, 1}, load: []int{2, 3},
			wrk: []string{"taskset", "--cpu-list", "2,3", "wrk", "--threads", "2"}},
		{cpus: []int{4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, servers: []int{4, 5}, load: []int{8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
			wrk: []string{"taskset", "--cpu-list", "8,9,10,11,12,13,14,15,16,17", "wrk", "--threads", "8"}},
	} {
		got := split(c.cpus)
		if !slices.Equal(got.servers, c.servers) || !slices.Equal(got.load, c.load) || got.all != len(c.cpus) {
			t.Errorf("split(%v) = %+v, want servers %v, load %v", c.cpus, got, c.servers, c.load)
		}
		if args := got.wrk(64, "url").Args; !slices.Equal(args[:len(args)-1], c.wrk) {
			t.Errorf("with %v: wrk runs as %v, want %v url", c.cpus, args, c.wrk)
		}
		server := got.server("shop", "serve").Args
		want := []string{"shop", "serve"}
		if c.servers != nil {
			want = append([]string{"taskset", "--cpu-list", list(c.servers)}, want...)
		}
		if !slices.Equal(server, want) {
			t.Errorf("with %v: the shop runs as %v, want %v", c.cpus, server, want)
		}
	}
	if got := split(make([]int, 16)).wrk(2, "url").Args; !slices.Contains(got, "2") || slices.Contains(got, "8") {
		t.Errorf("wrk with 2 connections runs as %v: no more threads than connections", got)
	}
}

func TestPlacementReadsThisProcesssCPUs(t *testing.T) {
	c, err := placement()
	if err != nil {
		t.Fatal(err)
	}
	if c.all < 1 || (c.all >= 4) != (c.servers != nil) {
		t.Errorf("placement() = %+v", c)
	}
}

// TestOnPinsTheCommand runs a command through on, pinned to one CPU this
// process may use, and reads its affinity back from the kernel.
func TestOnPinsTheCommand(t *testing.T) {
	cpus, err := usable()
	if err != nil || len(cpus) == 0 {
		t.Fatalf("usable() = %v, %v", cpus, err)
	}
	out, err := on(cpus[len(cpus)-1:], "grep", "^Cpus_allowed_list:", "/proc/self/status").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "Cpus_allowed_list:\t" + strconv.Itoa(cpus[len(cpus)-1]) + "\n"; string(out) != want {
		t.Errorf("the pinned command's status says %q, want %q", out, want)
	}
}
