package services

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/wiring"
)

func TestTheServicesAreWhole(t *testing.T) {
	if err := Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := Names(), []string{events.ServiceCatalog, events.ServiceBasket, events.ServiceOrdering, events.ServiceInventory, events.ServicePayment}; !slices.Equal(got, want) {
		t.Errorf("services %v, want %v", got, want)
	}
}

// A service registered only in part fails Validate, which says what is
// missing.
func TestAHalfRegisteredServiceFails(t *testing.T) {
	without := func(name string) []wiring.Service {
		return slices.DeleteFunc(slices.Clone(All), func(s wiring.Service) bool { return s.Name == name })
	}
	with := func(change func(*wiring.Service)) []wiring.Service {
		all := slices.Clone(All)
		s := all[len(all)-1]
		change(&s)
		all[len(all)-1] = s
		return all
	}
	extra := wiring.Service{Name: "wishlist", Tables: []wiring.Table{{Env: "WISH_TABLE", ID: "WishTable", Name: "wishes", Input: IdempotencyTable.Input}},
		API: &wiring.API{Grants: []wiring.Grant{{Table: "WISH_TABLE"}}, Build: func(wiring.Dynamo) func(*http.ServeMux) { return nil }}}
	for _, c := range []struct {
		name string
		all  []wiring.Service
		want string
	}{
		{"a rule's consumer not listed", without(events.ServicePayment), `read by "payment"`},
		{"a publisher not listed", without(events.ServiceCatalog), `published by "catalog"`},
		{"listed twice", append(slices.Clone(All), All[0]), "listed twice"},
		{"an API without routes", append(slices.Clone(All), extra), "no routes"},
		{"a consumer no rule feeds", with(func(s *wiring.Service) {
			s.Name = "wishlist"
			s.Tables = nil
		}), "no rule sends it events"},
		{"a grant on another's table", with(func(s *wiring.Service) {
			s.Consumer = &wiring.Consumer{Grants: []wiring.Grant{{Table: "ORDER_TABLE"}}, Build: func(wiring.Dynamo) *eventbus.Consumer { return nil }}
		}), "not one of its tables"},
		{"a consumer without a build", with(func(s *wiring.Service) { s.Consumer = &wiring.Consumer{} }), "has no Build"},
		{"two outbox tables", with(func(s *wiring.Service) {
			s.Tables = append(slices.Clone(s.Tables), wiring.Table{Env: "X_TABLE", ID: "XTable", Name: "x", Input: IdempotencyTable.Input, Outbox: true})
		}), "at most one"},
		{"a table declared twice", with(func(s *wiring.Service) { s.Tables = append(slices.Clone(s.Tables), ParkedTable) }), "declared twice"},
	} {
		err := validate(c.all)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

// Every function's name is unique, and each service's are named after it.
func TestFunctions(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Functions() {
		if seen[f.Name] {
			t.Errorf("function %s twice", f.Name)
		}
		seen[f.Name] = true
	}
	for _, want := range []string{"catalog-api", "basket-api", "basket-consumer", "ordering-api", "ordering-consumer", "inventory-api",
		"inventory-consumer", "payment-consumer", "outbox-publisher", "outbox-republish", "cognito-pre-signup"} {
		if !seen[want] {
			t.Errorf("no function %s", want)
		}
	}
	if len(seen) != 11 {
		t.Errorf("%d functions, want 11", len(seen))
	}
}
