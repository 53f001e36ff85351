// The storefront: catalog, product, basket, checkout, my orders, the admin
// area and the sign-in; one page, routed by the URL's hash.
import { amount, api, APIError, config, fail, h, loadConfig, money, session, setSession, show, signOut, startCognitoSignIn, status, text } from './api.js';

const routes = [
  [/^#?\/?$/, catalogPage],
  [/^#\/products\?(.*)$/, catalogPage],
  [/^#\/product\/([^/?]+)$/, productPage],
  [/^#\/basket$/, basketPage],
  [/^#\/orders$/, ordersPage],
  [/^#\/admin$/, adminPage],
  [/^#\/admin\/orders(?:\?(.*))?$/, adminOrdersPage],
  [/^#\/sign-in$/, signInPage],
];

let leave = () => {}; // stops the current page's live updates

async function route() {
  leave();
  leave = () => {};
  nav();
  status('');
  for (const [re, page] of routes) {
    const m = location.hash.match(re);
    if (m) {
      try {
        await page(...m.slice(1).map(decodeURIComponent));
      } catch (err) {
        if (err instanceof APIError && err.status === 401) {
          signOut();
          nav();
          show(h('p', {}, 'Your session has ended. ', h('a', { href: '#/sign-in' }, 'Sign in'), ' again.'));
        } else fail(err);
      }
      // Each page is titled by its heading, for tabs, history and screen readers.
      const heading = document.querySelector('#main h1');
      document.title = heading ? heading.textContent + ' · eventshop' : 'eventshop';
      document.getElementById('main').focus();
      return;
    }
  }
  show(h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Back to the shop')));
}

function nav() {
  const s = session();
  const links = [h('a', { href: '#/' }, 'Products')];
  if (s) links.push(h('a', { href: '#/basket' }, 'Basket'), h('a', { href: '#/orders' }, 'My orders'));
  if (s && s.admin) links.push(h('a', { href: '#/admin' }, 'Admin'));
  if (s && s.admin && config.console) links.push(h('a', { href: '/console' }, 'Console'));
  if (s) {
    links.push(h('span', { class: 'muted' }, 'Signed in as ', text(s.userName), s.admin ? ' (admin)' : ''),
      h('button', { class: 'secondary', type: 'button', onclick: () => { signOut(); location.hash = '#/'; route(); } }, 'Sign out'));
  } else {
    links.push(h('a', { href: '#/sign-in' }, 'Sign in'));
  }
  document.getElementById('nav').replaceChildren(...links);
}

function needSession() {
  const s = session();
  if (!s) {
    show(h('p', {}, 'Please ', h('a', { href: '#/sign-in' }, 'sign in'), ' first.'));
  }
  return s;
}

// --- catalog ---

// productImage is a product's picture, from the images shipped with the
// pages (assets/products/), or a placeholder when it has none or it is
// missing. It is decorative: the product's name is beside it.
function productImage(p, cls) {
  const placeholder = '/assets/products/placeholder.svg';
  const img = h('img', { class: cls, alt: '', width: 160, height: 120,
    src: p.imageFile ? '/assets/products/' + encodeURIComponent(p.imageFile) : placeholder });
  img.addEventListener('error', () => { if (!img.src.endsWith(placeholder)) img.src = placeholder; });
  return img;
}

async function catalogPage(query = '') {
  const params = new URLSearchParams(query);
  const category = params.get('category') || '';
  const token = params.get('nextToken') || '';
  const q = new URLSearchParams({ limit: '12' });
  if (category) q.set('category', category);
  if (token) q.set('nextToken', token);
  const [page, all] = await Promise.all([api('GET', '/product?' + q), api('GET', '/product?limit=100')]);
  const categories = [...new Set(all.items.map((p) => p.category))].sort();
  const select = h('select', { id: 'category', name: 'category' },
    h('option', { value: '' }, 'All categories'),
    categories.map((c) => h('option', { value: c, selected: c === category }, c)));
  select.addEventListener('change', () => { location.hash = select.value ? '#/products?' + new URLSearchParams({ category: select.value }) : '#/'; });
  const list = h('ul', { class: 'grid', id: 'products' }, page.items.map((p) =>
    h('li', { class: 'card', 'data-product': p.id },
      productImage(p, 'thumb'),
      h('h2', {}, h('a', { href: '#/product/' + encodeURIComponent(p.id) }, text(p.name))),
      h('p', { class: 'muted' }, text(p.category)),
      h('p', { class: 'price' }, money(p.price)))));
  const more = h('p', { class: 'paging' },
    token ? h('a', { href: '#', id: 'back', onclick: (e) => { e.preventDefault(); history.back(); } }, '← Back') : null,
    token ? h('a', { href: category ? '#/products?' + new URLSearchParams({ category }) : '#/', id: 'first' }, 'First page') : null,
    page.nextToken ? h('a', { href: '#/products?' + new URLSearchParams({ category, nextToken: page.nextToken }), id: 'more' }, 'More products') : null);
  show(h('section', {}, h('h1', {}, category ? text(category) : 'Products'),
    h('label', {}, 'Category', select), list, page.items.length ? null : h('p', {}, 'No products here.'), more));
}

async function productPage(id) {
  const p = await api('GET', '/product/' + encodeURIComponent(id));
  let stock = null;
  try { stock = await api('GET', '/inventory/' + encodeURIComponent(id)); } catch { /* not announced yet */ }
  // An untracked product is always available; a tracked one as many as it holds.
  const soldOut = stock && stock.tracked && stock.available < 1;
  const qty = h('input', { type: 'number', id: 'quantity', name: 'quantity', min: 1, max: 99, value: '1', required: true, disabled: soldOut });
  const form = h('form', { class: 'inline', id: 'add' }, h('label', {}, 'Quantity', qty), h('button', { type: 'submit', disabled: soldOut }, 'Add to basket'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const s = session();
    if (!s) {
      // Signed out: sign in first, then this item is added and the page comes back.
      afterSignIn({ hash: location.hash, add: { productId: p.id, quantity: Number(qty.value) } });
      location.hash = '#/sign-in';
      return;
    }
    try {
      await addToBasket(s, p.id, Number(qty.value));
      status('Added to your basket.');
    } catch (err) { fail(err); }
  });
  show(h('article', {},
    h('h1', {}, text(p.name)),
    productImage(p, 'picture'),
    h('p', { class: 'muted' }, text(p.category)),
    h('p', {}, text(p.description)),
    h('p', { class: 'price' }, money(p.price)),
    h('p', { id: 'stock' }, !stock ? 'Stock not known yet' : !stock.tracked ? 'In stock' : soldOut ? 'Out of stock' : stock.available + ' in stock'),
    form));
}

// --- basket and checkout ---

// addToBasket adds quantity of a product to the user's basket; a line may
// hold at most MAX_QUANTITY, and more is refused, not cut down.
async function addToBasket(s, productId, quantity) {
  const basket = await currentBasket(s.userName);
  const items = basket.items.map((l) => ({ productId: l.productId, quantity: l.quantity }));
  const line = items.find((l) => l.productId === productId);
  if (line && line.quantity + quantity > MAX_QUANTITY) {
    throw new Error(`Your basket holds ${line.quantity} of it already: a line takes at most ${MAX_QUANTITY}.`);
  }
  if (line) line.quantity += quantity;
  else items.push({ productId, quantity });
  await api('POST', '/basket', { items });
}

const MAX_QUANTITY = 99;

// quantityOf reads a quantity field, refusing what is not 1 to MAX_QUANTITY.
function quantityOf(input) {
  const n = Number(input.value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_QUANTITY) {
    throw new Error(`A quantity is a whole number from 1 to ${MAX_QUANTITY}.`);
  }
  return n;
}

async function currentBasket(userName) {
  try {
    return await api('GET', '/basket/' + encodeURIComponent(userName));
  } catch (err) {
    if (err instanceof APIError && err.status === 404) return { items: [], totalPrice: 0 };
    throw err;
  }
}

async function basketPage() {
  const s = needSession();
  if (!s) return;
  const basket = await currentBasket(s.userName);
  const save = async (items) => {
    try {
      await api('POST', '/basket', { items });
      await basketPage();
      status('Basket updated.');
    } catch (err) { fail(err); }
  };
  const items = () => basket.items.map((l) => ({ productId: l.productId, quantity: l.quantity }));
  const rows = basket.items.map((l, i) => {
    const qty = h('input', { type: 'number', min: 1, max: 99, value: String(l.quantity), 'aria-label': 'Quantity of ' + l.productName });
    return h('tr', { 'data-product': l.productId },
      h('td', {}, text(l.productName), l.unavailable ? h('span', { class: 'muted' }, ' (no longer sold)') : null),
      h('td', { 'data-label': 'Quantity' }, qty),
      h('td', { 'data-label': 'Price' }, money(l.unitPrice)),
      h('td', { 'data-label': 'Total' }, money(l.lineTotal)),
      h('td', {},
        h('button', { type: 'button', class: 'secondary', onclick: () => { try { const it = items(); it[i].quantity = quantityOf(qty); save(it); } catch (err) { fail(err); } } }, 'Update'), ' ',
        h('button', { type: 'button', class: 'danger', onclick: () => save(items().filter((_, j) => j !== i)) }, 'Remove')));
  });
  const field = (name, label, type = 'text') => h('label', {}, label, h('input', { name, type, required: true, autocomplete: type === 'email' ? 'email' : 'on' }));
  const checkout = h('form', { class: 'stack', id: 'checkout' },
    h('h2', {}, 'Check out'),
    field('firstName', 'First name'), field('lastName', 'Last name'), field('email', 'Email', 'email'), field('address', 'Address'),
    h('label', {}, 'Payment method', h('select', { name: 'paymentMethod' },
      h('option', { value: 'invoice' }, 'Invoice'), h('option', { value: 'bank-transfer' }, 'Bank transfer'),
      h('option', { value: 'test-decline' }, 'Test: a payment the provider declines'))),
    h('p', { class: 'muted' }, 'No card details are asked for: the payment provider is simulated.'),
    h('button', { type: 'submit' }, 'Place order'));
  const key = crypto.randomUUID(); // one key per checkout form: a retried submit is the same checkout
  checkout.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = Object.fromEntries(new FormData(checkout));
    try {
      const res = await api('POST', '/basket/checkout', body, { 'Idempotency-Key': key });
      // The order is placed by the ordering service from the checkout's
      // event: ask the API to answer once it is (Prefer: wait), not poll.
      let order = null;
      try {
        order = await api('GET', `/order/${encodeURIComponent(s.userName)}/${encodeURIComponent(res.orderId)}`, undefined, { Prefer: 'wait=5' });
      } catch { /* not placed within the wait: My orders shows it once it is */ }
      const outcome = h('p', { id: 'order-outcome' });
      const shown = h('span', {}, ' is on its way through the shop. ');
      show(h('section', {}, h('h1', {}, 'Thank you'),
        h('p', {}, 'Your order ', h('strong', { class: 'friendly' }, friendly(res.orderId)), ' (', h('code', { id: 'order-id' }, res.orderId), ')', shown),
        outcome,
        h('p', {}, h('a', { href: '#/orders' }, 'Follow it in My orders'))));
      // The saga goes on after the answer: the page follows the order until
      // it is paid or refused, and says which in words.
      const follow = (o) => {
        shown.replaceChildren(' is ', h('strong', { id: 'order-status', class: 'status-' + o.status, 'data-status': o.status }, o.status), ', total ', money(o.totalPrice), '. ');
        const refused = o.status === 'CANCELLED';
        if (refused) sayRefusal(outcome, o);
        else outcome.replaceChildren(o.status === 'PAID' ? 'Paid: we are getting it ready to ship.' : '');
        outcome.classList.toggle('error', refused);
        status(refused ? 'Your order was not placed: ' + reasonWords(o.cancelReason) : 'Order placed.', refused);
        return refused || ['PAID', 'SHIPPED'].includes(o.status);
      };
      if (order && !follow(order)) {
        live(async () => {
          const o = await api('GET', `/order/${encodeURIComponent(s.userName)}/${encodeURIComponent(res.orderId)}`);
          if (follow(o)) leave();
        });
      } else if (!order) status('Order placed.');
    } catch (err) { fail(err); }
  });
  show(h('section', {}, h('h1', {}, 'Your basket'),
    basket.items.length
      ? h('table', { id: 'basket' }, h('thead', {}, h('tr', {}, h('th', {}, 'Product'), h('th', {}, 'Quantity'), h('th', {}, 'Price'), h('th', {}, 'Total'), h('th', {}, ''))),
        h('tbody', {}, rows))
      : h('p', {}, 'Your basket is empty. ', h('a', { href: '#/' }, 'Browse the products')),
    h('p', { class: 'price', id: 'total' }, 'Total ', money(basket.totalPrice)),
    basket.items.length ? checkout : null));
}

// --- orders ---

// shipTo is who an order goes to and where, for the admin who ships it.
function shipTo(o) {
  return h('p', { class: 'ship-to' }, 'Ship to ', h('strong', {}, text(o.firstName + ' ' + o.lastName)), ', ', text(o.address), ' · ',
    h('a', { href: 'mailto:' + o.email }, text(o.email)));
}

// reasonWords says why an order was cancelled, for its buyer.
function reasonWords(reason) {
  return {
    out_of_stock: 'Sold out: a product in it is out of stock.',
    product_unavailable: 'A product in it is no longer sold.',
    payment_declined: 'Your payment was declined.',
    customer_cancelled: 'Cancelled at your request.',
  }[reason] || (reason ? 'Cancelled: ' + reason.replace(/_/g, ' ') + '.' : 'Cancelled.');
}

// sayRefusal writes why o was cancelled into el; a refusal for stock names
// the products it could not hold.
function sayRefusal(el, o) {
  const names = o.lines.filter((l) => l.unavailable).map((l) => l.productName);
  if (['out_of_stock', 'product_unavailable'].includes(o.cancelReason) && names.length) {
    el.replaceChildren(o.cancelReason === 'out_of_stock' ? 'Sold out: ' : 'No longer sold: ', text(names.join(', ')), '.');
    return;
  }
  el.replaceChildren(reasonWords(o.cancelReason));
}

// friendly is an order's short number, for people: the last 8 characters
// of its id, which is shown beside it.
function friendly(orderId) { return '#' + orderId.replace(/-/g, '').slice(-8).toUpperCase(); }

// orderView is an order's card. Its parts that change as the saga goes on
// are filled by fillOrder, so that a card can be updated in place.
function orderView(o, ...actions) {
  const card = h('article', { class: 'card', 'data-order': o.orderId },
    h('h2', {}, 'Order ', h('span', { class: 'friendly' }, friendly(o.orderId)), ' ', h('code', { class: 'muted' }, o.orderId)),
    h('p', { class: 'order-status' }),
    h('p', { class: 'order-outcome' }),
    h('ul', {}, o.lines.map((l) => h('li', {}, l.quantity + ' × ', text(l.productName), ' at ', money(l.unitPrice)))),
    h('details', {}, h('summary', {}, 'History'), h('ol', { class: 'history' })),
    consoleLink(o.orderId),
    h('div', { class: 'actions' }, actions));
  fillOrder(card, o);
  return card;
}

// fillOrder writes o's status, outcome and history into its card.
function fillOrder(card, o) {
  card.querySelector('.order-status').replaceChildren('Status ', h('strong', { class: 'status-' + o.status, 'data-status': o.status }, o.status),
    o.cancelReason ? ' (' + o.cancelReason.replace(/_/g, ' ') + ')' : '',
    o.history.some((c) => c.status === 'REFUNDED') ? ' · refunded' : '', ' · total ', money(o.totalPrice),
    ' · ', new Date(o.orderDate).toLocaleString());
  const outcome = card.querySelector('.order-outcome');
  if (o.status === 'CANCELLED') sayRefusal(outcome, o);
  else outcome.replaceChildren('');
  outcome.classList.toggle('error', o.status === 'CANCELLED');
  card.querySelector('.history').replaceChildren(...o.history.map((c) => h('li', {}, c.status, c.reason ? ' (' + c.reason.replace(/_/g, ' ') + ')' : '', ' ', new Date(c.at).toLocaleTimeString())));
  card.dataset.state = o.status + '/' + o.history.length;
}

// consoleLink leads an admin of the local shop to the order's events, and
// from them to its trace.
function consoleLink(orderId) {
  const s = session();
  if (!s || !s.admin || !config.console) return null;
  return h('p', {}, h('a', { href: '/console#events/' + encodeURIComponent(orderId) }, 'Its events and trace in the console'));
}

async function ordersPage() {
  const s = needSession();
  if (!s) return;
  const list = h('div', { id: 'orders' });
  const empty = h('p', {}, 'No orders yet.');
  const cancel = (o) => ['PLACED', 'RESERVED', 'PAID'].includes(o.status)
    ? h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!confirm(`Cancel order ${friendly(o.orderId)}? Its stock is released and a payment taken is refunded.`)) return;
      try { await api('POST', `/order/${encodeURIComponent(s.userName)}/${encodeURIComponent(o.orderId)}/cancel`); await draw(); status('Order cancelled.'); } catch (err) { fail(err); }
    } }, 'Cancel order')
    : null;
  // Each poll updates the cards in place: an open History stays open and
  // the keyboard's focus stays where it was.
  const draw = async () => {
    const page = await api('GET', '/order/' + encodeURIComponent(s.userName) + '?limit=50');
    empty.hidden = page.items.length > 0;
    let before = null;
    for (const o of [...page.items].reverse()) { // newest first: insert each above the one after it
      let card = list.querySelector(`[data-order="${CSS.escape(o.orderId)}"]`);
      if (!card) {
        card = orderView(o, cancel(o));
        list.insertBefore(card, before); // before null: the oldest, last
      } else if (card.dataset.state !== o.status + '/' + o.history.length) {
        const wasStatus = card.querySelector('[data-status]').dataset.status;
        fillOrder(card, o);
        if (wasStatus !== o.status) card.querySelector('.actions').replaceChildren(...[cancel(o)].filter(Boolean));
      }
      before = card;
    }
    list.dataset.polls = String(Number(list.dataset.polls || 0) + 1);
  };
  show(h('section', {}, h('h1', {}, 'My orders'), list, empty,
    h('p', { class: 'muted' }, 'Statuses update as the shop handles each order.')));
  await draw();
  live(draw);
}

// live redraws every 2 seconds while the page is shown.
function live(draw) {
  const timer = setInterval(() => draw().catch(fail), 2000);
  leave = () => clearInterval(timer);
}

// --- admin ---

async function adminPage() {
  const s = needSession();
  if (!s) return;
  if (!s.admin) { show(h('p', {}, 'The admin area is for admins.')); return; }
  const [products, paid] = await Promise.all([api('GET', '/product?limit=100'), api('GET', '/order?status=PAID&limit=100')]);

  const create = h('form', { class: 'inline', id: 'create-product' },
    h('label', {}, 'Name', h('input', { name: 'name', required: true, maxlength: 200 })),
    h('label', {}, 'Category', h('input', { name: 'category', required: true, maxlength: 64 })),
    h('label', {}, 'Price', h('input', { name: 'price', type: 'number', step: '0.01', min: '0.01', required: true })),
    h('label', {}, 'Description', h('input', { name: 'description', maxlength: 2000 })),
    h('button', { type: 'submit' }, 'Create'));
  create.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(create));
    try {
      await api('POST', '/product', { name: f.name, category: f.category, price: Number(f.price), description: f.description }, { 'Idempotency-Key': crypto.randomUUID() });
      await adminPage();
      status('Product created.');
    } catch (err) { fail(err); }
  });

  const rows = await Promise.all(products.items.map(async (p) => {
    let stock = null;
    try { stock = await api('GET', `/inventory/${encodeURIComponent(p.id)}/admin`); } catch { /* not announced yet */ }
    const price = h('input', { type: 'number', step: '0.01', min: '0.01', value: amount(p.price), 'aria-label': 'Price of ' + p.name });
    const available = h('input', { type: 'number', min: 0, value: stock ? String(stock.available) : '0', 'aria-label': 'Stock of ' + p.name, disabled: !stock });
    // A relative adjustment needs no version: orders reserving meanwhile do not change it.
    const tracked = stock && stock.tracked;
    const delta = h('input', { type: 'number', step: 1, placeholder: '±', 'aria-label': 'Units to add to ' + p.name + ' (negative to take away)', disabled: !tracked });
    const reason = h('input', { type: 'text', maxlength: 200, placeholder: 'Why', 'aria-label': 'Why the stock of ' + p.name + ' changes', disabled: !tracked });
    return h('tr', { 'data-product': p.id },
      h('td', {}, text(p.name)), h('td', { class: 'opt' }, text(p.category)),
      h('td', {}, price, ' ', h('button', { type: 'button', class: 'secondary', onclick: async () => {
        try {
          await api('PUT', '/product/' + encodeURIComponent(p.id), { name: p.name, category: p.category, description: p.description, imageFile: p.imageFile, price: Number(price.value), version: p.version });
          await adminPage(); status('Price saved.');
        } catch (err) { fail(err); }
      } }, 'Save price')),
      h('td', {}, available, ' ', stock ? h('span', { class: 'muted' }, tracked ? stock.reserved + ' reserved ' : 'not tracked (always available) ') : null,
        h('button', { type: 'button', class: 'secondary', disabled: !stock, onclick: async () => {
          try {
            await api('PUT', '/inventory/' + encodeURIComponent(p.id), { available: Number(available.value), version: stock.version });
            await adminPage(); status('Stock saved.');
          } catch (err) { fail(err); }
        } }, 'Set stock'),
        tracked ? h('div', { class: 'adjust' }, delta, ' ', reason, ' ', h('button', { type: 'button', class: 'secondary', onclick: async () => {
          try {
            await api('POST', `/inventory/${encodeURIComponent(p.id)}/adjustments`, { delta: Number(delta.value), reason: reason.value });
            await adminPage(); status('Stock adjusted.');
          } catch (err) { fail(err); }
        } }, 'Adjust')) : null),
      h('td', {}, h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!confirm('Delete this product?')) return;
        try { await api('DELETE', '/product/' + encodeURIComponent(p.id)); await adminPage(); status('Product deleted.'); } catch (err) { fail(err); }
      } }, 'Delete')));
  }));

  show(h('section', {}, h('h1', {}, 'Admin'),
    h('p', {}, h('a', { href: '#/admin/orders', id: 'all-orders' }, 'Every order, by status')),
    h('h2', {}, 'New product'), create,
    h('h2', {}, 'Products'),
    h('table', { id: 'admin-products' }, h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', { class: 'opt' }, 'Category'), h('th', {}, 'Price'), h('th', {}, 'Stock'), h('th', {}, ''))), h('tbody', {}, rows)),
    h('h2', {}, 'Paid orders to ship'),
    paid.items.length ? h('div', { id: 'to-ship' }, paid.items.map((o) => adminOrder(o, adminPage))) : h('p', {}, 'No paid order waits.'),
    paid.nextToken ? h('p', {}, h('a', { href: '#/admin/orders?status=PAID' }, 'More paid orders')) : null));
}

