// Browse records: pick any topic, then the record browser.

import * as api from '../api.js';
import { h, href, field, select } from '../ui.js';
import { recordBrowser } from './browser.js';

export async function render(view, ctx) {
  const [topic] = ctx.params;
  const picker = select({ id: 'browse-topic', testid: 'browse-topic' }, [['', 'Choose a topic…']], '');
  picker.addEventListener('change', () => {
    location.hash = picker.value ? href('browse', picker.value) : '#/browse';
  });
  const holder = h('div');
  view.append(h('h1', null, 'Browse records'), h('div', { class: 'form-row gap-below' }, field('Topic', picker)), holder);

  const topics = ((await api.get('/api/topics', { signal: ctx.signal })) || [])
    .map((t) => t.name).sort((a, b) => a.localeCompare(b));
  for (const name of topics) picker.append(h('option', { value: name }, name));
  if (!topic) {
    holder.append(h('p', { class: 'muted' }, topics.length ? 'Pick a topic to read its records.' : 'There are no topics yet.'));
    return;
  }
  if (!topics.includes(topic)) picker.append(h('option', { value: topic }, topic));
  picker.value = topic;
  holder.append(h('p', null, h('a', { href: href('topics', topic) }, `Topic ${topic}: partitions and configs`)), recordBrowser(topic, ctx));
}
