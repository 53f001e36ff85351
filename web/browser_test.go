package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/eventshop/eventshop/internal/eventbus"
	"github.com/eventshop/eventshop/internal/events"
	"github.com/eventshop/eventshop/internal/localapp"
	"github.com/eventshop/eventshop/internal/localapp/localapptest"
	"github.com/eventshop/eventshop/internal/testenv"
	"github.com/eventshop/eventshop/internal/waittest"
)

// chromium finds Debian's chromium (CHROMIUM overrides); with CI=true a
// missing browser fails the test instead of skipping it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	testenv.Missing(t, "no chromium: apt-get install -y chromium (.ci/run does)")
	return ""
}

type shop struct {
	*localapptest.Shop
	url string // the shop's base URL, which every page the test opens begins with
}

// start runs the whole local shop with the demo catalog, its development
// sign-in on, behind a test server.
func start(t *testing.T) *shop {
	t.Helper()
	s := localapptest.Start(t, localapp.Config{DataDir: t.TempDir(), Demo: true, DevSignIn: true})
	return &shop{Shop: s, url: s.Server.URL}
}

// call is the API as the test sees it, beside the browser: the answer's
// status, and its body decoded into out when it succeeded.
func (s *shop) call(t *testing.T, user string, admin bool, method, path, body string, out any) int {
	t.Helper()
	r := s.As(t, user, admin).Do(method, path, body)
	if out != nil && r.Status < 300 {
		r.Decode(t, out)
	}
	return r.Status
}

// browser starts headless Chromium for the test; a failing test leaves a
// screenshot of the page it failed on, named in its log.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		if t.Failed() {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100)); err == nil {
				path := filepath.Join(os.TempDir(), "eventshop-"+strings.ReplaceAll(t.Name(), "/", "-")+".png")
				if os.WriteFile(path, png, 0o644) == nil {
					t.Logf("screenshot of the failure: %s", path)
				}
			}
			cancel()
		}
		cancelCtx()
		cancelAlloc()
	})
	// The first run starts the browser, and must have no deadline of its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// An alert means a script the page did not write ran: fail, and close it.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			t.Errorf("a dialog opened: %q (%s)", ev.Message, ev.Type)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	tctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTime)
	return tctx
}

// run does a step, within 30 seconds; a failure names it, with what the
// page's status line says.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		said, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('status') || {}).textContent || ''`))
		t.Fatalf("%s: %v (the page's status line: %q)", what, err, said)
	}
}

// open loads url afresh: a navigation that changes only the hash would
// not load the page, and chromedp would wait for that load.
func open(url string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Navigate("about:blank"), chromedp.Navigate(url))
}

// js runs a script for its effect.
func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](expr)(ctx, tg)
		return err
	})
}

// textOf waits for sel and returns its text.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// waitText waits until sel's text contains want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var err error
	for {
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want),
			chromedp.WithPollingTimeout(time.Until(deadline))))
		// A poll begun as the page was being replaced loses its JavaScript
		// context; poll again in the new one.
		if err == nil || !strings.Contains(err.Error(), "context with specified id") && !strings.Contains(err.Error(), "context was destroyed") || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ''`, sel)))
		t.Fatalf("%s never said %q (it says %q): %v", sel, want, got, err)
	}
}

func signIn(t *testing.T, ctx context.Context, url, user string, admin bool) {
	t.Helper()
	run(t, ctx, "sign in as "+user,
		open(url+"/#/sign-in"),
		chromedp.WaitVisible(chromedp.CSS(`#sign-in input[name=userName]`)),
		chromedp.SendKeys(chromedp.CSS(`#sign-in input[name=userName]`), user),
	)
	if admin {
		run(t, ctx, "tick admin", chromedp.Click(chromedp.CSS(`#sign-in input[name=admin]`)))
	}
	run(t, ctx, "submit sign-in", chromedp.Click(chromedp.CSS(`#sign-in button`)))
	waitText(t, ctx, "#nav", "Signed in as "+user)
}

