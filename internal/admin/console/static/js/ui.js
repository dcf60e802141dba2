// ui.js — small DOM helpers shared by the pages. Everything the API
// returns is put into the page as text (textContent), never as HTML.

import { ApiError } from './api.js';

/**
 * h builds an element. attrs: class, id, testid (data-testid), data
 * (dataset), style (an object, set through el.style), on<event> handlers, value/checked (set as properties after
 * the children, so a <select> keeps its value); true adds an empty
 * attribute, null/false/undefined leave it out. Children may be nodes,
 * strings, numbers, arrays or null.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  const props = {};
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'testid') el.dataset.testid = v;
    else if (k === 'data') Object.assign(el.dataset, v);
    // Styles go through the CSSOM: the page's CSP refuses style attributes.
    else if (k === 'style') Object.assign(el.style, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked') props[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  add(el, children);
  Object.assign(el, props);
  return el;
}

function add(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

/** fill replaces el's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  add(el, children);
  return el;
}

// ---- formatting ------------------------------------------------------

const dash = '–';

export const fmt = {
  num(n) { return n === undefined || n === null || Number.isNaN(n) ? dash : Number(n).toLocaleString('en-US'); },
  bytes(n) {
    if (n === undefined || n === null) return dash;
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let v = Number(n);
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
  },
  /** duration formats milliseconds as "3d 4h", "5m 2s", "800 ms". */
  duration(ms) {
    if (ms === undefined || ms === null) return dash;
    if (ms < 1000) return `${Math.round(ms)} ms`;
    let s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400); s -= d * 86400;
    const hr = Math.floor(s / 3600); s -= hr * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    if (d) return `${d}d ${hr}h`;
    if (hr) return `${hr}h ${m}m`;
    if (m) return `${m}m ${s}s`;
    return `${s}s`;
  },
  seconds(s) { return s === undefined || s === null ? dash : fmt.duration(s * 1000); },
  /** time formats unix milliseconds as local "YYYY-MM-DD HH:MM:SS.mmm". */
  time(ms) {
    if (ms === undefined || ms === null || ms < 0) return dash;
    const d = new Date(ms);
    const p = (n, w = 2) => String(n).padStart(w, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
      `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  },
  clock(ms) { return fmt.time(ms).slice(11, 19); },
  rate(r) { return r === undefined || r === null ? dash : `${r < 10 ? r.toFixed(1) : Math.round(r)}/s`; },
  bool(b) { return b ? 'yes' : 'no'; },
  json(v) { return v && Object.keys(v).length ? JSON.stringify(v) : ''; },
};

// ---- tables ----------------------------------------------------------

/**
 * table renders rows under columns [{label, value(row) → node|string,
 * num: right-aligned, col: data-col name}]. rowAttrs(row) gives each <tr>'s
 * attributes (testid, data). empty is shown when there are no rows.
 */
export function table({ columns, rows, rowAttrs, empty = 'Nothing here yet.', testid, id }) {
  const head = h('tr', null, columns.map((c) => h('th', { class: c.num ? 'num' : null }, c.label)));
  const body = rows.length
    ? rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : null,
      columns.map((c) => h('td', { class: c.num ? 'num' : null, data: c.col ? { col: c.col } : null }, c.value(r)))))
    : h('tr', { class: 'empty' }, h('td', { colspan: columns.length }, empty));
  return h('table', { class: 'grid', testid, id }, h('thead', null, head), h('tbody', null, body));
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}`.trim() }, text);
}

const stateKinds = {
  running: 'ok', stable: 'ok', done: 'ok', ready: 'ok',
  empty: 'idle', dead: 'idle', idle: 'idle',
  preparingrebalance: 'warn', completingrebalance: 'warn', rebalancing: 'warn',
  failed: 'bad', error: 'bad', down: 'bad',
};

export function stateBadge(state) {
  const s = String(state || 'unknown');
  return badge(s, stateKinds[s.toLowerCase().replace(/[^a-z]/g, '')] || '');
}

/** link to a hash route built from segments, each URL-escaped. */
export function href(...segments) {
  return '#/' + segments.map((s) => encodeURIComponent(String(s))).join('/');
}

/** payload shows a string that may be binary (encoding "base64") or null. */
export function payload(value, encoding) {
  if (value === null || value === undefined) return h('span', { class: 'muted' }, 'null');
  const b64 = encoding === 'base64';
  let text = value;
  let pretty = null;
  if (!b64 && /^\s*[[{]/.test(value)) {
    try { pretty = JSON.stringify(JSON.parse(value), null, 2); } catch { pretty = null; }
  }
  const tag = b64 ? badge('base64', 'muted') : null;
  if (text.length <= 160 && !pretty) return h('span', { class: 'payload' }, tag, h('code', null, text));
  if (text.length > 160) text = text.slice(0, 160) + '…';
  return h('details', { class: 'payload' },
    h('summary', null, tag, h('code', null, text)),
    h('pre', null, pretty || value));
}

// ---- forms -----------------------------------------------------------

/** field wraps a control with its label (and an optional hint). */
export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), control,
    hint ? h('span', { class: 'hint' }, hint) : null);
}

