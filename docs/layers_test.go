package docs_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// services are the trees of the shop's services, whose insides have
// layers of their own.
var services = []string{"catalog", "basket", "ordering", "inventory", "payment"}

// layers reads architecture.md's list of layers: each tree's layer, lowest 0.
func layers(t *testing.T) map[string]int {
	t.Helper()
	b, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(b), "<!-- layers: the test reads this block -->\n```text\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("architecture.md has no layers block")
	}
	out := map[string]int{}
	for i, line := range strings.Split(strings.TrimSpace(block), "\n") {
		_, trees, _ := strings.Cut(line, ":")
		for _, tree := range strings.Fields(trees) {
			if _, twice := out[tree]; twice {
				t.Errorf("%s is in two layers", tree)
			}
			out[tree] = i
		}
	}
	return out
}

// imports lists each package of the module (tests' own imports aside)
// with the module's packages it imports, by path within the module.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./internal/...", "./cmd/...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/eventshop/eventshop/"
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		from := strings.TrimPrefix(f[0], module)
		graph[from] = nil
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, module) {
				graph[from] = append(graph[from], strings.TrimPrefix(imp, module))
			}
		}
	}
	return graph
}

// treeOf is the tree a package belongs to: internal/<tree>/..., or cmd/<command>.
func treeOf(pkg string) (tree, rest string) {
	parts := strings.Split(pkg, "/")
	if parts[0] == "internal" {
		return parts[1], strings.Join(parts[2:], "/")
	}
	return strings.Join(parts[:min(2, len(parts))], "/"), strings.Join(parts[min(2, len(parts)):], "/")
}

// TestLayers holds the import graph to architecture.md's layers: a tree
// imports trees of lower layers only, and within a service the domain,
// app and adapters read one way.
func TestLayers(t *testing.T) {
	layer := layers(t)
	graph := imports(t)
	if len(graph) == 0 {
		t.Fatal("go list listed no package")
	}
	for pkg, imps := range graph {
		from, inside := treeOf(pkg)
		lf, ok := layer[from]
		if !ok {
			t.Errorf("%s: its tree %s is in no layer of architecture.md", pkg, from)
			continue
		}
		for _, imp := range imps {
			to, impInside := treeOf(imp)
			if to == from {
				if slices.Contains(services, from) {
					if why := serviceRule(inside, impInside); why != "" {
						t.Errorf("%s imports %s: %s", pkg, imp, why)
					}
				}
				continue
			}
			if lt, ok := layer[to]; ok && lt >= lf {
				t.Errorf("%s (layer %d) imports %s (layer %d): a tree may import lower layers only", pkg, lf, imp, lt)
			}
		}
	}
}

// serviceRule says what is wrong with a service's package (inside it: ""
// for the domain) importing another of the same service, or "".
func serviceRule(from, to string) string {
	rank := func(p string) int {
		switch p {
		case "":
			return 0 // the domain
		case "record":
			return 1
		case "app":
			return 2
		case "wire":
			return 4 // the descriptor, which builds the service from its adapters
		}
		return 3 // an adapter
	}
	switch rf, rt := rank(from), rank(to); {
	case rf <= rt && !(rf == 3 && rt == 3):
		return "the domain, its records and app import only what is below them"
	case rf == 3 && rt == 3:
		return "an adapter imports no other adapter"
	}
	return ""
}

// The rules can fail: an import up a layer, into another adapter, or into
// app from the domain, is named.
func TestLayerRulesCatchWhatTheyForbid(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{"", "app", "below"}, {"app", "httpapi", "below"}, {"sqlite", "dynamo", "no other adapter"}, {"record", "app", "below"}, {"httpapi", "wire", "below"},
	} {
		if got := serviceRule(c.from, c.to); !strings.Contains(got, c.want) {
			t.Errorf("%q importing %q: %q, want it refused (%s)", c.from, c.to, got, c.want)
		}
	}
	for _, c := range [][2]string{{"httpapi", "app"}, {"app", ""}, {"dynamo", "record"}, {"consumer", ""}, {"wire", "sqlite"}, {"wire", "httpapi"}} {
		if got := serviceRule(c[0], c[1]); got != "" {
			t.Errorf("%q importing %q refused: %s", c[0], c[1], got)
		}
	}
	layer := layers(t)
	if layer["rest"] <= layer["auth"] || layer["catalog"] <= layer["rest"] || layer["localapp"] <= layer["catalog"] || layer["catalog"] <= layer["wiring"] || layer["services"] <= layer["catalog"] {
		t.Errorf("the layers put rest at %d, auth %d, wiring %d, catalog %d, services %d, localapp %d: not as the design says",
			layer["rest"], layer["auth"], layer["wiring"], layer["catalog"], layer["services"], layer["localapp"])
	}
}

// No domain type carries a wire format: the domain packages' struct fields
// have no json or dynamodbav tag. The HTTP adapters answer with types of
// their own, the stores keep records of their own.
func TestNoDomainTypeHasAWireTag(t *testing.T) {
	for _, svc := range services {
		files, err := filepath.Glob(filepath.Join("..", "internal", svc, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no domain files (%v)", svc, err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if field, ok := n.(*ast.Field); ok && field.Tag != nil {
					tag := reflect.StructTag(strings.Trim(field.Tag.Value, "`"))
					for _, key := range []string{"json", "dynamodbav"} {
						if _, ok := tag.Lookup(key); ok {
							t.Errorf("%s: field %v has a %s tag", file, field.Names, key)
						}
					}
				}
				return true
			})
		}
	}
}