// adminOrder is an order's card for the admin: who bought it and where it
// goes, and Ship while it is paid; after shipping, then is called.
function adminOrder(o, then) {
  const ship = o.status === 'PAID' ? h('button', { type: 'button', onclick: async () => {
    try { await api('POST', `/order/${encodeURIComponent(o.userName)}/${encodeURIComponent(o.orderId)}/ship`); await then(); status('Order shipped.'); } catch (err) { fail(err); }
  } }, 'Ship') : null;
  return orderView(o, h('p', { class: 'muted' }, 'Bought by ', text(o.userName)), shipTo(o), ship);
}

// adminOrdersPage lists every order, or those in one status, newest first,
// a page at a time.
async function adminOrdersPage(query = '') {
  const s = needSession();
  if (!s) return;
  if (!s.admin) { show(h('p', {}, 'The admin area is for admins.')); return; }
  const params = new URLSearchParams(query);
  const state = params.get('status') || '';
  const token = params.get('nextToken') || '';
  const q = new URLSearchParams({ limit: '20' });
  if (state) q.set('status', state);
  if (token) q.set('nextToken', token);
  const page = await api('GET', '/order?' + q);
  const at = (more) => '#/admin/orders?' + new URLSearchParams({ ...(state && { status: state }), ...more });
  const select = h('select', { id: 'order-status', name: 'status' },
    h('option', { value: '' }, 'Every status'),
    ['PLACED', 'RESERVED', 'PAID', 'SHIPPED', 'CANCELLED'].map((v) => h('option', { value: v, selected: v === state }, v)));
  select.addEventListener('change', () => { location.hash = '#/admin/orders?' + new URLSearchParams(select.value ? { status: select.value } : {}); });
  const redraw = () => adminOrdersPage(query);
  show(h('section', {}, h('h1', {}, state ? 'Orders ' + state : 'Orders'),
    h('p', {}, h('a', { href: '#/admin' }, '← Admin')),
    h('label', {}, 'Status', select),
    page.items.length ? h('div', { id: 'admin-orders' }, page.items.map((o) => adminOrder(o, redraw))) : h('p', {}, 'No orders here.'),
    h('p', { class: 'paging' },
      token ? h('a', { href: '#', id: 'back', onclick: (e) => { e.preventDefault(); history.back(); } }, '← Back') : null,
      token ? h('a', { href: at({}), id: 'first' }, 'First page') : null,
      page.nextToken ? h('a', { href: at({ nextToken: page.nextToken }), id: 'more' }, 'Older orders') : null)));
}

