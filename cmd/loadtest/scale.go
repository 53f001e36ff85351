package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/eventshop/eventshop/internal/catalog"
	catalogsqlite "github.com/eventshop/eventshop/internal/catalog/sqlite"
	"github.com/eventshop/eventshop/internal/money"
	"github.com/eventshop/eventshop/internal/ordering"
	orderingsqlite "github.com/eventshop/eventshop/internal/ordering/sqlite"
)

// The scale phase: a shop whose catalog holds scaleProducts products in
// scaleCategories categories and whose orders table holds scaleOrders orders
// of scaleUsers users, read at random.
const (
	scaleProducts   = 100_000
	scaleCategories = 100
	scaleOrders     = 100_000
	scaleUsers      = 1_000
)

// scale seeds a data directory, serves it, reads products, category pages
// and users' order lists at random over it with conns connections for dur,
// and reports the shop's peak RSS and the reads' figures.
func scale(shopBin, dir string, conns int, dur time.Duration) ([]row, error) {
	data := filepath.Join(dir, "scale")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	fmt.Printf("seeding %d products and %d orders\n", scaleProducts, scaleOrders)
	ctx := context.Background()
	if err := catalogsqlite.Seed(ctx, filepath.Join(data, "catalog.db"), scaleProducts, seedProduct); err != nil {
		return nil, fmt.Errorf("seed products: %w", err)
	}
	if err := orderingsqlite.Seed(ctx, filepath.Join(data, "ordering.db"), scaleOrders, seedOrder); err != nil {
		return nil, fmt.Errorf("seed orders: %w", err)
	}
	url, proc, err := startShopOn(shopBin, data)
	if err != nil {
		return nil, err
	}
	defer proc.Process.Kill()
	var targets []vegeta.Target
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		targets = append(targets, vegeta.Target{Method: "GET", URL: url + "/product/" + productID(rng.IntN(scaleProducts))})
	}
	for range 2_000 {
		targets = append(targets, vegeta.Target{Method: "GET", URL: fmt.Sprintf("%s/product?category=Category+%d&limit=20", url, rng.IntN(scaleCategories))})
	}
	for i := range 100 { // a tenth of the users, each reading their own orders
		user := fmt.Sprintf("user%d", i*scaleUsers/100)
		token, err := signIn(url, user)
		if err != nil {
			return nil, err
		}
		targets = append(targets, vegeta.Target{Method: "GET", URL: url + "/order/" + user + "?limit=20",
			Header: http.Header{"Authorization": {"Bearer " + token}}})
	}
	rng.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	fmt.Println("reading it at random")
	a := vegeta.NewAttacker(vegeta.Workers(uint64(conns)), vegeta.MaxWorkers(uint64(conns)), vegeta.Connections(conns), vegeta.KeepAlive(true))
	var m vegeta.Metrics
	for res := range a.Attack(vegeta.NewStaticTargeter(targets...), vegeta.Rate{Freq: 0}, dur, "scale") {
		m.Add(res)
	}
	m.Close()
	if m.Success < 1 {
		return nil, fmt.Errorf("scale reads: %.2f%% succeeded (%v)", m.Success*100, m.StatusCodes)
	}
	rss, err := peakRSS(proc.Process.Pid)
	if err != nil {
		return nil, err
	}
	figure := fmt.Sprintf("shop's peak RSS, %dk products and %dk orders read at random", scaleProducts/1000, scaleOrders/1000)
	return []row{
		{figure: figure, shop: fmt.Sprintf("%.0f MB", rss/1e6), target: "≤ 64 MB", met: rss <= 64e6},
		{figure: "  its reads/s, latency p50 / p99", shop: fmt.Sprintf("%.0f, %s / %s", m.Throughput, ms(m.Latencies.P50), ms(m.Latencies.P99))},
	}, nil
}

func productID(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-000000000000", i) }

func seedProduct(i int) catalog.Product {
	return catalog.Product{ID: productID(i), Name: fmt.Sprintf("Product %d", i), Description: "A product of the seeded catalog, described in a sentence or two for its page.",
		ImageFile: "product.png", Category: fmt.Sprintf("Category %d", i%scaleCategories), Price: money.Cents(100 + i%10_000), Version: 1}
}

func seedOrder(i int) ordering.Order {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	p := i % scaleProducts
	return ordering.Order{
		OrderID: fmt.Sprintf("%08x-0000-7000-8000-000000000000", i), UserName: fmt.Sprintf("user%d", i%scaleUsers), Status: ordering.StatusPaid,
		Lines:      []ordering.Line{{ProductID: productID(p), ProductName: fmt.Sprintf("Product %d", p), Quantity: 2, UnitPrice: 1999, LineTotal: 3998}},
		TotalPrice: 3998, FirstName: "Load", LastName: "Test", Email: "load@example.com", Address: "1 Bench St", PaymentMethod: "invoice",
		OrderDate: at, Version: 3,
		History: []ordering.Change{{Status: ordering.StatusPlaced, At: at}, {Status: ordering.StatusReserved, At: at}, {Status: ordering.StatusPaid, At: at}},
	}
}
