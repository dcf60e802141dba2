// browser.js — the record browser of a topic: pick a partition and a
// start (beginning, newest, offset, timestamp, or wait at the end), read
// a page of records, and "load more" from the next offsets the API gave.

import * as api from '../api.js';
import { h, fill, fmt, table, field, select, busy, payload, badge } from '../ui.js';

const WAIT_MS = 10000;

/** recordBrowser returns the browser element for topic; ctx cancels its calls on navigation. */
export function recordBrowser(topic, ctx) {
  const partition = select({ id: 'browse-partition', testid: 'browse-partition' }, [['', 'All partitions']], '');
  const from = select({ id: 'browse-from', testid: 'browse-from' }, [
    ['beginning', 'From the beginning'],
    ['newest', 'Newest (per partition)'],
    ['offset', 'From offset'],
    ['timestamp', 'From time'],
    ['end', 'Wait for new records'],
  ], 'beginning');
  const offset = h('input', { id: 'browse-offset', testid: 'browse-offset', type: 'number', min: 0, value: '0' });
  const when = h('input', { id: 'browse-timestamp', testid: 'browse-timestamp', type: 'datetime-local', step: 1 });
  const limit = h('input', { id: 'browse-limit', testid: 'browse-limit', type: 'number', min: 1, max: 1000, value: '50' });
  const encoding = select({ id: 'browse-encoding' }, [['auto', 'Text when UTF-8'], ['base64', 'Always base64']], 'auto');
  const fetchBtn = h('button', { id: 'browse-fetch', testid: 'browse-fetch', type: 'submit', class: 'primary' }, 'Read records');
  const offsetField = field('Offset', offset);
  const whenField = field('Time (local)', when);
  const form = h('form', { class: 'form-row', id: 'browse-form' },
    field('Partition', partition), field('Start', from), offsetField, whenField,
    field('Limit', limit), field('Encoding', encoding), fetchBtn);
  const summary = h('p', { id: 'browse-summary', testid: 'browse-summary', class: 'muted' }, 'Choose where to start and read records.');
  const holder = h('div', { id: 'browse-results' });
  const more = h('button', { id: 'browse-more', testid: 'browse-more', type: 'button', hidden: true }, 'Load more');

  let records = [];
  let next = null; // next_offsets of the last answer
  let hws = {};
  let base = {}; // partition/limit/encoding of the current read, for "load more"

  const showFields = () => {
    offsetField.hidden = from.value !== 'offset';
    whenField.hidden = from.value !== 'timestamp';
  };
  from.addEventListener('change', showFields);
  showFields();

  api.get(api.path('topics', topic), { signal: ctx.signal }).then((t) => {
    for (const p of t.partitions || []) partition.append(h('option', { value: String(p.partition) }, `Partition ${p.partition}`));
  }).catch(() => { /* the page shows the topic's own error */ });

  const draw = () => {
    fill(holder, table({
      id: 'browse-records',
      testid: 'browse-records',
      columns: [
        { label: 'Partition', num: true, col: 'partition', value: (r) => String(r.partition) },
        { label: 'Offset', num: true, col: 'offset', value: (r) => String(r.offset) },
        { label: 'Timestamp', col: 'timestamp', value: (r) => h('span', { title: String(r.timestamp) }, fmt.time(r.timestamp)) },
        { label: 'Key', col: 'key', value: (r) => payload(r.key, r.key_encoding) },
        { label: 'Value', col: 'value', value: (r) => payload(r.value, r.value_encoding) },
        {
          label: 'Headers',
          col: 'headers',
          value: (r) => (r.headers || []).map((hd) => h('div', null, h('code', null, hd.key), ': ',
            hd.value_encoding === 'base64' ? badge('base64', 'muted') : null, h('code', null, hd.value ?? 'null'))),
        },
      ],
      rows: records,
      rowAttrs: (r) => ({ testid: 'record-row', data: { partition: r.partition, offset: r.offset } }),
      empty: 'No records there.',
    }));
    const nexts = next ? Object.entries(next).map(([p, o]) => `${p}:${o}`).join(', ') : '–';
    const marks = Object.entries(hws).map(([p, o]) => `${p}:${o}`).join(', ') || '–';
    summary.textContent = `${records.length} record${records.length === 1 ? '' : 's'} shown · next offsets ${nexts} · high watermarks ${marks}`;
    more.hidden = !next || !Object.keys(next).length;
  };

  // read runs one request and appends its records.
  const read = async (params, append) => {
    const q = { limit: base.limit, encoding: base.encoding, partition: base.partition, ...params };
    const res = await api.get(`${api.path('topics', topic, 'records')}${api.query(q)}`, { signal: ctx.signal });
    const got = res.records || [];
    records = append ? records.concat(got) : got;
    next = res.next_offsets || null;
    hws = res.high_watermarks || {};
    draw();
    return got.length;
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(fetchBtn, async () => {
      const n = Math.max(1, Math.min(1000, Number(limit.value) || 50));
      base = { limit: n, encoding: encoding.value, partition: partition.value };
      const params = {};
      switch (from.value) {
        case 'beginning':
          params.offset = 'beginning';
          break;
        case 'offset':
          params.offset = String(Math.max(0, Number(offset.value) || 0));
          break;
        case 'timestamp': {
          const ms = new Date(when.value).getTime();
          if (!when.value || Number.isNaN(ms)) throw new Error('Pick a date and time to start from.');
          params.timestamp = ms;
          break;
        }
        case 'newest': {
          // The last `limit` records of each chosen partition: the API's
          // limit counts across partitions, so this one read asks for more.
          const t = await api.get(api.path('topics', topic), { signal: ctx.signal });
          const ps = (t.partitions || []).filter((p) => base.partition === '' || String(p.partition) === base.partition);
          params.offsets = ps.map((p) => `${p.partition}:${Math.max(p.start_offset, p.high_watermark - n)}`).join(',');
          params.limit = Math.min(10000, n * Math.max(1, ps.length));
          break;
        }
        case 'end':
          params.offset = 'end';
          params.wait_ms = WAIT_MS;
          summary.textContent = `Waiting up to ${WAIT_MS / 1000} s for new records…`;
          break;
        default:
      }
      await read(params, false);
    });
  });

  more.addEventListener('click', () => busy(more, async () => {
    if (!next) return;
    const offsets = Object.entries(next)
      .filter(([p]) => base.partition === '' || p === base.partition)
      .map(([p, o]) => `${p}:${o}`).join(',');
    const got = await read({ offsets }, true);
    if (!got) summary.textContent += ' · no more records yet (at the high watermark)';
  }));

  return h('div', { class: 'panel', id: 'record-browser' }, form, h('div', { class: 'spacer' }), summary, holder,
    h('div', { class: 'actions start' }, more));
}
