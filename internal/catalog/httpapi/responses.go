package httpapi

import (
	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/money"
)

// product is a product as the API answers it (api/openapi.yaml's Product).
type product struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	ImageFile   string      `json:"imageFile"`
	Category    string      `json:"category"`
	Price       money.Cents `json:"price"`
	Version     int64       `json:"version"`
}

func productOf(p catalog.Product) product { return product(p) }
