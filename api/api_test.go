package api_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/eventshop/eventshop/api"
	"github.com/eventshop/eventshop/internal/auth"
	baskethttp "github.com/eventshop/eventshop/internal/basket/httpapi"
	cataloghttp "github.com/eventshop/eventshop/internal/catalog/httpapi"
	"github.com/eventshop/eventshop/internal/console"
	"github.com/eventshop/eventshop/internal/devsignin"
	inventoryhttp "github.com/eventshop/eventshop/internal/inventory/httpapi"
	bushttp "github.com/eventshop/eventshop/internal/localbus/httpapi"
	"github.com/eventshop/eventshop/internal/ordering"
	orderinghttp "github.com/eventshop/eventshop/internal/ordering/httpapi"
	"github.com/eventshop/eventshop/internal/rest"
	tracehttp "github.com/eventshop/eventshop/internal/telemetry/httpapi"
)

// TestSpecIsValid loads the document with an OpenAPI 3 validator: every
// reference resolves and every schema is well formed.
func TestSpecIsValid(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

type operation struct {
	OperationID string                 `yaml:"operationId"`
	Security    *[]map[string][]string `yaml:"security"`
	Responses   map[string]any         `yaml:"responses"`
	Parameters  []struct {
		Ref string `yaml:"$ref"`
	} `yaml:"parameters"`
}

func (op operation) takesIdempotencyKey() bool {
	return slices.ContainsFunc(op.Parameters, func(p struct {
		Ref string `yaml:"$ref"`
	}) bool {
		return p.Ref == "#/components/parameters/idempotencyKey"
	})
}

// TestSpecMatchesRoutes holds the document to the code: the same routes, and
// a security requirement on exactly the routes that need a token.
func TestSpecMatchesRoutes(t *testing.T) {
	var doc struct {
		Security []map[string][]string           `yaml:"security"`
		Paths    map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Security) != 1 || doc.Security[0]["bearer"] == nil {
		t.Fatalf("the default security is %v, want bearer", doc.Security)
	}
	specOps := map[string]operation{}
	for path, item := range doc.Paths {
		for method, node := range item {
			if method == "parameters" {
				continue
			}
			var op operation
			if err := node.Decode(&op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			specOps[strings.ToUpper(method)+" "+path] = op
		}
	}
	var routes []rest.Route
	for _, rs := range [][]rest.Route{cataloghttp.Routes(), baskethttp.Routes(), orderinghttp.Routes(), inventoryhttp.Routes(), bushttp.Routes(), tracehttp.Routes(), console.Routes(), devsignin.Routes()} {
		routes = append(routes, rs...)
	}
	var served, documented []string
	for _, r := range routes {
		key := r.Method + " " + r.Path
		served = append(served, key)
		op, ok := specOps[key]
		if !ok {
			continue
		}
		public := op.Security != nil && len(*op.Security) == 0
		if public != (r.Access == auth.Public) {
			t.Errorf("%s: documented public = %v, served with access %v", key, public, r.Access)
		}
		if r.Access != auth.Public && op.Responses["401"] == nil {
			t.Errorf("%s needs a token but documents no 401", key)
		}
		if r.Access == auth.Admin && op.Responses["403"] == nil {
			t.Errorf("%s is for admins but documents no 403", key)
		}
		if op.takesIdempotencyKey() != r.Idempotent {
			t.Errorf("%s: documents an Idempotency-Key = %v, served idempotent = %v", key, op.takesIdempotencyKey(), r.Idempotent)
		}
		if op.OperationID == "" {
			t.Errorf("%s has no operationId", key)
		}
	}
	for key := range specOps {
		documented = append(documented, key)
	}
	sort.Strings(served)
	sort.Strings(documented)
	if !slices.Equal(served, documented) {
		t.Fatalf("documented %v\nserved     %v", documented, served)
	}
}

// The document's order statuses and cancel reasons are the domain's.
func TestSpecEnumsAreTheDomains(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	enum := func(s *openapi3.Schema) []string {
		var out []string
		for _, v := range s.Enum {
			out = append(out, v.(string))
		}
		return out
	}
	order := doc.Components.Schemas["Order"].Value
	param := doc.Paths.Value("/order").Get.Parameters.GetByInAndName("query", "status")
	if param == nil {
		t.Fatal("GET /order takes no status")
	}
	for _, c := range []struct {
		name      string
		got, want []string
	}{
		{"Order.status", enum(order.Properties["status"].Value), ordering.Statuses},
		{"GET /order's status", enum(param.Schema.Value), ordering.Statuses},
		{"Order.cancelReason", enum(order.Properties["cancelReason"].Value), ordering.CancelReasons},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s enumerates %v, the domain %v", c.name, c.got, c.want)
		}
	}
}
