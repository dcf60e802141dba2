// Queues: the list with rates and head age, declare, purge and delete; a
// queue's details, peek (get with requeue), and its bindings.

import * as api from '../api.js';
import {
  h, fill, fmt, table, href, field, select, busy, parseObject, showOk, confirmAction, stateBadge, badge,
} from '../ui.js';
import { bindingsTable, createForm, vhostNames } from './bindings.js';

function queuePath(vhost, name, ...rest) { return api.path('queues', vhost, name, ...rest); }

/** purgeQueue confirms by name, then purges; true if purged. */
export async function purgeQueue(q) {
  const ok = await confirmAction({
    title: `Purge queue ${q.name}?`,
    message: `Every ready message of ${q.name} (vhost ${q.vhost}) is deleted; messages delivered but not yet acknowledged stay. This cannot be undone.`,
    expect: q.name,
    ok: 'Purge queue',
  });
  if (!ok) return false;
  await api.del(queuePath(q.vhost, q.name, 'contents'));
  showOk(`Queue ${q.name} purged.`);
  return true;
}

/** deleteQueue confirms by name, then deletes; true if deleted. */
export async function deleteQueue(q) {
  const ok = await confirmAction({
    title: `Delete queue ${q.name}?`,
    message: `The queue, its ${fmt.num(q.messages)} messages and its bindings are removed; its consumers are cancelled.`,
    expect: q.name,
    ok: 'Delete queue',
  });
  if (!ok) return false;
  await api.del(queuePath(q.vhost, q.name));
  showOk(`Queue ${q.name} deleted.`);
  return true;
}

/** Rates keeps the last message_stats per queue to turn counters into per-second rates. */
class Rates {
  constructor() { this.prev = new Map(); }

  update(queues) {
    const now = Date.now();
    const out = new Map();
    for (const q of queues) {
      const k = `${q.vhost}\u0000${q.name}`;
      const ms = q.message_stats || {};
      const p = this.prev.get(k);
      const r = (f) => (p && ms[f] !== undefined && p.ms[f] !== undefined ? Math.max(0, (ms[f] - p.ms[f]) / ((now - p.t) / 1000)) : null);
      out.set(k, { ms, t: now, publish: r('publish'), deliver: r('deliver_get'), ack: r('ack') });
    }
    this.prev = out;
    return (q) => out.get(`${q.vhost}\u0000${q.name}`) || {};
  }
}

export async function list(view, ctx) {
  const vhostFilter = h('select', { id: 'queues-vhost', 'aria-label': 'Vhost' }, h('option', { value: '' }, 'All vhosts'));
  const filter = h('input', { id: 'queues-filter', type: 'search', placeholder: 'Filter by name', 'aria-label': 'Filter queues' });
  const count = h('span', { class: 'count' });
  const holder = h('div', { id: 'queues-table' });
  const rates = new Rates();
  let queues = [];
  let rate = () => ({});

  const draw = () => {
    const f = filter.value.trim().toLowerCase();
    const rows = queues.filter((q) => (!vhostFilter.value || q.vhost === vhostFilter.value) && (!f || q.name.toLowerCase().includes(f)));
    count.textContent = `${rows.length} of ${queues.length} queues`;
    fill(holder, table({
      testid: 'queues',
      columns: [
        { label: 'Vhost', value: (q) => q.vhost },
        { label: 'Name', value: (q) => h('a', { href: href('queues', q.vhost, q.name), testid: 'queue-link' }, q.name) },
        { label: 'Type', value: (q) => [q.type || 'classic', q.durable ? null : [' ', badge('transient', 'muted')], q.exclusive ? [' ', badge('exclusive', 'muted')] : null] },
        { label: 'State', value: (q) => stateBadge(q.state || 'running') },
        { label: 'Ready', num: true, col: 'ready', value: (q) => fmt.num(q.messages_ready) },
        { label: 'Unacked', num: true, col: 'unacked', value: (q) => fmt.num(q.messages_unacknowledged) },
        { label: 'Total', num: true, col: 'messages', value: (q) => fmt.num(q.messages) },
        { label: 'Consumers', num: true, col: 'consumers', value: (q) => fmt.num(q.consumers) },
        { label: 'In', num: true, col: 'rate-in', value: (q) => fmt.rate(rate(q).publish) },
        { label: 'Out', num: true, col: 'rate-out', value: (q) => fmt.rate(rate(q).deliver) },
        { label: 'Head age', num: true, col: 'head-age', value: (q) => (q.messages_ready ? fmt.seconds(q.head_message_age_seconds) : '–') },
        {
          label: '',
          value: (q) => [
            h('button', { type: 'button', class: 'small', testid: 'queue-purge', onclick: async (e) => { if (await busy(e.target, () => purgeQueue(q))) refresh.now(); } }, 'Purge'), ' ',
            h('button', { type: 'button', class: 'small danger', testid: 'queue-delete', onclick: async (e) => { if (await busy(e.target, () => deleteQueue(q))) refresh.now(); } }, 'Delete'),
          ],
        },
      ],
      rows,
      rowAttrs: (q) => ({ testid: 'queue-row', data: { vhost: q.vhost, name: q.name } }),
      empty: queues.length ? 'No queue matches.' : 'No queues yet. Declare one above, or with an AMQP client.',
    }));
  };
  vhostFilter.addEventListener('change', draw);
  filter.addEventListener('input', draw);

  const declare = declareForm(() => refresh.now());
  view.append(h('h1', null, 'Queues'), declare.el,
    h('div', { class: 'table-tools' }, vhostFilter, filter, count), holder);

  const vhosts = await vhostNames(ctx.signal);
  for (const v of vhosts) vhostFilter.append(h('option', { value: v }, v));
  declare.setVhosts(vhosts);

  const refresh = ctx.every(5000, async () => {
    queues = (await api.get('/api/queues', { signal: ctx.signal })) || [];
    queues.sort((a, b) => a.vhost.localeCompare(b.vhost) || a.name.localeCompare(b.name));
    rate = rates.update(queues);
    draw();
  });
}

