// The console: the bus's events as they happen, the queues and their dead
// letters, the outboxes, and the recent traces as waterfalls. For admins of
// the local shop; it reads the console's admin API (documented with the rest).
import { api, APIError, config, fail, h, loadConfig, session, show, signOut, status, text } from './api.js';

let leave = () => {};
const events = []; // newest last, at most 500
let eventFilter = '';
let selected = null;
let redrawEvents = () => {};

async function route() {
  leave();
  leave = () => {};
  status('');
  const s = session();
  if (!s || !s.admin) {
    show(h('p', {}, 'The console is for admins: ', h('a', { href: '/#/sign-in' }, 'sign in'), ' as one, then come back.'));
    return;
  }
  if (ended) return;
  const [view, arg] = location.hash.slice(1).split('/');
  try {
    if (view === 'queues') await queuesPage();
    else if (view === 'outboxes') await outboxesPage();
    else if (view === 'traces') await tracesPage();
    else if (view === 'trace') await tracePage(decodeURIComponent(arg));
    else eventsPage(arg ? decodeURIComponent(arg) : '');
  } catch (err) { failed(err); }
}

// ended is set once the session has ended: nothing is retried with it.
let ended = false;

// failed reports err; a session that has ended (401) stops every refresh and
// stream, and the page says how to sign in again rather than retry.
function failed(err) {
  if (!(err instanceof APIError && err.status === 401)) { fail(err); return; }
  ended = true;
  leave();
  signOut();
  status('');
  show(h('p', { id: 'session-ended' }, 'Your session has ended. ', h('a', { href: '/#/sign-in' }, 'Sign in'), ' again, then come back.'));
}

function every(ms, draw) {
  const timer = setInterval(() => draw().catch(failed), ms);
  leave = () => clearInterval(timer);
}

// --- events ---

// The trace id of an envelope's traceparent, if it carries one.
function traceOf(env) {
  const tp = env.detail && env.detail.traceparent;
  const m = typeof tp === 'string' && tp.match(/^00-([0-9a-f]{32})-/);
  return m ? m[1] : '';
}

// stream reads the console's event stream (server-sent events) with fetch,
// which can send the token, as EventSource cannot.
async function stream() {
  const s = session();
  for (;;) {
    try {
      const res = await fetch(config.apiUrl + '/console/api/events', { headers: { Authorization: 'Bearer ' + s.token } });
      if (res.status === 401) { failed(new APIError(401, null)); return; }
      if (!res.ok) throw new Error('event stream: HTTP ' + res.status);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (!data) continue;
          events.push(JSON.parse(data));
          if (events.length > 500) events.shift();
          redrawEvents();
        }
      }
    } catch (err) { fail(err); }
    await new Promise((r) => setTimeout(r, 2000)); // the shop restarted, or the network blinked
  }
}