// --- sign-in ---

// afterSignIn remembers, for the sign-in about to happen, where to come
// back to and what to add to the basket then.
function afterSignIn(next) { sessionStorage.setItem('eventshop.next', JSON.stringify(next)); }

// signedIn finishes a sign-in: back where the user was, with the item they
// wanted added.
async function signedIn() {
  const next = JSON.parse(sessionStorage.getItem('eventshop.next') || 'null');
  sessionStorage.removeItem('eventshop.next');
  location.hash = (next && next.hash) || '#/';
  if (next && next.add) {
    try {
      await addToBasket(session(), next.add.productId, next.add.quantity);
      status('Signed in, and added to your basket.');
    } catch (err) { fail(err); }
  }
}

async function signInPage() {
  if (config.signIn === 'cognito') { await startCognitoSignIn(); return; }
  if (config.signIn === 'token') { tokenSignIn(); return; }
  const form = h('form', { class: 'stack', id: 'sign-in' },
    h('p', {}, 'Development sign-in: this local shop gives a token for any user name. It does not exist on AWS, where Cognito signs you in.'),
    h('label', {}, 'User name', h('input', { name: 'userName', required: true, autocomplete: 'username', pattern: '[A-Za-z0-9][A-Za-z0-9._@\\-]{0,63}' })),
    h('label', { class: 'check' }, h('input', { name: 'admin', type: 'checkbox' }), 'Admin'),
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    try {
      const res = await api('POST', '/dev/sign-in', { userName: f.get('userName'), admin: f.get('admin') === 'on' });
      setSession(res);
      await signedIn();
    } catch (err) { fail(err); }
  });
  show(h('section', {}, h('h1', {}, 'Sign in'), form));
}

// tokenSignIn takes a token made by shop token, when the development
// sign-in is off; the API checks it on every call.
function tokenSignIn() {
  const form = h('form', { class: 'stack', id: 'sign-in' },
    h('p', {}, 'Paste a token from ', h('code', {}, 'shop token --data DIR --user NAME [--admin]'), '.'),
    h('label', {}, 'Token', h('textarea', { name: 'token', required: true, rows: 4 })),
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    let token;
    try {
      token = new FormData(form).get('token').trim();
      const claims = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      setSession({ token, userName: claims['cognito:username'], admin: (claims['cognito:groups'] || []).includes('admin'), expiresAt: new Date(claims.exp * 1000).toISOString() });
    } catch { fail(new Error('That is not a token from shop token.')); return; }
    signedIn();
  });
  show(h('section', {}, h('h1', {}, 'Sign in'), form));
}

loadConfig().then(async () => {
  window.addEventListener('hashchange', route);
  // Back from Cognito's hosted sign-in: finish what the sign-in interrupted.
  if (session() && sessionStorage.getItem('eventshop.next')) await signedIn();
  return route();
}).catch(fail);
