// Topics: the list with create and delete; a topic's partitions, configs
// and record browser.

import * as api from '../api.js';
import {
  h, fill, fmt, table, badge, href, field, busy, parsePairs, showOk, confirmAction,
} from '../ui.js';
import { recordBrowser } from './browser.js';

/** deleteTopic asks for the name to be typed, then deletes; true if deleted. */
export async function deleteTopic(name) {
  const ok = await confirmAction({
    title: `Delete topic ${name}?`,
    message: 'Every partition and every record of this topic is removed from disk. Consumers and offsets of it are lost. This cannot be undone.',
    expect: name,
    ok: 'Delete topic',
  });
  if (!ok) return false;
  await api.del(api.path('topics', name));
  showOk(`Topic ${name} deleted.`);
  return true;
}

export function list(view, ctx) {
  const count = h('span', { class: 'count' });
  const showInternal = h('input', { type: 'checkbox', id: 'topics-show-internal' });
  const filter = h('input', { id: 'topics-filter', type: 'search', placeholder: 'Filter by name', 'aria-label': 'Filter topics' });
  const holder = h('div', { id: 'topics-table' });
  let topics = [];

  const name = h('input', { id: 'topic-create-name', testid: 'topic-create-name', required: true, pattern: '[a-zA-Z0-9._\\-]+', maxlength: 249, placeholder: 'orders' });
  const parts = h('input', { id: 'topic-create-partitions', testid: 'topic-create-partitions', type: 'number', min: 1, placeholder: 'broker default' });
  const configs = h('textarea', { id: 'topic-create-configs', testid: 'topic-create-configs', rows: 2, placeholder: 'retention.ms=604800000\ncleanup.policy=delete' });
  const submit = h('button', { id: 'topic-create-submit', testid: 'topic-create-submit', type: 'submit', class: 'primary' }, 'Create topic');
  const form = h('form', { id: 'topic-create-form', class: 'panel' },
    h('h2', null, 'Create a topic'),
    h('div', { class: 'form-row' },
      field('Name', name),
      field('Partitions', parts),
      h('div', { class: 'field grow' }, h('span', { class: 'label' }, 'Configs (key=value per line, optional)'), configs),
      submit));

  const draw = () => {
    const f = filter.value.trim().toLowerCase();
    const rows = topics.filter((t) => (showInternal.checked || !t.internal) && (!f || t.name.toLowerCase().includes(f)));
    count.textContent = `${rows.length} of ${topics.length} topics`;
    fill(holder, table({
      testid: 'topics',
      columns: [
        { label: 'Name', value: (t) => h('a', { href: href('topics', t.name), testid: 'topic-link' }, t.name) },
        { label: '', value: (t) => (t.internal ? badge('internal', 'muted') : null) },
        { label: 'Partitions', num: true, col: 'partitions', value: (t) => fmt.num(t.partitions) },
        { label: 'Messages', num: true, col: 'messages', value: (t) => fmt.num(t.messages) },
        { label: 'Size', num: true, col: 'size', value: (t) => fmt.bytes(t.size_bytes) },
        {
          label: '',
          value: (t) => [
            h('a', { href: href('browse', t.name), class: 'small' }, 'Browse'), ' ',
            t.internal ? null : h('button', {
              type: 'button', class: 'small danger', testid: 'topic-delete',
              onclick: async (e) => { if (await busy(e.target, () => deleteTopic(t.name))) refresh.now(); },
            }, 'Delete'),
          ],
        },
      ],
      rows,
      rowAttrs: (t) => ({ testid: 'topic-row', data: { name: t.name } }),
      empty: topics.length ? 'No topic matches.' : 'No topics yet. Create one above, or produce to one with a Kafka client.',
    }));
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      const body = { name: name.value.trim() };
      if (parts.value) body.partitions = Number(parts.value);
      const c = parsePairs(configs.value, 'Configs');
      if (Object.keys(c).length) body.configs = c;
      await api.post('/api/topics', body);
      showOk(`Topic ${body.name} created.`);
      form.reset();
      refresh.now();
    });
  });
  showInternal.addEventListener('change', draw);
  filter.addEventListener('input', draw);

  view.append(h('h1', null, 'Topics'), form,
    h('div', { class: 'table-tools' }, filter, h('label', { class: 'check' }, showInternal, ' Show internal topics'), count),
    holder);
  const refresh = ctx.every(5000, async () => {
    topics = (await api.get('/api/topics', { signal: ctx.signal })) || [];
    topics.sort((a, b) => a.name.localeCompare(b.name));
    draw();
  });
}