function declareForm(declared) {
  const vhost = h('select', { id: 'queue-vhost', testid: 'queue-vhost' });
  const name = h('input', { id: 'queue-name', testid: 'queue-name', required: true, maxlength: 255, placeholder: 'tasks' });
  const type = select({ id: 'queue-type', testid: 'queue-type' }, [['classic', 'Classic'], ['stream', 'Stream']], 'classic');
  const durable = h('input', { type: 'checkbox', id: 'queue-durable', checked: true });
  const autoDelete = h('input', { type: 'checkbox', id: 'queue-autodelete' });
  const args = h('textarea', { id: 'queue-args', testid: 'queue-args', rows: 1, placeholder: '{"x-message-ttl": 60000}' });
  const submit = h('button', { type: 'submit', id: 'queue-declare', testid: 'queue-declare', class: 'primary' }, 'Declare queue');
  const form = h('form', { class: 'form-row', id: 'queue-form' },
    field('Vhost', vhost), field('Name', name), field('Type', type),
    h('label', { class: 'check' }, durable, ' Durable'), h('label', { class: 'check' }, autoDelete, ' Auto-delete'),
    h('div', { class: 'field grow' }, h('span', { class: 'label' }, 'Arguments (JSON, optional)'), args), submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      const a = parseObject(args.value, 'Arguments');
      if (type.value === 'stream') a['x-queue-type'] = 'stream';
      const n = name.value.trim();
      const res = await api.requestRaw('PUT', queuePath(vhost.value, n), { durable: durable.checked, auto_delete: autoDelete.checked, arguments: a });
      showOk(res.status === 201 ? `Queue ${n} declared.` : `Queue ${n} already exists with these settings.`);
      name.value = '';
      args.value = '';
      declared();
    });
  });
  return {
    el: h('div', { class: 'panel' }, h('h2', null, 'Declare a queue'), form),
    setVhosts(vs) { fill(vhost, vs.map((v) => h('option', { value: v }, v))); },
  };
}

export function detail(view, ctx) {
  const [vhost, name] = ctx.params;
  let q = null;
  const cards = h('div', { class: 'cards', id: 'queue-cards' });
  const info = h('div', { id: 'queue-info' });
  const purge = h('button', { type: 'button', id: 'queue-purge', testid: 'queue-purge' }, 'Purge');
  const del = h('button', { type: 'button', id: 'queue-delete', testid: 'queue-delete', class: 'danger' }, 'Delete queue');
  purge.addEventListener('click', () => busy(purge, async () => { if (await purgeQueue(q || { vhost, name })) refresh.now(); }));
  del.addEventListener('click', () => busy(del, async () => { if (await deleteQueue(q || { vhost, name })) location.hash = '#/queues'; }));
  const bindings = h('div', { id: 'queue-bindings' });
  const bind = createForm(() => refresh.now(), ctx, { vhost, destination: name, destination_type: 'queue' });

  view.append(
    h('h1', null, h('a', { href: '#/queues' }, 'Queues'), ' / ', h('span', { id: 'queue-title' }, name),
      h('span', { class: 'sub' }, `vhost ${vhost}`), h('span', { class: 'toolbar' }, purge, del)),
    cards, info,
    getPanel(vhost, name, () => refresh.now()),
    h('h2', null, 'Bindings'), bindings, h('div', { class: 'spacer' }), bind.el);

  let bindLoaded = false;
  const rates = new Rates();
  const refresh = ctx.every(5000, async () => {
    const [queue, bs] = await Promise.all([
      api.get(queuePath(vhost, name), { signal: ctx.signal }),
      api.get(queuePath(vhost, name, 'bindings'), { signal: ctx.signal }),
    ]);
    q = queue;
    const r = rates.update([q])(q);
    const c = (id, label, value) => h('div', { class: 'card', testid: `queue-${id}` }, h('div', { class: 'card-value' }, value), h('div', { class: 'card-label' }, label));
    fill(cards,
      c('ready', 'Ready', fmt.num(q.messages_ready)),
      c('unacked', 'Unacknowledged', fmt.num(q.messages_unacknowledged)),
      c('messages', 'Total', fmt.num(q.messages)),
      c('consumers', 'Consumers', fmt.num(q.consumers)),
      c('bytes', 'Ready bytes', fmt.bytes(q.message_bytes_ready)),
      c('head-age', 'Head message age', q.messages_ready ? fmt.seconds(q.head_message_age_seconds) : '–'),
      c('rate-in', 'Published', fmt.rate(r.publish)),
      c('rate-out', 'Delivered', fmt.rate(r.deliver)));
    fill(info, h('p', { class: 'muted' },
      `${q.type || 'classic'} · ${q.durable ? 'durable' : 'transient'}${q.auto_delete ? ' · auto-delete' : ''}${q.exclusive ? ' · exclusive' : ''} · `,
      stateBadge(q.state || 'running'),
      Object.keys(q.arguments || {}).length ? [' · arguments ', h('code', null, JSON.stringify(q.arguments))] : null,
      q.message_stats ? ` · since start: ${fmt.num(q.message_stats.publish)} published, ${fmt.num(q.message_stats.deliver_get)} delivered, ${fmt.num(q.message_stats.ack)} acked` : null));
    fill(bindings, bindingsTable(bs || [], () => refresh.now(), 'queue-bindings'));
    if (!bindLoaded) {
      bindLoaded = true;
      await bind.update();
    }
  });
}

