package app

import (
	"context"
	"fmt"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/page"
)

// Demo is the catalog a new local shop starts with.
var Demo = []catalog.Details{
	{Name: "IPhone X", Category: "Phone", Price: 950_00, ImageFile: "phone.svg", Description: "A phone with an edge-to-edge screen."},
	{Name: "Samsung 10", Category: "Phone", Price: 840_00, ImageFile: "phone.svg", Description: "A large AMOLED phone."},
	{Name: "Huawei Plus", Category: "Phone", Price: 650_00, ImageFile: "phone.svg", Description: "A phone with a triple camera."},
	{Name: "Xiaomi Mi 9", Category: "Phone", Price: 470_00, ImageFile: "phone.svg", Description: "A fast phone for little money."},
	{Name: "HTC U11+ Plus", Category: "Phone", Price: 380_00, ImageFile: "phone.svg", Description: "A phone you can squeeze."},
	{Name: "LG G7 ThinQ", Category: "Phone", Price: 240_00, ImageFile: "phone.svg", Description: "A phone with a loud speaker."},
	{Name: "MacBook Air 13", Category: "Laptop", Price: 1199_99, ImageFile: "laptop.svg", Description: "A thin and light laptop."},
	{Name: "ThinkPad X1 Carbon", Category: "Laptop", Price: 1549_00, ImageFile: "laptop.svg", Description: "A business laptop with a good keyboard."},
	{Name: "Dell XPS 15", Category: "Laptop", Price: 1399_50, ImageFile: "laptop.svg", Description: "A laptop with a 15-inch OLED screen."},
	{Name: "Sony WH-1000XM5", Category: "Headphones", Price: 349_99, ImageFile: "headphones.svg", Description: "Noise-cancelling over-ear headphones."},
	{Name: "AirPods Pro", Category: "Headphones", Price: 249_00, ImageFile: "headphones.svg", Description: "In-ear headphones with noise cancelling."},
	{Name: "Sennheiser HD 600", Category: "Headphones", Price: 299_95, ImageFile: "headphones.svg", Description: "Open-back studio headphones."},
	{Name: "Kindle Paperwhite", Category: "E-Reader", Price: 139_99, ImageFile: "e-reader.svg", Description: "A waterproof e-reader with a warm light."},
}

// LoadDemo creates the demo catalog through Create, so that its events flow like
// any other write, unless the catalog already holds a product. It returns how
// many products it created.
func (c *Catalog) LoadDemo(ctx context.Context) (int, error) {
	existing, err := c.store.List(ctx, page.Request{Limit: 1})
	if err != nil {
		return 0, err
	}
	if len(existing.Items) > 0 {
		return 0, nil
	}
	for i, d := range Demo {
		if _, err := c.Create(ctx, d); err != nil {
			return i, fmt.Errorf("demo product %q: %w", d.Name, err)
		}
	}
	return len(Demo), nil
}
