// Connections: every Kafka and AMQP client connection of the node.

import * as api from '../api.js';
import { h, fill, fmt, table, badge } from '../ui.js';

// peer is host:port, IPv6 hosts in brackets.
function peer(c) {
  return c.peer_host.includes(':') ? `[${c.peer_host}]:${c.peer_port}` : `${c.peer_host}:${c.peer_port}`;
}

export function list(view, ctx) {
  const holder = h('div', { id: 'connections-table' });
  const count = h('span', { class: 'count' });
  const proto = h('select', { id: 'connections-protocol', 'aria-label': 'Protocol' },
    h('option', { value: '' }, 'All protocols'), h('option', { value: 'kafka' }, 'Kafka'), h('option', { value: 'amqp' }, 'AMQP'));
  let conns = [];
  const draw = () => {
    const rows = conns.filter((c) => !proto.value || c.protocol === proto.value);
    count.textContent = `${rows.length} of ${conns.length} connections`;
    const now = Date.now();
    fill(holder, table({
      testid: 'connections',
      columns: [
        { label: 'Protocol', col: 'protocol', value: (c) => badge(c.protocol, c.protocol === 'amqp' ? 'warn' : 'ok') },
        // The API names a connection by its peer: the name is the tooltip.
        { label: 'Peer', col: 'peer', value: (c) => h('code', { title: c.name }, peer(c)) },
        { label: 'User', col: 'user', value: (c) => c.user || '–' },
        { label: 'Vhost', col: 'vhost', value: (c) => c.vhost || '–' },
        { label: 'Client', col: 'client', value: (c) => c.client || '–' },
        { label: 'Channels', num: true, col: 'channels', value: (c) => (c.protocol === 'amqp' ? fmt.num(c.channels) : '–') },
        { label: 'Connected', col: 'connected', value: (c) => h('span', { title: fmt.time(c.connected_at) }, c.connected_at ? `${fmt.duration(Math.max(0, now - c.connected_at))} ago` : '–') },
      ],
      rows,
      rowAttrs: (c) => ({ testid: 'connection-row', data: { protocol: c.protocol, name: c.name } }),
      empty: 'No client is connected.',
    }));
  };
  proto.addEventListener('change', draw);
  view.append(h('h1', null, 'Connections'), h('div', { class: 'table-tools' }, proto, count), holder);
  ctx.every(5000, async () => {
    conns = (await api.get('/api/connections', { signal: ctx.signal })) || [];
    conns.sort((a, b) => (b.connected_at || 0) - (a.connected_at || 0));
    draw();
  });
}
