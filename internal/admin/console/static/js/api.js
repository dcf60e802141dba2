// api.js — every call to the admin API (/api/*) goes through request():
// it adds the HTTP Basic credentials kept in sessionStorage, sends and
// parses JSON, and turns an error answer ({"error","reason"}) into an
// ApiError. A 401 anywhere means the stored credentials are no good: the
// listeners registered with onUnauthorized (the app shell) show the login
// form again.

const AUTH = 'tern.auth'; // base64("user:password")
const USER = 'tern.user';

const unauthorized = new Set();

/** ApiError is a failed API call: HTTP status, short code, human reason. */
export class ApiError extends Error {
  constructor(status, code, reason) {
    super(reason || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || codeFor(status);
    this.reason = reason || '';
  }
}

function codeFor(status) {
  return {
    400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found',
    405: 'method_not_allowed', 409: 'conflict', 412: 'precondition_failed',
    500: 'internal_error', 503: 'unavailable',
  }[status] || `http_${status}`;
}

/** basicToken encodes user:password as UTF-8, then base64 (btoa alone fails on non-Latin-1). */
export function basicToken(user, password) {
  let bin = '';
  for (const b of new TextEncoder().encode(`${user}:${password}`)) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function credentials() { return sessionStorage.getItem(AUTH); }
export function currentUser() { return sessionStorage.getItem(USER) || ''; }

export function saveCredentials(user, token) {
  sessionStorage.setItem(AUTH, token);
  sessionStorage.setItem(USER, user);
}

export function forgetCredentials() {
  sessionStorage.removeItem(AUTH);
  sessionStorage.removeItem(USER);
}

/** onUnauthorized(fn) calls fn(err) whenever the API answers 401 to the stored credentials. */
export function onUnauthorized(fn) { unauthorized.add(fn); }

/**
 * requestRaw sends one API call and resolves to {status, data, headers}
 * for a 2xx answer; anything else rejects with an ApiError. opts.auth
 * overrides the stored credentials (the login form checks new ones with
 * it); opts.signal aborts the call.
 */
export async function requestRaw(method, path, body, opts = {}) {
  const token = opts.auth ?? credentials();
  if (!token) {
    const err = new ApiError(401, 'unauthorized', 'Log in to use the console.');
    if (!opts.auth) unauthorized.forEach((fn) => fn(err));
    throw err;
  }
  const init = {
    method,
    headers: { Accept: 'application/json', Authorization: `Basic ${token}` },
    // 'omit' keeps the browser's own Basic-auth prompt out of the way: the
    // console shows its login form instead.
    credentials: 'omit',
    cache: 'no-store',
    signal: opts.signal,
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network_error', `The broker did not answer (${e.message}). Is it running?`);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const reason = (data && (data.reason || data.error)) || text.trim() || res.statusText;
    const err = new ApiError(res.status, data && data.error, reason);
    if (res.status === 401 && !opts.auth) unauthorized.forEach((fn) => fn(err));
    throw err;
  }
  return { status: res.status, data, headers: res.headers };
}

/** request is requestRaw's body only. */
export async function request(method, path, body, opts) {
  return (await requestRaw(method, path, body, opts)).data;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body, opts);
export const put = (path, body, opts) => request('PUT', path, body, opts);
export const patch = (path, body, opts) => request('PATCH', path, body, opts);
export const del = (path, opts) => request('DELETE', path, undefined, opts);

/** path joins URL-escaped segments: path('queues', '/', 'q') is "/api/queues/%2F/q". */
export function path(...segments) {
  return '/api/' + segments.map((s) => encodeURIComponent(String(s))).join('/');
}

/** query builds "?a=1&b=2" from the defined, non-empty values of params. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** exchangeSeg names an exchange in a path; the default exchange ("") is "amq.default". */
export function exchangeSeg(name) { return name === '' ? 'amq.default' : name; }
