package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventshop/eventshop/internal/testenv"
)

// TestReadmeTour pastes the README's tour, as one block, into bash beside a
// running shop, as a newcomer would: it must run through, waiting where an
// event has to arrive, and end with alice's placed order.
func TestReadmeTour(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, "%s is needed to run the tour (.ci/run installs it): %v", tool, err)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "```sh\nADMIN=")
	tour, _, ok2 := strings.Cut(after, "```")
	if !ok || !ok2 {
		t.Fatal("the README has no tour block starting with ADMIN=")
	}
	tour = "ADMIN=" + tour

	work := t.TempDir()
	p := launch(t, filepath.Join(work, "data"))
	host := strings.TrimPrefix(p.base, "http://")
	tour = strings.ReplaceAll(tour, "./bin/shop", shopBin)
	tour = strings.ReplaceAll(tour, "localhost:8080", host)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", tour)
	cmd.Dir = work // the tour's shop token reads ./data
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the tour failed: %v\n%s", err, out)
	}
	for _, want := range []string{`"totalPrice":59.97`, `"status":"PLACED"`, `"userName":"alice"`} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("the tour's output lacks %s:\n%s", want, out)
		}
	}
}
