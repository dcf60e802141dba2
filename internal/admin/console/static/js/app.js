// app.js — the console's shell: login, hash routing, the navigation, the
// running-task banner. Each page module exports functions render(view,
// ctx) that fill view and use ctx to poll; ctx stops every timer when the
// user navigates away.

import * as api from './api.js';
import { h, fill, showError, clearMessages } from './ui.js';
import * as overview from './pages/overview.js';
import * as topics from './pages/topics.js';
import * as browse from './pages/browse.js';
import * as groups from './pages/groups.js';
import * as queues from './pages/queues.js';
import * as exchanges from './pages/exchanges.js';
import * as bindings from './pages/bindings.js';
import * as connections from './pages/connections.js';
import * as tasks from './pages/tasks.js';
import * as users from './pages/users.js';

// routes: first hash segment → page per number of further segments.
const routes = {
  overview: { 0: overview.render },
  topics: { 0: topics.list, 1: topics.detail },
  browse: { 0: browse.render, 1: browse.render },
  groups: { 0: groups.list, 1: groups.detail },
  queues: { 0: queues.list, 2: queues.detail },
  exchanges: { 0: exchanges.list },
  bindings: { 0: bindings.list },
  connections: { 0: connections.list },
  tasks: { 0: tasks.list },
  users: { 0: users.list },
};

const $ = (id) => document.getElementById(id);

let page = null; // the current page's context

/** Context is one page visit: its params and the timers to stop on leaving. */
class Context {
  constructor(params) {
    this.params = params;
    this.disposers = [];
    this.live = true;
    this.abort = new AbortController();
    this.signal = this.abort.signal;
  }

  alive() { return this.live; }

  onDispose(fn) { this.disposers.push(fn); }

  dispose() {
    this.live = false;
    this.abort.abort();
    for (const fn of this.disposers) fn();
  }

  /**
   * every runs fn now and again ms after each run ends (never two at
   * once), while the page is open. Errors are shown, and polling goes on.
   * Returns {now()} to run it again at once (after a form changed data).
   */
  every(ms, fn) {
    let timer = null;
    let running = false;
    let again = false;
    // A hidden tab skips its timed runs; a forced one (first, now()) runs.
    const tick = async (forced) => {
      timer = null;
      if (!this.live) return;
      running = true;
      try {
        if (forced || !document.hidden) await fn();
      } catch (e) {
        if (this.live) showError(e);
      } finally {
        running = false;
      }
      if (!this.live) return;
      if (again) { again = false; tick(true); return; }
      timer = setTimeout(tick, ms, false);
    };
    this.onDispose(() => clearTimeout(timer));
    tick(true);
    return {
      now: () => {
        if (running) { again = true; return; }
        clearTimeout(timer);
        tick(true);
      },
    };
  }
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  if (!raw) return [];
  return raw.split('/').map((s) => {
    try { return decodeURIComponent(s); } catch { return s; }
  });
}

