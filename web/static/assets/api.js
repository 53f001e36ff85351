// What the storefront and the console share: the configuration, the signed-in
// session, the API client, and h(), which builds elements whose text is always
// text: nothing the API returns is ever parsed as markup.

export let config = { apiUrl: '', signIn: 'dev', console: false, currency: 'USD' };

export async function loadConfig() {
  const res = await fetch('/config.json', { cache: 'no-cache' });
  if (!res.ok) throw new Error('no /config.json: ' + res.status);
  config = await res.json();
  if (config.signIn === 'cognito') await finishCognitoSignIn();
  return config;
}

// The session (token, user name, admin) lives in this tab's session storage:
// readable by this origin's own scripts only, gone when the tab closes.
const KEY = 'eventshop.session';

export function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY));
    if (s && new Date(s.expiresAt) > new Date()) return s;
  } catch { /* no session */ }
  return null;
}

export function setSession(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); }
export function signOut() { sessionStorage.removeItem(KEY); }

// An answer that is not 2xx, with its problem+json detail.
export class APIError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || ('HTTP ' + status));
    this.status = status;
    this.problem = problem;
  }
}

// api calls the documented API with the session's token.
export async function api(method, path, body, headers = {}) {
  const h = { ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const s = session();
  if (s) h.Authorization = 'Bearer ' + s.token;
  const res = await fetch(config.apiUrl + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new APIError(res.status, data);
  return data;
}

// h makes an element: attributes from attrs (on* are listeners), children
// appended, strings as text nodes.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return el;
}

// text isolates untrusted text, such as a product's name, from the text
// around it (bidirectional characters stay inside).
export function text(s) { return h('bdi', {}, s ?? ''); }

// money is an amount in the shop's currency, with its symbol and the
// reader's separators ("$1,299.00").
export function money(n) {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency: config.currency || 'USD' }).format(Number(n));
}

// amount is an amount as a number field takes it ("1299.00").
export function amount(n) { return Number(n).toFixed(2); }

export function show(node) {
  const main = document.getElementById('main');
  main.replaceChildren(node);
}

export function status(message, error = false) {
  const el = document.getElementById('status');
  el.textContent = message;
  el.classList.toggle('error', error);
}

// fail reports an error in the status line.
export function fail(err) { status(err.message || String(err), true); }

// --- Cognito's hosted sign-in: authorization code with PKCE (on AWS) ---

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export async function startCognitoSignIn() {
  const c = config.cognito;
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem('eventshop.pkce', JSON.stringify({ verifier, state }));
  const q = new URLSearchParams({ response_type: 'code', client_id: c.clientId, redirect_uri: c.redirectUri, scope: 'openid profile',
    code_challenge_method: 'S256', code_challenge: challenge, state });
  location.assign(c.domain + '/oauth2/authorize?' + q);
}

async function finishCognitoSignIn() {
  const q = new URLSearchParams(location.search);
  if (!q.has('code')) return;
  const pkce = JSON.parse(sessionStorage.getItem('eventshop.pkce') || 'null');
  sessionStorage.removeItem('eventshop.pkce');
  history.replaceState(null, '', location.pathname + location.hash);
  if (!pkce || q.get('state') !== pkce.state) throw new Error('sign-in answer does not match the request; sign in again');
  const c = config.cognito;
  const res = await fetch(c.domain + '/oauth2/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: c.clientId, code: q.get('code'), redirect_uri: c.redirectUri, code_verifier: pkce.verifier }) });
  if (!res.ok) throw new Error('sign-in failed: ' + res.status);
  const tokens = await res.json();
  const claims = JSON.parse(atob(tokens.id_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  const groups = claims['cognito:groups'] || [];
  setSession({ token: tokens.id_token, userName: claims['cognito:username'], admin: groups.includes('admin'),
    expiresAt: new Date(claims.exp * 1000).toISOString() });
}