export function detail(view, ctx) {
  const [name] = ctx.params;
  const sub = h('span', { class: 'sub', id: 'topic-id' });
  const del = h('button', { type: 'button', class: 'danger', id: 'topic-delete', testid: 'topic-delete' }, 'Delete topic');
  const partsHolder = h('div', { id: 'topic-partitions' });
  const configsHolder = h('div', { id: 'topic-configs' });
  const onlyOverrides = h('input', { type: 'checkbox', id: 'configs-overrides' });
  const browserHolder = h('div', { id: 'topic-browser' });
  let topic = null;

  del.addEventListener('click', () => busy(del, async () => {
    if (await deleteTopic(name)) location.hash = '#/topics';
  }));

  // Change configs or partition count.
  const key = h('input', { id: 'config-key', placeholder: 'retention.ms', list: 'config-names' });
  const value = h('input', { id: 'config-value', placeholder: 'value' });
  const setBtn = h('button', { type: 'submit', id: 'config-set' }, 'Set config');
  const names = h('datalist', { id: 'config-names' });
  const setForm = h('form', { class: 'form-row' }, field('Config', key), field('Value', value), setBtn, names);
  setForm.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(setBtn, async () => {
      if (!key.value.trim()) throw new Error('Name the config to set.');
      await api.patch(api.path('topics', name), { configs: { [key.value.trim()]: value.value } });
      showOk(`${key.value.trim()} set on ${name}.`);
      setForm.reset();
      refresh.now();
    });
  });
  const partCount = h('input', { id: 'partitions-count', type: 'number', min: 1 });
  const partBtn = h('button', { type: 'submit', id: 'partitions-set' }, 'Add partitions');
  const partForm = h('form', { class: 'form-row' }, field('New partition count', partCount, 'Partitions can only be added.'), partBtn);
  partForm.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(partBtn, async () => {
      const n = Number(partCount.value);
      const ok = await confirmAction({
        title: `Grow ${name} to ${n} partitions?`,
        message: 'Keys hash to different partitions afterwards: per-key ordering across the change is lost. Partitions cannot be removed again.',
        ok: 'Add partitions', danger: false,
      });
      if (!ok) return;
      await api.patch(api.path('topics', name), { partitions: n });
      showOk(`${name} now has ${n} partitions.`);
      refresh.now();
    });
  });

  const drawConfigs = () => {
    if (!topic) return;
    const rows = (topic.configs || []).filter((c) => !onlyOverrides.checked || c.source === 'topic');
    fill(names, (topic.configs || []).filter((c) => !c.read_only).map((c) => h('option', { value: c.name })));
    fill(configsHolder, table({
      testid: 'topic-configs',
      columns: [
        { label: 'Name', value: (c) => h('code', null, c.name) },
        { label: 'Value', value: (c) => (c.sensitive ? h('span', { class: 'muted' }, '(sensitive)') : h('code', null, c.value ?? '')) },
        { label: 'Source', value: (c) => badge(c.source || '', c.source === 'topic' ? 'ok' : 'idle') },
        { label: '', value: (c) => (c.read_only ? badge('read-only', 'muted') : null) },
        {
          label: '',
          value: (c) => (c.source === 'topic' && !c.read_only
            ? h('button', {
              type: 'button', class: 'small',
              onclick: (e) => busy(e.target, async () => {
                await api.patch(api.path('topics', name), { delete_configs: [c.name] });
                showOk(`${c.name} on ${name} is back to its default.`);
                refresh.now();
              }),
            }, 'Reset')
            : null),
        },
      ],
      rows,
      rowAttrs: (c) => ({ data: { config: c.name } }),
      empty: 'No configs.',
    }));
  };
  onlyOverrides.addEventListener('change', drawConfigs);

  view.append(
    h('h1', null, h('a', { href: '#/topics' }, 'Topics'), ' / ', h('span', { id: 'topic-name' }, name), sub, h('span', { class: 'toolbar' }, del)),
    h('h2', null, 'Partitions'), partsHolder,
    h('h2', null, 'Records'), browserHolder,
    h('h2', null, 'Configs'),
    h('div', { class: 'table-tools' }, h('label', { class: 'check' }, onlyOverrides, ' Only this topic\'s overrides')),
    configsHolder,
    h('div', { class: 'panel gap-above' }, h('h2', null, 'Change the topic'), setForm, h('div', { class: 'spacer' }), partForm));

  let browserMade = false;
  const refresh = ctx.every(5000, async () => {
    topic = await api.get(api.path('topics', name), { signal: ctx.signal });
    sub.textContent = topic.id ? `id ${topic.id}` : '';
    if (topic.internal) sub.append(' ', badge('internal', 'muted'));
    const ps = topic.partitions || [];
    fill(partsHolder, table({
      testid: 'topic-partitions',
      columns: [
        { label: 'Partition', num: true, value: (p) => String(p.partition) },
        { label: 'Leader', num: true, value: (p) => String(p.leader ?? '–') },
        { label: 'Start offset', num: true, col: 'start', value: (p) => fmt.num(p.start_offset) },
        { label: 'High watermark', num: true, col: 'hw', value: (p) => fmt.num(p.high_watermark) },
        { label: 'Messages', num: true, col: 'messages', value: (p) => fmt.num(p.high_watermark - p.start_offset) },
        { label: 'Size', num: true, col: 'size', value: (p) => fmt.bytes(p.size_bytes) },
      ],
      rows: ps,
      rowAttrs: (p) => ({ testid: 'partition-row', data: { partition: p.partition } }),
    }));
    if (!partCount.value) partCount.placeholder = String(ps.length + 1);
    drawConfigs();
    if (!browserMade) {
      browserMade = true;
      fill(browserHolder, recordBrowser(name, ctx));
    }
  });
}
