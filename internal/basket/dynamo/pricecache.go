package dynamo

import (
	"sync"
	"time"

	"github.com/eventshop/eventshop/internal/basket"
)

// PriceTTL is how long a store answers from a price it has read, without
// reading it again: what DAX does for eventually consistent reads, in the
// function itself. The view is a projection that trails the catalog by the
// time its events take, and its reads are eventually consistent; a second
// more changes no guarantee (an order is priced from the view as the server
// holds it, never from the client) and saves a round trip on every basket
// write and checkout whose products were priced in the last second.
const PriceTTL = time.Second

// priceCacheMax bounds the prices a store keeps; when full it starts afresh.
const priceCacheMax = 10_000

type cachedPrice struct {
	price basket.Price
	read  time.Time
}

// priceCache is the prices a store read, with when it read them. A price
// that was missing is not kept: a product new to the view is found as soon
// as the view has it.
type priceCache struct {
	mu     sync.Mutex
	now    func() time.Time
	prices map[string]cachedPrice
}

// get returns the fresh prices of ids, and the ids it has none for.
func (c *priceCache) get(ids []string) (map[string]basket.Price, []string) {
	out := make(map[string]basket.Price, len(ids))
	var missing []string
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for _, id := range ids {
		if p, ok := c.prices[id]; ok && now.Sub(p.read) < PriceTTL {
			out[id] = p.price
		} else {
			missing = append(missing, id)
		}
	}
	return out, missing
}

// put keeps prices, read at read.
func (c *priceCache) put(read time.Time, prices map[string]basket.Price) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prices == nil || len(c.prices)+len(prices) > priceCacheMax {
		c.prices = make(map[string]cachedPrice, len(prices))
	}
	for id, p := range prices {
		c.prices[id] = cachedPrice{price: p, read: read}
	}
}

// forget drops id's price: this store just wrote it.
func (c *priceCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.prices, id)
}
