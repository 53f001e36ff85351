package httpapi_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// The API's answers, byte for byte: what the OpenAPI document and the
// clients built on it read.
func TestResponsesArePinned(t *testing.T) {
	h, p := handler(t)
	product := `{"id":"ID","name":"Seed","description":"","imageFile":"","category":"Tools","price":1.00,"version":1}`
	for path, want := range map[string]string{
		"/product/" + p.ID:        product,
		"/product?limit=1":        `{"items":[` + product + `]}`,
		"/product?category=Tools": `{"items":[` + product + `]}`,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if got := strings.ReplaceAll(strings.TrimSpace(rec.Body.String()), p.ID, "ID"); rec.Code != 200 || got != want {
			t.Errorf("GET %s → %d %s\nwant 200 %s", path, rec.Code, got, want)
		}
	}
}
