// Tasks: long operations (topic deletes, purges, recovery) with progress.

import * as api from '../api.js';
import { h, fill, fmt, table, stateBadge } from '../ui.js';

function progress(t) {
  const known = t.total > 0;
  const pct = known ? Math.min(100, Math.floor((100 * t.done) / t.total)) : (t.state === 'running' ? 0 : 100);
  const bar = h('div', {
    class: `bar ${t.state === 'running' && !known ? 'indeterminate' : ''} ${t.state === 'done' ? 'done' : ''} ${t.state === 'failed' ? 'failed' : ''}`,
    role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': known ? pct : null,
  }, h('span', { style: { width: `${pct}%` } }));
  const unit = t.unit ? ` ${t.unit}` : '';
  const label = known ? `${fmt.num(t.done)} / ${fmt.num(t.total)}${unit} (${pct}%)` : `${fmt.num(t.done)}${unit}`;
  return h('div', null, bar, h('div', { class: 'bar-label' }, label));
}

export function list(view, ctx) {
  const holder = h('div', { id: 'tasks-table' });
  view.append(h('h1', null, 'Tasks'),
    h('p', { class: 'muted' }, 'Long operations of this node, newest first: topic deletes, queue purges, startup recovery.'), holder);
  ctx.every(2000, async () => {
    const tasks = (await api.get('/api/tasks', { signal: ctx.signal })) || [];
    const now = Date.now();
    fill(holder, table({
      testid: 'tasks',
      columns: [
        { label: 'Operation', col: 'kind', value: (t) => t.kind.replace(/_/g, ' ') },
        { label: 'Target', col: 'target', value: (t) => h('code', null, t.target || '') },
        { label: 'Progress', col: 'progress', value: progress },
        { label: 'State', col: 'state', value: (t) => stateBadge(t.state) },
        { label: 'Started', value: (t) => fmt.time(t.started_at) },
        { label: 'Took', num: true, value: (t) => (t.started_at ? fmt.duration((t.finished_at || now) - t.started_at) : '–') },
        { label: 'Error', value: (t) => (t.error ? h('span', { class: 'badge bad' }, t.error) : '') },
      ],
      rows: tasks,
      rowAttrs: (t) => ({ testid: 'task-row', data: { kind: t.kind, target: t.target || '', state: t.state } }),
      empty: 'No long operations have run since the node started.',
    }));
  });
}