function route() {
  if (page) page.dispose();
  page = null;
  clearMessages();
  const view = $('view');
  if (!api.credentials()) { showLogin(); return; }
  const [name, ...params] = parseHash();
  if (!name) { location.replace('#/overview'); return; }
  showShell(true);
  for (const a of $('nav').querySelectorAll('a')) {
    const on = a.dataset.route === name;
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const render = routes[name] && routes[name][params.length];
  view.replaceChildren();
  if (!render) {
    fill(view, h('h1', null, 'Not found'),
      h('p', null, 'There is no page at ', h('code', null, location.hash), '. ', h('a', { href: '#/overview' }, 'Go to the overview.')));
    return;
  }
  const ctx = new Context(params);
  page = ctx;
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · Tern`;
  try {
    const p = render(view, ctx);
    if (p && p.catch) p.catch((e) => { if (ctx.alive()) showError(e); });
  } catch (e) {
    showError(e);
  }
}

// ---- login -------------------------------------------------------------

function showShell(on) {
  $('nav').hidden = !on;
  $('logout').hidden = !on;
  $('whoami').textContent = on ? api.currentUser() : '';
  if (!on) $('task-banner').hidden = true;
}

function showLogin(problem) {
  showShell(false);
  document.title = 'Log in · Tern';
  const user = h('input', { id: 'login-user', testid: 'login-user', name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { id: 'login-password', testid: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password' });
  const err = h('div', { id: 'login-error', testid: 'login-error', class: 'msg error', role: 'alert', hidden: !problem }, problem || '');
  const submit = h('button', { id: 'login-submit', testid: 'login-submit', type: 'submit', class: 'primary' }, 'Log in');
  const form = h('form', { id: 'login-form', class: 'login card' },
    h('h1', null, 'Tern console'),
    h('p', { class: 'muted' }, 'Log in with a user that has the administrator tag (a new node has guest/guest, from this machine only).'),
    err,
    h('label', { class: 'field' }, h('span', { class: 'label' }, 'User'), user),
    h('label', { class: 'field' }, h('span', { class: 'label' }, 'Password'), pass),
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    err.hidden = true;
    const token = api.basicToken(user.value, pass.value);
    try {
      await checkLogin(token);
      api.saveCredentials(user.value, token);
      startTaskBanner();
      loadNodeName();
      if (!parseHash().length) location.replace('#/overview');
      route();
    } catch (ex) {
      err.textContent = loginProblem(ex, user.value);
      if (ex.status === 503) err.textContent += await recoveryProgress();
      err.hidden = false;
      submit.disabled = false;
    }
  });
  fill($('view'), form);
  (user.value ? pass : user).focus();
}

async function checkLogin(token) {
  try {
    await api.get('/api/whoami', { auth: token });
  } catch (e) {
    // A broker whose API lacks whoami still proves the login on overview.
    if (e.status !== 404) throw e;
    await api.get('/api/overview', { auth: token });
  }
}

// recoveryProgress describes a running startup recovery: /api/tasks
// answers while every other endpoint says 503.
async function recoveryProgress() {
  try {
    const t = ((await api.get('/api/tasks')) || []).find((x) => x.kind === 'open_logs' && x.state === 'running');
    if (t) return ` Recovering: ${t.done} of ${t.total || '?'} ${t.unit}.`;
  } catch { /* the 503's reason already says to wait */ }
  return '';
}

function loginProblem(e, user) {
  if (e.status === 503) return `The node is starting (503): ${e.reason || 'try again in a moment.'}`;
  if (e.status === 401) return `Wrong user name or password (401${e.reason ? ': ' + e.reason : ''}).`;
  if (e.status === 403) {
    return `User "${user}" may not use the console (403 forbidden): ${e.reason || 'it needs the administrator tag.'}`;
  }
  return `Could not log in: ${e.message}`;
}

function logout(problem) {
  api.forgetCredentials();
  stopTaskBanner();
  if (page) page.dispose();
  page = null;
  clearMessages(true);
  showLogin(problem);
}

api.onUnauthorized((e) => {
  if (!$('login-form')) logout(`Please log in again: the broker refused the stored credentials (401${e.reason ? ': ' + e.reason : ''}).`);
});

async function loadNodeName() {
  try {
    const ov = await api.get('/api/overview');
    $('node-name').textContent = [ov.cluster_name, ov.node, ov.product_version].filter(Boolean).join(' · ');
  } catch { /* the overview page shows the error */ }
}

// ---- running tasks banner ----------------------------------------------

let bannerTimer = null;

function stopTaskBanner() {
  clearTimeout(bannerTimer);
  bannerTimer = null;
  $('task-banner').hidden = true;
}

function startTaskBanner() {
  stopTaskBanner();
  const tick = async () => {
    let next = 3000;
    try {
      const list = await api.get('/api/tasks');
      renderBanner((list || []).filter((t) => t.state === 'running'));
    } catch (e) {
      // No banner is better than an error on every page; the tasks page
      // shows what went wrong. A broker without the endpoint is asked less.
      $('task-banner').hidden = true;
      if (e.status === 404) next = 60000;
    }
    if (api.credentials()) bannerTimer = setTimeout(tick, next);
  };
  tick();
}

function renderBanner(running) {
  const b = $('task-banner');
  if (!running.length) { b.hidden = true; return; }
  const t = running[0];
  const pct = t.total > 0 ? ` — ${Math.floor((100 * t.done) / t.total)}%` : '';
  const more = running.length > 1 ? ` and ${running.length - 1} more` : '';
  fill(b, h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    `Running: ${t.kind.replace(/_/g, ' ')} ${t.target || ''}${pct}${more}. `,
    h('a', { href: '#/tasks' }, 'Show tasks'));
  b.hidden = false;
}

// ---- start -------------------------------------------------------------

function init() {
  $('logout').addEventListener('click', () => logout());
  window.addEventListener('hashchange', route);
  if (api.credentials()) {
    startTaskBanner();
    loadNodeName();
  }
  route();
}

init();