export function select(attrs, options, selected) {
  return h('select', { ...attrs, value: selected },
    options.map((o) => (Array.isArray(o) ? h('option', { value: o[0] }, o[1]) : h('option', { value: o }, o))));
}

/** busy disables button while fn runs; errors are shown, not thrown. */
export async function busy(button, fn) {
  button.disabled = true;
  button.classList.add('busy');
  try {
    return await fn();
  } catch (e) {
    showError(e);
    return undefined;
  } finally {
    button.disabled = false;
    button.classList.remove('busy');
  }
}

/** parseObject reads a JSON object from a textarea ("" is {}). */
export function parseObject(text, what) {
  const t = text.trim();
  if (!t) return {};
  let v;
  try { v = JSON.parse(t); } catch (e) { throw new Error(`${what} must be a JSON object: ${e.message}`); }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} must be a JSON object like {"key": "value"}`);
  return v;
}

/** parsePairs reads "key=value" lines (or a JSON object) into an object of strings. */
export function parsePairs(text, what) {
  const t = text.trim();
  if (t.startsWith('{')) return parseObject(t, what);
  const out = {};
  for (const line of t.split('\n')) {
    const l = line.trim();
    if (!l) continue;
    const i = l.indexOf('=');
    if (i <= 0) throw new Error(`${what}: "${l}" is not key=value`);
    out[l.slice(0, i).trim()] = l.slice(i + 1).trim();
  }
  return out;
}

// ---- messages --------------------------------------------------------

function messages() { return document.getElementById('messages'); }

/** showError puts err in the message area until dismissed (one copy of each text). */
export function showError(err) {
  if (err && err.name === 'AbortError') return;
  // A 401 brings the login form back, which says so itself.
  if (err instanceof ApiError && err.status === 401 && document.getElementById('login-form')) return;
  let title = 'Error';
  let text = String(err && err.message ? err.message : err);
  if (err instanceof ApiError) {
    title = err.status ? `${err.code} (${err.status})` : err.code;
    text = err.reason || err.message;
    if (err.status === 403 && !err.reason) text = 'This user may not do that: the console needs a user with the administrator tag.';
  }
  const key = `${title}|${text}`;
  const box = messages();
  for (const m of box.children) if (m.dataset.key === key) return;
  box.append(h('div', { class: 'msg error', role: 'alert', testid: 'error-message', data: { key } },
    h('strong', null, title), ' ', h('span', { class: 'reason' }, text),
    h('button', { class: 'close', type: 'button', title: 'Dismiss', onclick: (e) => e.target.closest('.msg').remove() }, '×')));
}

/** showOk shows a short success note that fades after a few seconds. */
export function showOk(text, kind = 'ok') {
  const m = h('div', { class: `msg ${kind}`, role: 'status', testid: kind === 'ok' ? 'ok-message' : 'warn-message' }, text);
  messages().append(m);
  setTimeout(() => m.remove(), kind === 'ok' ? 5000 : 10000);
}

/**
 * clearMessages drops the errors (on navigation: they were about the page
 * left); success notes stay until they fade, so "deleted" survives the
 * move back to the list. all drops those too (on logout).
 */
export function clearMessages(all = false) {
  for (const m of [...messages().children]) if (all || m.classList.contains('error')) m.remove();
}

// ---- confirmation ----------------------------------------------------

/**
 * confirmAction opens a modal and resolves to true only when the user
 * confirms. With expect set, the confirm button stays disabled until the
 * user has typed exactly that text (for deletes and purges).
 */
export function confirmAction({ title, message, expect, ok = 'Delete', danger = true }) {
  return new Promise((resolve) => {
    const input = expect !== undefined
      ? h('input', { id: 'confirm-input', testid: 'confirm-input', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Type to confirm' })
      : null;
    const okBtn = h('button', { id: 'confirm-ok', testid: 'confirm-ok', type: 'submit', class: danger ? 'danger' : 'primary', disabled: expect !== undefined }, ok);
    const cancel = h('button', { id: 'confirm-cancel', testid: 'confirm-cancel', type: 'button' }, 'Cancel');
    const form = h('form', { method: 'dialog' },
      h('h2', null, title),
      h('p', null, message),
      input ? h('p', null, 'Type ', h('code', { class: 'expect' }, expect), ' to confirm.') : null,
      input,
      h('div', { class: 'actions' }, cancel, okBtn));
    const dlg = h('dialog', { id: 'confirm-dialog', testid: 'confirm-dialog', class: 'confirm' }, form);
    let confirmed = false;
    if (input) input.addEventListener('input', () => { okBtn.disabled = input.value !== expect; });
    cancel.addEventListener('click', () => dlg.close());
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (input && input.value !== expect) return;
      confirmed = true;
      dlg.close();
    });
    dlg.addEventListener('close', () => { dlg.remove(); resolve(confirmed); });
    document.body.append(dlg);
    dlg.showModal();
    (input || cancel).focus();
  });
}