function eventsPage(filter) {
  if (filter) eventFilter = filter;
  const input = h('input', { type: 'search', id: 'event-filter', value: eventFilter, placeholder: 'type, source, order id, trace id…', 'aria-label': 'Filter events' });
  const body = h('tbody', {});
  const detail = h('pre', { id: 'envelope', 'aria-label': 'Selected event' });
  const hint = h('p', { class: 'muted' }, 'Select an event to see its envelope.');
  redrawEvents = () => {
    const f = eventFilter.toLowerCase();
    const shown = events.filter((e) => !f || JSON.stringify(e).toLowerCase().includes(f)).slice(-200).reverse();
    body.replaceChildren(...shown.flatMap((e) => {
      const env = JSON.parse(JSON.stringify(e.envelope));
      const trace = traceOf(env);
      const row = h('tr', { tabindex: 0, class: e === selected ? 'selected' : '', 'data-type': env['detail-type'] },
        h('td', {}, new Date(e.at).toLocaleTimeString()),
        h('td', { class: 'opt' }, text(env.source)),
        h('td', {}, text(env['detail-type'])),
        h('td', { class: 'opt' }, text((env.detail && env.detail.correlationId) || '')),
        h('td', {}, trace ? h('a', { href: '#trace/' + trace }, trace.slice(0, 8) + '…') : ''),
        h('td', { class: 'opt' }, e.queues.join(', ') || 'no rule'));
      const pick = () => {
        selected = e;
        detail.textContent = JSON.stringify(e.envelope, null, 2);
        redrawEvents();
        detail.scrollIntoView({ block: 'nearest' });
      };
      row.addEventListener('click', pick);
      row.addEventListener('keydown', (k) => { if (k.key === 'Enter') pick(); });
      // The selected event's envelope opens right under it.
      return e === selected ? [row, h('tr', { class: 'envelope-row' }, h('td', { colspan: 6 }, detail))] : [row];
    }));
    hint.hidden = selected !== null;
  };
  input.addEventListener('input', () => { eventFilter = input.value; redrawEvents(); });
  redrawEvents();
  show(h('section', {}, h('h1', {}, 'Events'),
    h('p', { class: 'muted' }, 'Every event the bus takes, as it takes it (the last 200 first).'),
    h('label', {}, 'Filter', input),
    h('table', { class: 'events', id: 'events' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', { class: 'opt' }, 'Source'), h('th', {}, 'Detail type'), h('th', { class: 'opt' }, 'Correlation id'), h('th', {}, 'Trace'), h('th', { class: 'opt' }, 'Queues'))),
      body),
    hint));
  leave = () => { redrawEvents = () => {}; };
}

// --- queues and dead letters ---

async function queuesPage() {
  const letters = h('div', { id: 'dead-letters' });
  const table = h('tbody', {});
  const draw = async () => {
    const qs = await api('GET', '/admin/queues');
    table.replaceChildren(...qs.items.map((q) => h('tr', { 'data-queue': q.queue },
      h('td', {}, q.queue), h('td', { 'data-label': 'Waiting' }, String(q.messages - q.inFlight)), h('td', { 'data-label': 'In flight' }, String(q.inFlight)), h('td', { 'data-label': 'Dead letters' }, String(q.deadLetters)),
      h('td', {}, h('button', { type: 'button', class: 'secondary', onclick: () => showLetters(q.queue, letters).catch(fail) }, 'Dead letters')))));
  };
  await draw();
  every(2000, draw);
  show(h('section', {}, h('h1', {}, 'Queues'),
    h('table', { id: 'queues' }, h('thead', {}, h('tr', {}, h('th', {}, 'Queue'), h('th', {}, 'Waiting'), h('th', {}, 'In flight'), h('th', {}, 'Dead letters'), h('th', {}, ''))), table),
    letters));
}

async function showLetters(queue, into) {
  const q = encodeURIComponent(queue);
  const list = await api('GET', `/admin/queues/${q}/dead-letters`);
  const act = (method, path, done) => async () => {
    try { await api(method, path); status(done); await showLetters(queue, into); } catch (err) { fail(err); }
  };
  into.replaceChildren(h('h2', {}, 'Dead letters of ', queue),
    list.items.length ? h('div', {},
      h('button', { type: 'button', onclick: act('POST', `/admin/queues/${q}/dead-letters/redrive`, 'All redriven.') }, 'Redrive all'),
      list.items.map((d) => h('article', { class: 'card', 'data-dead-letter': d.id },
        h('p', {}, h('code', {}, d.id), ' ',
          h('button', { type: 'button', onclick: act('POST', `/admin/queues/${q}/dead-letters/${encodeURIComponent(d.id)}/redrive`, 'Redriven.') }, 'Redrive'), ' ',
          h('button', { type: 'button', class: 'danger', onclick: act('DELETE', `/admin/queues/${q}/dead-letters/${encodeURIComponent(d.id)}`, 'Deleted.') }, 'Delete')),
        h('p', { class: 'last-error' }, 'Last error: ', d.lastError ? text(d.lastError) : h('span', { class: 'muted' }, 'not known')),
        d.body && traceOf(d.body) ? h('p', {}, 'Trace: ', h('a', { href: '#trace/' + traceOf(d.body), 'data-trace-link': '' }, traceOf(d.body))) : '',
        h('pre', {}, d.body !== undefined ? JSON.stringify(d.body, null, 2) : d.raw))))
      : h('p', {}, 'None.'));
}

// --- outboxes ---

async function outboxesPage() {
  const body = h('tbody', {});
  const draw = async () => {
    const obs = await api('GET', '/console/api/outboxes');
    body.replaceChildren(...obs.items.map((o) => h('tr', { 'data-service': o.service },
      h('td', {}, o.service), h('td', {}, String(o.pending)), h('td', {}, o.lagSeconds.toFixed(1) + ' s'))));
  };
  await draw();
  every(2000, draw);
  show(h('section', {}, h('h1', {}, 'Outboxes'),
    h('p', { class: 'muted' }, 'Events each service has committed and its relay has not yet handed to the bus.'),
    h('table', { id: 'outboxes' }, h('thead', {}, h('tr', {}, h('th', {}, 'Service'), h('th', {}, 'Pending'), h('th', {}, 'Oldest waits'))), body)));
}

// --- traces ---

async function tracesPage() {
  const list = await api('GET', '/console/api/traces?limit=100');
  show(h('section', {}, h('h1', {}, 'Recent traces'),
    h('table', { id: 'traces' }, h('thead', {}, h('tr', {}, h('th', {}, 'Trace'), h('th', {}, 'Root'), h('th', {}, 'Spans'), h('th', { class: 'opt' }, 'Started'))),
      h('tbody', {}, list.items.map((t) => h('tr', {},
        h('td', {}, h('a', { href: '#trace/' + t.traceId }, t.traceId.slice(0, 12) + '…')),
        h('td', {}, breakable(t.name)), h('td', {}, String(t.spans)), h('td', { class: 'opt' }, new Date(t.start).toLocaleTimeString())))))));
}

async function tracePage(id) {
  const t = await api('GET', '/console/api/traces/' + encodeURIComponent(id));
  const start = Math.min(...t.spans.map((s) => Date.parse(s.start)));
  const end = Math.max(...t.spans.map((s) => Date.parse(s.end)));
  const total = Math.max(end - start, 1);
  // Parents before children, siblings by start: the waterfall's order.
  const children = new Map();
  for (const s of t.spans) {
    const k = t.spans.some((p) => p.spanId === s.parentSpanId) ? s.parentSpanId : '';
    if (!children.has(k)) children.set(k, []);
    children.get(k).push(s);
  }
  // Each service's spans share a colour, and the summary lists the
  // services in the order the trace reached them.
  const services = [];
  for (const s of [...t.spans].sort((a, b) => Date.parse(a.start) - Date.parse(b.start))) {
    if (!services.includes(s.service)) services.push(s.service);
  }
  const hue = (service) => (services.indexOf(service) * 67 + 210) % 360;
  const rows = [];
  const walk = (parent, depth) => {
    for (const s of (children.get(parent) || []).sort((a, b) => Date.parse(a.start) - Date.parse(b.start))) {
      const bar = h('div', { class: 'span' + (s.status === 'error' ? ' error' : '') });
      bar.style.left = ((Date.parse(s.start) - start) / total * 100) + '%';
      bar.style.width = ((Date.parse(s.end) - Date.parse(s.start)) / total * 100) + '%';
      if (s.status !== 'error') bar.style.background = `hsl(${hue(s.service)} 60% 45%)`;
      const name = h('td', {}, breakable(s.name));
      name.style.paddingLeft = (0.5 + depth) + 'rem';
      rows.push(h('tr', { 'data-span': s.spanId }, name, h('td', { class: 'opt' }, text(s.service)),
        h('td', {}, ((Date.parse(s.end) - Date.parse(s.start))).toFixed(0) + ' ms'), h('td', { class: 'track-cell' }, h('div', { class: 'track' }, bar))));
      walk(s.spanId, depth + 1);
    }
  };
  walk('', 0);
  show(h('section', { class: 'waterfall' }, h('h1', {}, 'Trace ', h('code', {}, t.traceId)),
    h('p', { class: 'muted' }, plural(t.spans.length, 'span') + ' over ' + total + ' ms in ' + plural(services.length, 'service')),
    h('ul', { id: 'trace-services', class: 'services' }, services.map((name) => {
      const own = t.spans.filter((s) => s.service === name);
      const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.background = `hsl(${hue(name)} 60% 45%)`;
      return h('li', { 'data-service': name }, swatch, text(name || 'unknown'), ' ', h('span', { class: 'muted' }, plural(own.length, 'span')));
    })),
    h('table', { id: 'waterfall' }, h('thead', {}, h('tr', {}, h('th', {}, 'Span'), h('th', { class: 'opt' }, 'Service'), h('th', {}, 'Took'), h('th', {}, 'When'))), h('tbody', {}, rows))));
}

// breakable is a name such as "GET /console/api/traces/{traceId}" as text
// that may wrap after each slash, never inside a word, on a narrow screen.
function breakable(name) {
  return h('bdi', {}, (name || '').split(/(?<=\/)/).flatMap((part, i) => (i ? [h('wbr'), part] : [part])));
}

// plural is "1 span", "2 spans".
function plural(n, noun) {
  return n + ' ' + noun + (n === 1 ? '' : 's');
}

loadConfig().then(() => {
  window.addEventListener('hashchange', route);
  if (session() && session().admin) stream();
  return route();
}).catch(fail);
