// Consumer groups: the list with lag; a group's members, offsets, a lag
// chart sampled while the page is open, delete, and offset resets with a
// dry-run preview.

import * as api from '../api.js';
import {
  h, fill, fmt, table, href, field, select, busy, showOk, confirmAction, stateBadge,
} from '../ui.js';
import { lineChart } from '../chart.js';

const SAMPLE_MS = 3000;
const MAX_SAMPLES = 200; // 10 minutes at 3 s

export function list(view, ctx) {
  const holder = h('div', { id: 'groups-table' });
  view.append(h('h1', null, 'Consumer groups'), holder);
  ctx.every(5000, async () => {
    const groups = (await api.get('/api/groups', { signal: ctx.signal })) || [];
    groups.sort((a, b) => a.group.localeCompare(b.group));
    fill(holder, table({
      testid: 'groups',
      columns: [
        { label: 'Group', value: (g) => h('a', { href: href('groups', g.group), testid: 'group-link' }, g.group) },
        { label: 'State', col: 'state', value: (g) => stateBadge(g.state) },
        { label: 'Protocol type', value: (g) => g.protocol_type || '–' },
        { label: 'Members', num: true, col: 'members', value: (g) => fmt.num(g.members) },
        { label: 'Lag (messages)', num: true, col: 'lag', value: (g) => fmt.num(g.lag) },
        { label: 'Lag (time)', num: true, col: 'lag-seconds', value: (g) => fmt.seconds(g.lag_seconds) },
      ],
      rows: groups,
      rowAttrs: (g) => ({ testid: 'group-row', data: { name: g.group } }),
      empty: 'No consumer groups. A Kafka consumer with a group id creates one.',
    }));
  });
}