// A user signs in, filters a category, fills a basket, checks out and sees
// the order reach PAID; an admin sets stock, edits a price, creates a
// product whose name is markup (shown as text, running nothing) and ships
// the order; the console shows the checkout's events and its trace, and
// redrives a dead letter the test planted.
func TestStorefrontAndConsole(t *testing.T) {
	s := start(t)
	ctx := browser(t)
	var phones struct{ Items []struct{ ID, Name string } }
	s.call(t, "alice", false, "GET", "/product?category=Phone", "", &phones)
	phone := phones.Items[0]
	// The basket prices from its own view of the catalog: wait until the demo
	// catalog's events have reached it.
	waittest.For(t, "the basket's price view", func() bool {
		return s.call(t, "probe", false, "POST", "/basket", `{"items":[{"productId":"`+phone.ID+`","quantity":1}]}`, nil) == 200
	})

	// Honest stock: a product sold out says so and cannot be added; an
	// untracked one is in stock, not "0 in stock".
	soldOut := phones.Items[1]
	if code := s.call(t, "root", true, "PUT", "/inventory/"+soldOut.ID, `{"available":0}`, nil); code != 200 {
		t.Fatalf("set the stock to 0: %d", code)
	}
	run(t, ctx, "open a sold-out product", open(s.url+"/#/product/"+soldOut.ID), chromedp.WaitVisible(chromedp.CSS(`#stock`)))
	waitText(t, ctx, "#stock", "Out of stock")
	waittest.For(t, "the page's title", func() bool {
		title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.title`))
		return err == nil && title == soldOut.Name+" · eventshop"
	})
	if disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#add button').disabled && document.getElementById('quantity').disabled`)); err != nil || !disabled {
		t.Fatalf("a sold-out product can be added (%v)", err)
	}
	var untracked struct{ ID string }
	s.call(t, "root", true, "POST", "/product", `{"name":"Untracked thing","category":"Tools","price":1}`, &untracked)
	waittest.For(t, "the inventory to know the new product", func() bool {
		return s.call(t, "probe", false, "GET", "/inventory/"+untracked.ID, "", nil) == 200
	})
	run(t, ctx, "open an untracked product", open(s.url+"/#/product/"+untracked.ID), chromedp.WaitVisible(chromedp.CSS(`#stock`)))
	if got := textOf(t, ctx, "#stock"); got != "In stock" {
		t.Fatalf("an untracked product says %q", got)
	}

	// Every page is accessible (axe-core: no serious or critical violation),
	// signed out, as a customer and as an admin, here and on a phone.
	signedOut := []string{"/#/", "/#/product/" + phone.ID, "/#/product/" + soldOut.ID, "/#/sign-in"}
	checkEveryPage(t, ctx, s.url, "signed out", signedOut...)

	// Prices are money in the shop's currency.
	run(t, ctx, "the catalog", open(s.url+"/#/"), chromedp.WaitVisible(chromedp.CSS(`#products`)))
	waitText(t, ctx, "#products", "$")
	// Each product shows its picture, shipped with the pages.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { const imgs = [...document.querySelectorAll('#products img')];
		return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0) && imgs.some((i) => !i.src.endsWith('placeholder.svg')); })()`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the catalog's pictures did not load: %v", err)
	}
	// A paged list leads on, back, and to its first page.
	run(t, ctx, "the next page", chromedp.Click(chromedp.CSS(`#more`)), chromedp.WaitVisible(chromedp.CSS(`#first`)))
	run(t, ctx, "back", chromedp.Click(chromedp.CSS(`#back`)))
	waittest.For(t, "the first page again", func() bool {
		hash, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash`))
		return err == nil && (hash == "#/" || hash == "")
	})
	// A product with no picture has the placeholder.
	run(t, ctx, "a product with no picture", open(s.url+"/#/product/"+untracked.ID), chromedp.WaitVisible(chromedp.CSS(`main img.picture`)))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { const i = document.querySelector('main img.picture'); return i.complete && i.naturalWidth > 0 && i.src.endsWith('placeholder.svg'); })()`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("no placeholder: %v", err)
	}

	// Signed out, "Add to basket" leads to the sign-in, and back, with the item added.
	run(t, ctx, "signed out, add the phone",
		open(s.url+"/#/product/"+phone.ID),
		chromedp.WaitVisible(chromedp.CSS(`#quantity`)),
		chromedp.Click(chromedp.CSS(`#add button`)),
		chromedp.WaitVisible(chromedp.CSS(`#sign-in input[name=userName]`)),
		chromedp.SendKeys(chromedp.CSS(`#sign-in input[name=userName]`), "alice"),
		chromedp.Click(chromedp.CSS(`#sign-in button`)))
	waitText(t, ctx, "#status", "Signed in, and added to your basket.")
	if hash, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash`)); err != nil || hash != "#/product/"+phone.ID {
		t.Fatalf("after the sign-in the page is %q (%v), want the product's", hash, err)
	}
	// Quantities outside 1 to 99 are refused with the reason, not cut down.
	run(t, ctx, "try to add none", chromedp.SetValue(chromedp.CSS(`#quantity`), "0"), chromedp.Click(chromedp.CSS(`#add button`)))
	if msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('quantity').validationMessage`)); err != nil || msg == "" {
		t.Fatalf("a quantity of 0 was not refused by the form (%q, %v)", msg, err)
	}
	run(t, ctx, "try to add 99 more", chromedp.SetValue(chromedp.CSS(`#quantity`), "99"), chromedp.Click(chromedp.CSS(`#add button`)))
	waitText(t, ctx, "#status", "a line takes at most 99")

	// --- a user buys ---
	signIn(t, ctx, s.url, "alice", false)
	run(t, ctx, "filter the category",
		open(s.url+"/#/"),
		chromedp.WaitVisible(chromedp.CSS(`#category`)),
		chromedp.SetValue(chromedp.CSS(`#category`), "Phone"),
		js(`document.getElementById('category').dispatchEvent(new Event('change'))`),
	)
	waitText(t, ctx, "main h1", "Phone")
	if got := textOf(t, ctx, "#products"); !strings.Contains(got, phone.Name) {
		t.Fatalf("the Phone page lists %q, without %q", got, phone.Name)
	}
	run(t, ctx, "open the product and add two",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-product=%q] a`, phone.ID))),
		chromedp.WaitVisible(chromedp.CSS(`#quantity`)),
		chromedp.SetValue(chromedp.CSS(`#quantity`), "2"),
		chromedp.Click(chromedp.CSS(`#add button`)),
	)
	waitText(t, ctx, "#status", "Added to your basket.")
	run(t, ctx, "open the basket", open(s.url+"/#/basket"), chromedp.WaitVisible(chromedp.CSS(`#checkout`)))
	if got := textOf(t, ctx, fmt.Sprintf(`#basket [data-product=%q]`, phone.ID)); !strings.Contains(got, phone.Name) {
		t.Fatalf("basket line %q", got)
	}
	run(t, ctx, "check out",
		chromedp.SendKeys(chromedp.CSS(`#checkout input[name=firstName]`), "Alice"),
		chromedp.SendKeys(chromedp.CSS(`#checkout input[name=lastName]`), "Liddell"),
		chromedp.SendKeys(chromedp.CSS(`#checkout input[name=email]`), "alice@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#checkout input[name=address]`), "1 Rabbit Hole"),
		chromedp.Click(chromedp.CSS(`#checkout button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#order-id`)),
	)
	orderID := textOf(t, ctx, "#order-id")
	// The page asked for the order with Prefer: wait and shows it as placed
	// (or further along, if the saga was quicker than the page).
	if got := textOf(t, ctx, "#order-status"); !slices.Contains([]string{"PLACED", "RESERVED", "PAID"}, got) {
		t.Fatalf("order status after checkout %q", got)
	}
	run(t, ctx, "my orders", open(s.url+"/#/orders"))
	waitText(t, ctx, fmt.Sprintf(`[data-order=%q] [data-status]`, orderID), "PAID") // the page updates itself

	customer := []string{"/#/basket", "/#/orders"}
	checkEveryPage(t, ctx, s.url, "as a customer", customer...)

	// A payment the provider declines: the thank-you page says so in words,
	// and the status line does not say the order was placed.
	if code := s.call(t, "alice", false, "POST", "/basket", `{"items":[{"productId":"`+phone.ID+`","quantity":1}]}`, nil); code != 200 {
		t.Fatalf("refill the basket: %d", code)
	}
	checkOut := func(what, paymentMethod string) string {
		t.Helper()
		run(t, ctx, what,
			open(s.url+"/#/basket"), chromedp.WaitVisible(chromedp.CSS(`#checkout`)),
			chromedp.SendKeys(chromedp.CSS(`#checkout input[name=firstName]`), "Alice"),
			chromedp.SendKeys(chromedp.CSS(`#checkout input[name=lastName]`), "Liddell"),
			chromedp.SendKeys(chromedp.CSS(`#checkout input[name=email]`), "alice@example.com"),
			chromedp.SendKeys(chromedp.CSS(`#checkout input[name=address]`), "1 Rabbit Hole"),
			chromedp.SetValue(chromedp.CSS(`#checkout select[name=paymentMethod]`), paymentMethod),
			chromedp.Click(chromedp.CSS(`#checkout button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#order-id`)))
		return textOf(t, ctx, "#order-id")
	}
	declined := checkOut("check out with a payment to decline", "test-decline")
	waitText(t, ctx, "#order-outcome", "Your payment was declined.")
	if got := textOf(t, ctx, "#status"); strings.Contains(got, "Order placed.") {
		t.Fatalf("the status line says %q beside a declined payment", got)
	}
	// A product sold out by the time the order reaches the stock: said in words.
	if code := s.call(t, "alice", false, "POST", "/basket", `{"items":[{"productId":"`+soldOut.ID+`","quantity":1}]}`, nil); code != 200 {
		t.Fatalf("fill the basket with the sold-out product: %d", code)
	}
	checkOut("check out a sold-out product", "invoice")
	waitText(t, ctx, "#order-outcome", "Sold out: "+soldOut.Name+".")
	waitText(t, ctx, "#status", "not placed")

	// My orders updates in place: an open History stays open, the focus
	// stays where it was, across the page's refreshes.
	run(t, ctx, "my orders again", open(s.url+"/#/orders"), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-order=%q] details summary`, orderID))))
	waitText(t, ctx, fmt.Sprintf(`[data-order=%q] .order-outcome`, declined), "Your payment was declined.")
	run(t, ctx, "open a History and focus its summary", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-order=%q] details summary`, orderID))),
		js(fmt.Sprintf(`document.querySelector('[data-order=%q] details summary').focus()`, orderID)))
	polls, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`Number(document.getElementById('orders').dataset.polls)`))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`Number(document.getElementById('orders').dataset.polls) >= %d`, polls+2), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("My orders did not refresh: %v", err)
	}
	if kept, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const d = document.querySelector('[data-order=%q] details'); return d.open && document.activeElement === d.querySelector('summary'); })()`, orderID))); err != nil || !kept {
		t.Fatalf("a refresh closed the History or moved the focus (%v)", err)
	}

	// Cancel asks first: answered no, nothing is sent; yes, the order is
	// cancelled. (The test fails on any dialog that opens, so the page's
	// confirm is answered by the test.)
	if code := s.call(t, "alice", false, "POST", "/basket", `{"items":[{"productId":"`+phone.ID+`","quantity":1}]}`, nil); code != 200 {
		t.Fatalf("refill the basket: %d", code)
	}
	toCancel := checkOut("check out an order to cancel", "invoice")
	cancel := fmt.Sprintf(`[data-order=%q] .actions button`, toCancel)
	run(t, ctx, "my orders, to cancel one", open(s.url+"/#/orders"), chromedp.WaitVisible(chromedp.CSS(cancel)),
		js(`window.asked = []; window.answer = false; window.posts = 0;
			window.confirm = (m) => { window.asked.push(m); return window.answer; };
			const send = window.fetch; window.fetch = (url, o) => { if (o && o.method === 'POST') window.posts++; return send(url, o); };`),
		chromedp.Click(chromedp.CSS(cancel)))
	answered := func() ([]string, int) {
		t.Helper()
		asked, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.asked`))
		if err != nil {
			t.Fatal(err)
		}
		posts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.posts`))
		if err != nil {
			t.Fatal(err)
		}
		return asked, posts
	}
	if asked, posts := answered(); len(asked) != 1 || !strings.HasPrefix(asked[0], "Cancel order #") || posts != 0 {
		t.Fatalf("Cancel asked %q and sent %d requests; want one question and nothing sent on no", asked, posts)
	}
	run(t, ctx, "cancel, and answer yes", js(`window.answer = true`), chromedp.Click(chromedp.CSS(cancel)))
	waitText(t, ctx, "#status", "Order cancelled.")
	waitText(t, ctx, fmt.Sprintf(`[data-order=%q] [data-status]`, toCancel), "CANCELLED")
	if asked, posts := answered(); len(asked) != 2 || posts != 1 {
		t.Fatalf("Cancel asked %q and sent %d requests; want a second question and one cancel", asked, posts)
	}

	if os.Getenv("UPDATE_SCREENSHOTS") != "" {
		screenshot(t, ctx, s.url+"/#/", "../docs/storefront.png")
	}

	// --- an admin runs the shop ---
	run(t, ctx, "sign out", open(s.url+"/#/"), chromedp.Click(chromedp.CSS(`#nav button`)))
	signIn(t, ctx, s.url, "root", true)
	run(t, ctx, "open the admin area", open(s.url+"/#/admin"), chromedp.WaitVisible(chromedp.CSS(`#admin-products`)))
	row := fmt.Sprintf(`#admin-products [data-product=%q]`, phone.ID)
	run(t, ctx, "set the stock",
		chromedp.SetValue(chromedp.CSS(row+` input[aria-label^="Stock"]`), "42"),
		chromedp.Click(chromedp.CSS(row+` td:nth-child(4) button`)))
	waitText(t, ctx, "#status", "Stock saved.")
	run(t, ctx, "edit the price",
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.SetValue(chromedp.CSS(row+` input[aria-label^="Price"]`), "123.45"),
		chromedp.Click(chromedp.CSS(row+` td:nth-child(3) button`)))
	waitText(t, ctx, "#status", "Price saved.")
	run(t, ctx, "take two broken units out of the stock",
		chromedp.WaitVisible(chromedp.CSS(row+` input[aria-label^="Units to add"]`)),
		chromedp.SetValue(chromedp.CSS(row+` input[aria-label^="Units to add"]`), "-2"),
		chromedp.SendKeys(chromedp.CSS(row+` input[aria-label^="Why"]`), "2 broken in the stockroom"),
		chromedp.Click(chromedp.CSS(row+` .adjust button`)))
	waitText(t, ctx, "#status", "Stock adjusted.")
	var stock struct{ Available int }
	var edited struct{ Price float64 }
	s.call(t, "root", true, "GET", "/inventory/"+phone.ID+"/admin", "", &stock)
	s.call(t, "root", true, "GET", "/product/"+phone.ID, "", &edited)
	if stock.Available != 40 || edited.Price != 123.45 {
		t.Fatalf("after the admin's edits: stock %d, price %v", stock.Available, edited.Price)
	}

	const evil = `<img src=x onerror=alert(1)>`
	run(t, ctx, "create a product named with markup",
		chromedp.WaitVisible(chromedp.CSS(`#create-product`)),
		chromedp.SendKeys(chromedp.CSS(`#create-product input[name=name]`), evil),
		chromedp.SendKeys(chromedp.CSS(`#create-product input[name=category]`), "Tricks"),
		chromedp.SendKeys(chromedp.CSS(`#create-product input[name=price]`), "1"),
		chromedp.Click(chromedp.CSS(`#create-product button`)))
	waitText(t, ctx, "#status", "Product created.")
	run(t, ctx, "list it", open(s.url+"/#/products?category=Tricks"))
	waitText(t, ctx, "#products", evil)
	images, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('main img:not(.thumb):not(.picture)').length`))
	if err != nil || images != 0 {
		t.Fatalf("the product's name became %d img element(s) (%v)", images, err)
	}

	run(t, ctx, "open the admin area again", open(s.url+"/#/admin"))
	ship := fmt.Sprintf(`#to-ship [data-order=%q] button`, orderID)
	run(t, ctx, "find the order to ship, with its link to the console",
		chromedp.WaitVisible(chromedp.CSS(ship)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#to-ship [data-order=%q] a[href="/console#events/%s"]`, orderID, orderID))))
	if got := textOf(t, ctx, fmt.Sprintf(`#to-ship [data-order=%q] .ship-to`, orderID)); got != "Ship to Alice Liddell, 1 Rabbit Hole · alice@example.com" {
		t.Fatalf("the order to ship says %q; want its buyer, address and e-mail", got)
	}
	run(t, ctx, "ship the order", chromedp.Click(chromedp.CSS(ship)))
	waitText(t, ctx, "#status", "Order shipped.")
	var order struct{ Status string }
	s.call(t, "alice", false, "GET", "/order/alice/"+orderID, "", &order)
	if order.Status != "SHIPPED" {
		t.Fatalf("order %s is %s after shipping", orderID, order.Status)
	}

	// Every order, newest first, by status: the cancelled ones with their
	// reason and refund, each with its buyer.
	run(t, ctx, "every order", open(s.url+"/#/admin/orders"), chromedp.WaitVisible(chromedp.CSS(`#admin-orders`)))
	listed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#admin-orders [data-order]')].map((c) => c.dataset.order)`))
	if err != nil {
		t.Fatal(err)
	}
	if i, j := slices.Index(listed, toCancel), slices.Index(listed, orderID); i < 0 || j < 0 || i > j {
		t.Fatalf("every order lists %v; want %s (newer) before %s", listed, toCancel, orderID)
	}
	waitText(t, ctx, fmt.Sprintf(`#admin-orders [data-order=%q] [data-status]`, orderID), "SHIPPED")
	run(t, ctx, "only the cancelled ones",
		js(`document.getElementById('order-status').value = 'CANCELLED'; document.getElementById('order-status').dispatchEvent(new Event('change'))`))
	waitText(t, ctx, "main h1", "Orders CANCELLED")
	cancelled := fmt.Sprintf(`#admin-orders [data-order=%q]`, toCancel)
	waitText(t, ctx, cancelled+" .order-status", "customer cancelled")
	waitText(t, ctx, cancelled+" .order-status", "refunded")
	waitText(t, ctx, cancelled, "Bought by alice")
	if got := textOf(t, ctx, cancelled+" .ship-to"); got != "Ship to Alice Liddell, 1 Rabbit Hole · alice@example.com" {
		t.Fatalf("the cancelled order's buyer reads %q", got)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('#admin-orders [data-status]')].filter((e) => e.dataset.status !== 'CANCELLED').length`)); err != nil || n != 0 {
		t.Fatalf("the cancelled orders' list holds %d others (%v)", n, err)
	}

	// --- the console ---
	run(t, ctx, "open the console on the order's events", open(s.url+"/console#events/"+orderID))
	checkout := `#events tr[data-type="` + events.TypeCheckoutBasket + `"]`
	run(t, ctx, "see the checkout's event", chromedp.WaitVisible(chromedp.CSS(checkout)), chromedp.Click(chromedp.CSS(checkout)))
	waitText(t, ctx, "#envelope", orderID)
	if os.Getenv("UPDATE_SCREENSHOTS") != "" {
		screenshot(t, ctx, "", "../docs/console.png")
	}
	run(t, ctx, "open its trace", chromedp.Click(chromedp.CSS(checkout+` a`)), chromedp.WaitVisible(chromedp.CSS(`#waterfall`)))
	waitText(t, ctx, "#waterfall", "POST /basket/checkout")
	waitText(t, ctx, "#waterfall", "process "+events.TypeCheckoutBasket)
	// The trace went through four services, each listed with its spans.
	for _, service := range []string{events.ServiceBasket, events.ServiceOrdering, events.ServiceInventory, events.ServicePayment} {
		waitText(t, ctx, fmt.Sprintf(`#trace-services [data-service=%q]`, service), service)
	}

	// A message no consumer can read goes to the dead-letter queue after its
	// receives; the console redrives it.
	const poisonTrace = "6bf92f3577b34da6a3ce929d0e0e4736"
	poison := events.Outgoing{ID: "poison-1", Source: events.SourceCheckout, DetailType: events.TypeCheckoutBasket,
		Detail: json.RawMessage(`{"checkoutId":"not-a-uuid","traceparent":"00-` + poisonTrace + `-00f067aa0ba902b7-01"}`), Time: time.Now()}
	if err := s.App.Bus().Publish(t.Context(), []events.Outgoing{poison}); err != nil {
		t.Fatal(err)
	}
	waittest.For(t, "the poison to be dead-lettered", func() bool {
		stats, _ := s.App.Bus().Stats(t.Context())
		for _, st := range stats {
			if st.Queue == eventbus.QueueOrderingOrders && st.DeadLetters == 1 {
				return true
			}
		}
		return false
	})
	queue := fmt.Sprintf(`#queues [data-queue=%q]`, eventbus.QueueOrderingOrders)
	run(t, ctx, "open the queues", open(s.url+"/console#queues"), chromedp.WaitVisible(chromedp.CSS(queue)))
	waitText(t, ctx, queue+" td:nth-child(4)", "1")
	run(t, ctx, "list its dead letters", chromedp.Click(chromedp.CSS(queue+" button")), chromedp.WaitVisible(chromedp.CSS(`#dead-letters [data-dead-letter]`)))
	waitText(t, ctx, "#dead-letters", "not-a-uuid")
	waitText(t, ctx, "#dead-letters .last-error", "Last error: ")
	if got := textOf(t, ctx, "#dead-letters .last-error"); strings.Contains(got, "not known") {
		t.Fatalf("the dead letter's last error is %q, want the consumer's reason", got)
	}
	run(t, ctx, "see the link to its trace", chromedp.WaitVisible(chromedp.CSS(`#dead-letters a[data-trace-link][href="#trace/`+poisonTrace+`"]`)))
	run(t, ctx, "redrive it", chromedp.Click(chromedp.CSS(`#dead-letters [data-dead-letter] button`)))
	waitText(t, ctx, "#status", "Redriven.")
	waitText(t, ctx, "#dead-letters", "None.")

	admin := []string{"/#/", "/#/product/" + phone.ID, "/#/basket", "/#/orders", "/#/admin", "/#/admin/orders", "/console#events", "/console#queues", "/console#outboxes", "/console#traces"}
	checkEveryPage(t, ctx, s.url, "as an admin", admin...)

	// On a phone-sized window every page fits its width: nothing to scroll sideways.
	run(t, ctx, "a phone-sized window", chromedp.EmulateViewport(390, 844))
	for _, page := range admin {
		run(t, ctx, "open "+page, open(s.url+page), chromedp.WaitVisible(chromedp.CSS("main h1")))
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
		if err != nil || wide > 0 {
			t.Errorf("%s at 390 px wide: %d px to scroll sideways (%v)", page, wide, err)
		}
		// No word is broken inside: "MacB ook", "Remov e".
		if broken, err := chromedp.Run(ctx, chromedp.Evaluate[string](brokenWord)); err != nil || broken != "" {
			t.Errorf("%s at 390 px wide: %q is broken inside a word (%v)", page, broken, err)
		}
		checkAccessible(t, ctx, page+" as an admin at 390 px")
	}
	run(t, ctx, "sign out on a phone", open(s.url+"/#/"), chromedp.Click(chromedp.CSS(`#nav button`)))
	checkEveryPage(t, ctx, s.url, "signed out at 390 px", signedOut...)
	signIn(t, ctx, s.url, "alice", false)
	checkEveryPage(t, ctx, s.url, "as a customer at 390 px", customer...)
}

// brokenWord finds, in the page's buttons, links, headings and table cells,
// a word the layout broke across lines; "" when there is none.
const brokenWord = `(() => {
  for (const el of document.querySelectorAll('main button, main a, main h1, main h2, main td, nav a, nav button')) {
    for (const node of el.childNodes) {
      if (node.nodeType !== Node.TEXT_NODE) continue;
      const text = node.textContent;
      const re = /[A-Za-z]{2,}/g;
      let m;
      while ((m = re.exec(text))) {
        const r = document.createRange();
        r.setStart(node, m.index);
        r.setEnd(node, m.index + m[0].length);
        if (r.getClientRects().length > 1) return m[0];
      }
    }
  }
  return '';
})()`

// axeSource is axe-core's script, pinned in tools/axe (make test installs it).
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("../tools/axe/node_modules/axe-core/axe.min.js")
	return string(b), err
})

// violation is an accessibility rule a page breaks, as axe-core reports it.
type violation struct {
	ID, Impact, Help string
	Nodes            []string
}

// checkAccessible runs axe-core on the page shown and fails on any serious
// or critical violation, naming the page, the rule and the elements.
func checkAccessible(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core: %v (npm ci --prefix tools/axe installs it; make test does)", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+";true")); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) })))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core on %s: %v", page, err)
	}
	for _, v := range found {
		t.Errorf("%s: %s (%s): %s at %v", page, v.ID, v.Impact, v.Help, v.Nodes)
	}
}

// checkEveryPage opens each page of who's and checks its accessibility.
func checkEveryPage(t *testing.T, ctx context.Context, base, who string, pages ...string) {
	t.Helper()
	for _, page := range pages {
		run(t, ctx, "open "+page+" "+who, open(base+page), chromedp.WaitVisible(chromedp.CSS("main h1")))
		checkAccessible(t, ctx, page+" "+who)
	}
}

// screenshot saves the page at url (or the current one) to path, for the README.
func screenshot(t *testing.T, ctx context.Context, url, path string) {
	t.Helper()
	if url != "" {
		run(t, ctx, "open "+url, open(url), chromedp.Sleep(500*time.Millisecond))
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
