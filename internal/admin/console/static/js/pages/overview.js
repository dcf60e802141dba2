// Overview: object totals, queue totals, message rates, listeners and
// nodes; refreshed every 5 s.

import * as api from '../api.js';
import { h, fill, fmt, table, stateBadge } from '../ui.js';

function card(id, label, value) {
  return h('div', { class: 'card', testid: `total-${id}` },
    h('div', { class: 'card-value' }, value), h('div', { class: 'card-label' }, label));
}

export function render(view, ctx) {
  const title = h('span', { class: 'sub' });
  const cards = h('div', { class: 'cards', id: 'overview-cards' });
  const stats = h('div');
  const listeners = h('div');
  const nodes = h('div');
  view.append(h('h1', null, 'Overview', title), cards,
    h('div', { class: 'columns' },
      h('div', null, h('h2', null, 'Message activity'), stats),
      h('div', null, h('h2', null, 'Listeners'), listeners)),
    h('h2', null, 'Nodes'), nodes);

  let prev = null; // last message_stats with its time, for rates
  ctx.every(5000, async () => {
    const [ov, cl] = await Promise.all([
      api.get('/api/overview', { signal: ctx.signal }),
      api.get('/api/cluster', { signal: ctx.signal }).catch((e) => e),
    ]);
    const o = ov.object_totals || {};
    const q = ov.queue_totals || {};
    fill(title, [ov.product_name, ov.product_version].filter(Boolean).join(' '),
      ov.node ? ` · node ${ov.node}` : '', ov.cluster_name ? ` · cluster ${ov.cluster_name}` : '');
    fill(cards,
      card('topics', 'Topics', fmt.num(o.topics)),
      card('partitions', 'Partitions', fmt.num(o.partitions)),
      card('groups', 'Consumer groups', fmt.num(o.groups)),
      card('queues', 'Queues', fmt.num(o.queues)),
      card('exchanges', 'Exchanges', fmt.num(o.exchanges)),
      card('connections', 'Connections', fmt.num(o.connections)),
      card('consumers', 'AMQP consumers', fmt.num(o.consumers)),
      card('messages-ready', 'Messages ready', fmt.num(q.messages_ready)),
      card('messages-unacked', 'Unacknowledged', fmt.num(q.messages_unacknowledged)),
      card('disk-free', 'Disk free', fmt.bytes(ov.disk_free)),
      card('uptime', 'Uptime', fmt.duration(ov.uptime_ms)));

    const ms = ov.message_stats || {};
    const now = Date.now();
    const rate = (k) => (prev && ms[k] !== undefined ? Math.max(0, (ms[k] - prev.ms[k]) / ((now - prev.t) / 1000)) : null);
    const rows = [
      ['AMQP published', 'publish', fmt.num, fmt.rate],
      ['AMQP delivered / got', 'deliver_get', fmt.num, fmt.rate],
      ['AMQP acknowledged', 'ack', fmt.num, fmt.rate],
      ['Kafka records produced', 'produce_records', fmt.num, fmt.rate],
      ['Kafka bytes produced', 'produce_bytes', fmt.bytes, (r) => (r === null ? '–' : `${fmt.bytes(Math.round(r))}/s`)],
      ['Kafka bytes fetched', 'fetch_bytes', fmt.bytes, (r) => (r === null ? '–' : `${fmt.bytes(Math.round(r))}/s`)],
    ];
    fill(stats, table({
      columns: [
        { label: 'Since start', value: (r) => r[0] },
        { label: 'Total', num: true, value: (r) => r[2](ms[r[1]]) },
        { label: 'Rate', num: true, value: (r) => r[3](rate(r[1])) },
      ],
      rows,
      rowAttrs: (r) => ({ data: { stat: r[1] } }),
    }));
    prev = { ms, t: now };

    fill(listeners, listenerTable(ov.listeners || []));

    if (cl instanceof Error) {
      fill(nodes, h('p', { class: 'muted' }, `Cluster details unavailable: ${cl.message}`));
    } else {
      fill(nodes,
        h('p', { class: 'muted' }, `Cluster ${cl.cluster_id || '–'}, controller ${cl.controller_id ?? '–'}`),
        table({
          testid: 'nodes-table',
          columns: [
            { label: 'Node', value: (n) => String(n.id) },
            { label: 'State', value: (n) => stateBadge(n.ready ? 'ready' : 'down') },
            { label: 'Uptime', value: (n) => fmt.duration(n.uptime_ms) },
            { label: 'Data directory', value: (n) => h('code', null, n.data_dir || '') },
            { label: 'Disk free', num: true, value: (n) => fmt.bytes(n.disk_free) },
            { label: 'Listeners', value: (n) => (n.listeners || []).map((l) => `${l.protocol} ${l.ip_address}:${l.port}`).join(', ') },
          ],
          rows: cl.nodes || [],
        }));
    }
  });
}

export function listenerTable(list) {
  return table({
    testid: 'listeners-table',
    columns: [
      { label: 'Protocol', value: (l) => l.protocol },
      { label: 'Address', value: (l) => h('code', null, l.ip_address) },
      { label: 'Port', num: true, value: (l) => String(l.port) },
    ],
    rows: list,
    rowAttrs: (l) => ({ testid: 'listener-row', data: { protocol: l.protocol } }),
    empty: 'No listeners.',
  });
}