export function detail(view, ctx) {
  const [name] = ctx.params;
  const state = h('span', { id: 'group-state' });
  const del = h('button', { type: 'button', class: 'danger', id: 'group-delete', testid: 'group-delete' }, 'Delete group');
  const cards = h('div', { class: 'cards', id: 'group-cards' });
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('id', 'lag-chart');
  svg.setAttribute('data-testid', 'lag-chart');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Total lag of ${name} over time`);
  const members = h('div', { id: 'group-members' });
  const offsets = h('div', { id: 'group-offsets' });
  const samples = [];
  let group = null;
  const reset = resetPanel(name, () => refresh.now());

  del.addEventListener('click', () => busy(del, async () => {
    const ok = await confirmAction({
      title: `Delete group ${name}?`,
      message: 'Its committed offsets are removed: consumers that join it again start from their auto.offset.reset position. A group with members cannot be deleted.',
      expect: name,
      ok: 'Delete group',
    });
    if (!ok) return;
    await api.del(api.path('groups', name));
    showOk(`Group ${name} deleted.`);
    location.hash = '#/groups';
  }));

  view.append(
    h('h1', null, h('a', { href: '#/groups' }, 'Consumer groups'), ' / ', h('span', { id: 'group-name' }, name), state, h('span', { class: 'toolbar' }, del)),
    cards,
    h('h2', null, 'Total lag ', h('span', { class: 'note' }, `(sampled every ${SAMPLE_MS / 1000} s while this page is open)`)),
    h('div', { class: 'panel' }, svg),
    h('h2', null, 'Members'), members,
    h('h2', null, 'Offsets'), offsets,
    reset.el);

  const refresh = ctx.every(SAMPLE_MS, async () => {
    group = await api.get(api.path('groups', name), { signal: ctx.signal });
    const offs = group.offsets || [];
    const lag = offs.reduce((s, o) => s + Math.max(0, o.lag || 0), 0);
    const lagSec = offs.reduce((s, o) => Math.max(s, o.lag_seconds || 0), 0);
    samples.push({ t: Date.now(), v: lag });
    if (samples.length > MAX_SAMPLES) samples.shift();
    fill(state, stateBadge(group.state));
    fill(cards,
      h('div', { class: 'card', testid: 'group-total-lag' }, h('div', { class: 'card-value' }, fmt.num(lag)), h('div', { class: 'card-label' }, 'Total lag (messages)')),
      h('div', { class: 'card', testid: 'group-lag-seconds' }, h('div', { class: 'card-value' }, fmt.seconds(lagSec)), h('div', { class: 'card-label' }, 'Largest lag (time)')),
      h('div', { class: 'card', testid: 'group-members-count' }, h('div', { class: 'card-value' }, fmt.num((group.members || []).length)), h('div', { class: 'card-label' }, 'Members')),
      h('div', { class: 'card' }, h('div', { class: 'card-value small' }, group.protocol || group.protocol_type || '–'), h('div', { class: 'card-label' }, 'Protocol')));
    lineChart(svg, samples, { unit: ' messages' });
    svg.setAttribute('data-samples', String(samples.length));
    reset.setGroup(group);
    fill(members, table({
      testid: 'group-members',
      columns: [
        { label: 'Member', value: (m) => h('code', null, m.member_id) },
        { label: 'Instance', value: (m) => m.instance_id || '–' },
        { label: 'Client', value: (m) => m.client_id || '–' },
        { label: 'Host', value: (m) => m.client_host || '–' },
        { label: 'Assignments', value: (m) => (m.assignments || []).map((a) => h('div', null, h('code', null, a.topic), `: ${a.partitions.join(', ')}`)) },
      ],
      rows: group.members || [],
      empty: 'No members: the group is empty, so its offsets can be reset or it can be deleted.',
    }));
    fill(offsets, table({
      testid: 'group-offsets',
      columns: [
        { label: 'Topic', value: (o) => h('a', { href: href('topics', o.topic) }, o.topic) },
        { label: 'Partition', num: true, value: (o) => String(o.partition) },
        { label: 'Committed', num: true, col: 'committed', value: (o) => fmt.num(o.committed) },
        { label: 'High watermark', num: true, col: 'hw', value: (o) => fmt.num(o.high_watermark) },
        { label: 'Lag', num: true, col: 'lag', value: (o) => fmt.num(o.lag) },
        { label: 'Lag (time)', num: true, col: 'lag-seconds', value: (o) => fmt.seconds(o.lag_seconds) },
        { label: 'Metadata', value: (o) => (o.metadata ? h('code', null, o.metadata) : '') },
      ],
      rows: offs,
      rowAttrs: (o) => ({ testid: 'group-offset-row', data: { topic: o.topic, partition: o.partition } }),
      empty: 'No committed offsets.',
    }));
  });
}

// resetPanel is the offset-reset form: preview (dry run) first; apply
// stays disabled until a preview of exactly the current choices succeeded.
function resetPanel(name, refreshed) {
  const topic = h('select', { id: 'reset-topic', testid: 'reset-topic' });
  const partitions = h('input', { id: 'reset-partitions', testid: 'reset-partitions', placeholder: 'all, or 0,1,2' });
  const to = select({ id: 'reset-to', testid: 'reset-to' }, [
    ['earliest', 'Earliest'], ['latest', 'Latest'], ['offset', 'Offset'], ['timestamp', 'Time'], ['shift', 'Shift by'],
  ], 'earliest');
  const offset = h('input', { id: 'reset-offset', testid: 'reset-offset', type: 'number', min: 0, value: '0' });
  const when = h('input', { id: 'reset-timestamp', testid: 'reset-timestamp', type: 'datetime-local', step: 1 });
  const shift = h('input', { id: 'reset-shift', testid: 'reset-shift', type: 'number', value: '-10' });
  const offsetF = field('Offset', offset);
  const whenF = field('Time (local)', when);
  const shiftF = field('Shift (±messages)', shift);
  const preview = h('button', { type: 'submit', id: 'reset-preview', testid: 'reset-preview' }, 'Preview');
  const apply = h('button', { type: 'button', id: 'reset-apply', testid: 'reset-apply', class: 'danger', disabled: true }, 'Apply reset');
  const result = h('div', { id: 'reset-result', testid: 'reset-result' });
  const form = h('form', { class: 'form-row', id: 'reset-form' },
    field('Topic', topic), field('Partitions', partitions), field('Reset to', to), offsetF, whenF, shiftF, preview, apply);
  let previewed = null; // JSON of the body the preview used

  const showFields = () => {
    offsetF.hidden = to.value !== 'offset';
    whenF.hidden = to.value !== 'timestamp';
    shiftF.hidden = to.value !== 'shift';
  };
  const body = () => {
    const b = { topic: topic.value, to: to.value };
    if (!b.topic) throw new Error('Choose a topic.');
    const ps = partitions.value.trim();
    if (ps && ps !== 'all') {
      b.partitions = ps.split(',').map((p) => Number(p.trim()));
      if (b.partitions.some((p) => !Number.isInteger(p) || p < 0)) throw new Error('Partitions: a comma-separated list of numbers, or empty for all.');
    }
    if (b.to === 'offset') b.offset = Number(offset.value);
    if (b.to === 'shift') b.shift = Number(shift.value);
    if (b.to === 'timestamp') {
      b.timestamp = new Date(when.value).getTime();
      if (!when.value || Number.isNaN(b.timestamp)) throw new Error('Pick a time to reset to.');
    }
    return b;
  };
  const invalidate = () => { previewed = null; apply.disabled = true; };
  to.addEventListener('change', () => { showFields(); invalidate(); });
  form.addEventListener('input', invalidate);
  form.addEventListener('change', invalidate);
  showFields();

  const showResult = (offs, dry) => fill(result,
    h('p', { class: dry ? 'muted' : '' }, dry ? 'Preview — nothing has changed yet:' : 'Applied:'),
    table({
      testid: dry ? 'reset-preview-table' : 'reset-applied-table',
      columns: [
        { label: 'Topic', value: (o) => o.topic },
        { label: 'Partition', num: true, value: (o) => String(o.partition) },
        { label: 'Previous', num: true, col: 'previous', value: (o) => (o.previous < 0 ? 'none' : fmt.num(o.previous)) },
        { label: 'New', num: true, col: 'new', value: (o) => fmt.num(o.new) },
        { label: 'Change', num: true, value: (o) => (o.previous < 0 ? '–' : `${o.new - o.previous >= 0 ? '+' : ''}${fmt.num(o.new - o.previous)}`) },
      ],
      rows: offs || [],
      rowAttrs: (o) => ({ testid: 'reset-row', data: { topic: o.topic, partition: o.partition } }),
      empty: 'No partitions matched.',
    }));

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(preview, async () => {
      const b = body();
      const res = await api.post(api.path('groups', name, 'offsets'), { ...b, dry_run: true });
      showResult(res.offsets, true);
      previewed = JSON.stringify(b);
      apply.disabled = false;
    });
  });
  apply.addEventListener('click', () => busy(apply, async () => {
    const b = body();
    if (JSON.stringify(b) !== previewed) throw new Error('The form changed since the preview: preview again first.');
    const ok = await confirmAction({
      title: `Reset offsets of ${name}?`,
      message: `The committed offsets of ${b.topic} shown in the preview are replaced. Consumers of the group will re-read or skip records accordingly.`,
      expect: name,
      ok: 'Reset offsets',
    });
    if (!ok) return;
    const res = await api.post(api.path('groups', name, 'offsets'), { ...b, dry_run: false });
    showResult(res.offsets, false);
    showOk(`Offsets of ${name} on ${b.topic} reset.`);
    invalidate();
    refreshed();
  }));

  // Topics: those the group has offsets in first, then the rest.
  let group = null;
  const loadTopics = async () => {
    const g = group;
    const mine = [...new Set(((g && g.offsets) || []).map((o) => o.topic))].sort();
    let all = [];
    try { all = ((await api.get('/api/topics')) || []).filter((t) => !t.internal).map((t) => t.name).sort(); } catch { /* keep mine */ }
    const rest = all.filter((t) => !mine.includes(t));
    const keep = topic.value;
    fill(topic, mine.map((t) => h('option', { value: t }, t)),
      rest.length ? h('optgroup', { label: 'Other topics' }, rest.map((t) => h('option', { value: t }, t))) : null);
    if (keep) topic.value = keep;
  };

  const el = h('div', { class: 'panel gap-above' },
    h('h2', null, 'Reset offsets'),
    h('p', { class: 'muted' }, 'Only an empty group (no members) can be reset. Preview shows what would change; apply asks once more.'),
    form, h('div', { class: 'spacer' }), result);
  return {
    el,
    // setGroup gives the latest group; the first one fills the topic list.
    setGroup(g) {
      const first = !group;
      group = g;
      if (first) loadTopics();
    },
  };
}