// getPanel fetches messages with basic.get semantics. The default mode
// requeues them (a peek); modes that remove messages ask first.
function getPanel(vhost, name, changed) {
  const count = h('input', { id: 'peek-count', testid: 'peek-count', type: 'number', min: 1, max: 100, value: '5' });
  const mode = select({ id: 'peek-ackmode', testid: 'peek-ackmode' }, [
    ['ack_requeue_true', 'Peek (requeue)'],
    ['ack_requeue_false', 'Get and acknowledge (removes)'],
    ['reject_requeue_false', 'Reject without requeue (dead-letters or drops)'],
  ], 'ack_requeue_true');
  const encoding = select({ id: 'peek-encoding' }, [['auto', 'Text when UTF-8'], ['base64', 'Always base64']], 'auto');
  const btn = h('button', { type: 'submit', id: 'queue-peek', testid: 'queue-peek', class: 'primary' }, 'Get messages');
  const out = h('div', { id: 'peek-results', testid: 'peek-results' });
  const form = h('form', { class: 'form-row' }, field('Messages', count), field('Mode', mode), field('Encoding', encoding), btn);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(btn, async () => {
      const n = Math.max(1, Math.min(100, Number(count.value) || 1));
      if (mode.value !== 'ack_requeue_true') {
        const ok = await confirmAction({
          title: `Remove up to ${n} messages from ${name}?`,
          message: 'These messages leave the queue for good (rejected ones go to its dead-letter exchange if it has one).',
          ok: 'Get and remove',
        });
        if (!ok) return;
      }
      const msgs = (await api.post(queuePath(vhost, name, 'get'), { count: n, ackmode: mode.value, encoding: encoding.value })) || [];
      fill(out, msgs.length ? msgs.map(messageCard) : h('p', { class: 'muted', testid: 'peek-empty' }, 'The queue has no ready messages.'));
      if (mode.value !== 'ack_requeue_true') changed();
    });
  });
  return h('div', { class: 'panel gap-above' }, h('h2', null, 'Get messages'), form, h('div', { class: 'spacer' }), out);
}

function messageCard(m, i) {
  const props = Object.entries(m.properties || {}).filter(([k]) => k !== 'headers');
  const headers = Object.entries((m.properties && m.properties.headers) || {});
  let body = m.payload;
  if (m.payload_encoding !== 'base64' && /^\s*[[{]/.test(body)) {
    try { body = JSON.stringify(JSON.parse(body), null, 2); } catch { body = m.payload; }
  }
  return h('div', { class: 'message-card', testid: 'peek-message' },
    h('div', { class: 'meta' },
      h('strong', null, `Message ${i + 1}`),
      h('span', null, 'exchange ', m.exchange === '' ? '(default)' : m.exchange),
      h('span', null, 'routing key ', h('code', null, m.routing_key)),
      h('span', null, `${fmt.num(m.payload_bytes)} bytes`),
      m.redelivered ? badge('redelivered', 'warn') : null,
      m.message_count !== undefined ? h('span', null, `${fmt.num(m.message_count)} more in the queue`) : null),
    props.length || headers.length
      ? h('dl', { class: 'props' },
        props.map(([k, v]) => [h('dt', null, k), h('dd', null, typeof v === 'object' ? JSON.stringify(v) : String(v))]),
        headers.map(([k, v]) => [h('dt', null, `header ${k}`), h('dd', null, typeof v === 'object' ? JSON.stringify(v) : String(v))]))
      : null,
    m.payload_encoding === 'base64' ? badge('base64', 'muted') : null,
    h('pre', { class: 'body', testid: 'peek-payload' }, body));
}
