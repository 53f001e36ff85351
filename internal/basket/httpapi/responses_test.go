package httpapi_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// The API's answers, byte for byte: what the OpenAPI document and the
// clients built on it read.
func TestResponsesArePinned(t *testing.T) {
	h := handler(t)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/basket", strings.NewReader(`{"items":[{"productId":"p1","quantity":2,"color":"red"},{"productId":"p1","quantity":1}]}`))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	basket := `{"userName":"alice","items":[{"productId":"p1","productName":"Widget","color":"red","quantity":2,"unitPrice":19.99,"lineTotal":39.98},` +
		`{"productId":"p1","productName":"Widget","quantity":1,"unitPrice":19.99,"lineTotal":19.99}],"totalPrice":59.97,"version":1}`
	if got := strings.TrimSpace(rec.Body.String()); got != basket {
		t.Errorf("POST /basket → %d %s\nwant %s", rec.Code, got, basket)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/basket/alice", nil))
	if got := strings.TrimSpace(rec.Body.String()); got != basket {
		t.Errorf("GET /basket/alice → %d %s\nwant %s", rec.Code, got, basket)
	}
}
