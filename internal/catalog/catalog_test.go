package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/eventshop/eventshop/internal/catalog"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/validation"
)

func TestDetailsValidate(t *testing.T) {
	ok := catalog.Details{Name: "Widget", Category: "Tools", Price: 1999}
	tests := []struct {
		name   string
		change func(*catalog.Details)
		field  string // "" means valid
	}{
		{"valid", func(*catalog.Details) {}, ""},
		{"name of 200", func(d *catalog.Details) { d.Name = strings.Repeat("n", 200) }, ""},
		{"name of 201", func(d *catalog.Details) { d.Name = strings.Repeat("n", 201) }, "name"},
		{"no name", func(d *catalog.Details) { d.Name = "" }, "name"},
		{"description of 2000", func(d *catalog.Details) { d.Description = strings.Repeat("d", 2000) }, ""},
		{"description of 2001", func(d *catalog.Details) { d.Description = strings.Repeat("d", 2001) }, "description"},
		{"image file of 200", func(d *catalog.Details) { d.ImageFile = strings.Repeat("i", 200) }, ""},
		{"image file of 201", func(d *catalog.Details) { d.ImageFile = strings.Repeat("i", 201) }, "imageFile"},
		{"category of 64", func(d *catalog.Details) { d.Category = strings.Repeat("c", 64) }, ""},
		{"category of 65", func(d *catalog.Details) { d.Category = strings.Repeat("c", 65) }, "category"},
		{"no category", func(d *catalog.Details) { d.Category = "" }, "category"},
		{"one cent", func(d *catalog.Details) { d.Price = 1 }, ""},
		{"free", func(d *catalog.Details) { d.Price = 0 }, "price"},
		{"negative", func(d *catalog.Details) { d.Price = -1 }, "price"},
		{"the most", func(d *catalog.Details) { d.Price = money.MaxPrice }, ""},
		{"a cent more", func(d *catalog.Details) { d.Price = money.MaxPrice + 1 }, "price"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ok
			tt.change(&d)
			err := d.Validate()
			var verr *validation.Error
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("unexpected %v", err)
			case tt.field != "" && (!errors.As(err, &verr) || verr.Field != tt.field):
				t.Fatalf("error = %v, want one naming %s", err, tt.field)
			}
		})
	}
}

func TestApplyKeepsIdentity(t *testing.T) {
	p := catalog.Product{ID: "p1", Name: "Old", Description: "old", ImageFile: "old.png", Category: "Old", Price: 1, Version: 4}
	d := catalog.Details{Name: "New", Description: "new", ImageFile: "new.png", Category: "New", Price: 2}
	got := p.Apply(d)
	want := catalog.Product{ID: "p1", Name: "New", Description: "new", ImageFile: "new.png", Category: "New", Price: 2, Version: 4}
	if got != want {
		t.Fatalf("Apply = %+v, want %+v", got, want)
	}
}
