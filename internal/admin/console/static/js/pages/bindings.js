// Bindings: every binding of every vhost, create one, delete one; the
// table and the delete are shared with the queue page.

import * as api from '../api.js';
import {
  h, fill, fmt, table, href, field, select, busy, parseObject, showOk, confirmAction, badge,
} from '../ui.js';

/** path of the bindings between source and a queue ("q") or exchange ("e"). */
export function bindingsPath(vhost, source, destType, dest, propertiesKey) {
  const segs = ['bindings', vhost, 'e', api.exchangeSeg(source), destType === 'exchange' ? 'e' : 'q', dest];
  if (propertiesKey !== undefined) segs.push(propertiesKey);
  return api.path(...segs);
}

export function exchangeLabel(name) {
  return name === '' ? h('span', { class: 'muted' }, '(AMQP default)') : name;
}

/** deleteBinding confirms, then deletes b; true if deleted. */
export async function deleteBinding(b) {
  const ok = await confirmAction({
    title: 'Delete this binding?',
    message: `Messages published to ${b.source || 'the default exchange'} with routing key "${b.routing_key}" stop reaching ${b.destination_type} ${b.destination}.`,
    ok: 'Delete binding',
  });
  if (!ok) return false;
  await api.del(bindingsPath(b.vhost, b.source, b.destination_type, b.destination, b.properties_key));
  showOk(`Binding ${b.source || '(default)'} → ${b.destination} deleted.`);
  return true;
}

/** bindingsTable lists bindings; onDeleted runs after a delete. */
export function bindingsTable(list, onDeleted, testid = 'bindings') {
  return table({
    testid,
    columns: [
      { label: 'Vhost', value: (b) => b.vhost },
      { label: 'Source', col: 'source', value: (b) => exchangeLabel(b.source) },
      { label: 'Destination', col: 'destination', value: (b) => [badge(b.destination_type, 'muted'), ' ', b.destination_type === 'queue' ? h('a', { href: href('queues', b.vhost, b.destination) }, b.destination) : b.destination] },
      { label: 'Routing key', col: 'routing-key', value: (b) => h('code', null, b.routing_key) },
      { label: 'Arguments', value: (b) => h('code', null, fmt.json(b.arguments)) },
      {
        label: '',
        value: (b) => (b.source === ''
          ? h('span', { class: 'muted', title: 'Every queue is bound to the default exchange by its name; it cannot be unbound.' }, 'implicit')
          : h('button', {
            type: 'button', class: 'small danger', testid: 'binding-delete',
            onclick: async (e) => { if (await busy(e.target, () => deleteBinding(b))) onDeleted(); },
          }, 'Delete')),
      },
    ],
    rows: list,
    rowAttrs: (b) => ({
      testid: 'binding-row',
      data: { source: b.source, destination: b.destination, destinationType: b.destination_type, routingKey: b.routing_key },
    }),
    empty: 'No bindings.',
  });
}

export async function vhostNames(signal) {
  try {
    return ((await api.get('/api/vhosts', { signal })) || []).map((v) => v.name);
  } catch (e) {
    if (e.status === 404) return ['/'];
    throw e;
  }
}

export async function list(view, ctx) {
  const filter = h('input', { id: 'bindings-filter', type: 'search', placeholder: 'Filter by exchange, queue or key', 'aria-label': 'Filter bindings' });
  const showDefault = h('input', { type: 'checkbox', id: 'bindings-show-default' });
  const holder = h('div', { id: 'bindings-table' });
  const form = createForm(() => { refresh.now(); form.update(); }, ctx);
  let formLoaded = false;
  let all = [];
  const draw = () => {
    const f = filter.value.trim().toLowerCase();
    const rows = all.filter((b) => (showDefault.checked || b.source !== '') &&
      (!f || [b.source, b.destination, b.routing_key].some((s) => s.toLowerCase().includes(f))));
    fill(holder, bindingsTable(rows, () => refresh.now()));
  };
  filter.addEventListener('input', draw);
  showDefault.addEventListener('change', draw);
  view.append(h('h1', null, 'Bindings'), form.el,
    h('div', { class: 'table-tools' }, filter, h('label', { class: 'check' }, showDefault, ' Show the default exchange\'s implicit bindings')),
    holder);
  const refresh = ctx.every(5000, async () => {
    all = (await api.get('/api/bindings', { signal: ctx.signal })) || [];
    all.sort((a, b) => a.vhost.localeCompare(b.vhost) || a.source.localeCompare(b.source) || a.destination.localeCompare(b.destination));
    draw();
    if (!formLoaded) {
      formLoaded = true;
      await form.update();
    }
  });
}

/**
 * createForm builds the "bind" form. fixed = {vhost, destination,
 * destination_type} pins the destination (the queue page).
 */
export function createForm(created, ctx, fixed) {
  const vhost = h('select', { id: 'binding-vhost', testid: 'binding-vhost' });
  const source = h('select', { id: 'binding-source', testid: 'binding-source' });
  const destType = select({ id: 'binding-dest-type', testid: 'binding-dest-type' }, [['queue', 'Queue'], ['exchange', 'Exchange']], 'queue');
  const dest = h('input', { id: 'binding-dest', testid: 'binding-dest', required: true, list: 'binding-dest-names', placeholder: 'queue name' });
  const names = h('datalist', { id: 'binding-dest-names' });
  const rk = h('input', { id: 'binding-rk', testid: 'binding-rk', placeholder: 'routing key' });
  const args = h('textarea', { id: 'binding-args', rows: 1, placeholder: '{"x-match": "all"}' });
  const submit = h('button', { type: 'submit', id: 'binding-create', testid: 'binding-create', class: 'primary' }, 'Bind');
  const form = h('form', { class: 'form-row', id: 'binding-form' },
    fixed ? null : field('Vhost', vhost),
    field('From exchange', source),
    fixed ? null : field('To', destType),
    fixed ? null : field('Destination', dest),
    field('Routing key', rk),
    h('div', { class: 'field grow' }, h('span', { class: 'label' }, 'Arguments (JSON, optional)'), args),
    submit, names);
  let exchanges = [];
  let queues = [];

  const fillChoices = () => {
    const v = fixed ? fixed.vhost : vhost.value;
    const keep = source.value;
    fill(source, exchanges.filter((e) => e.vhost === v && e.name !== '').map((e) => h('option', { value: e.name }, `${e.name} (${e.type})`)));
    if (keep) source.value = keep;
    const pool = destType.value === 'exchange' ? exchanges.filter((e) => e.name !== '') : queues;
    fill(names, pool.filter((x) => x.vhost === v).map((x) => h('option', { value: x.name })));
  };
  vhost.addEventListener('change', fillChoices);
  destType.addEventListener('change', () => { dest.placeholder = `${destType.value} name`; fillChoices(); });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      const v = fixed ? fixed.vhost : vhost.value;
      const d = fixed ? fixed.destination : dest.value.trim();
      const dt = fixed ? fixed.destination_type : destType.value;
      if (!source.value) throw new Error('Choose the exchange to bind from.');
      await api.post(bindingsPath(v, source.value, dt, d), { routing_key: rk.value, arguments: parseObject(args.value, 'Arguments') });
      showOk(`Bound ${source.value} → ${d}${rk.value ? ` with key ${rk.value}` : ''}.`);
      rk.value = '';
      args.value = '';
      created();
    });
  });

  let loaded = false;
  return {
    el: h('div', { class: 'panel' }, h('h2', null, fixed ? 'Bind this queue to an exchange' : 'Create a binding'), form),
    // update reloads the choices (exchanges, queues, vhosts); cheap enough per refresh.
    async update() {
      const [ex, qs, vh] = await Promise.all([
        api.get('/api/exchanges', { signal: ctx.signal }),
        fixed ? Promise.resolve([]) : api.get('/api/queues', { signal: ctx.signal }),
        fixed || loaded ? Promise.resolve(null) : vhostNames(ctx.signal),
      ]);
      exchanges = ex || [];
      queues = qs || [];
      if (vh) {
        fill(vhost, vh.map((n) => h('option', { value: n }, n)));
        loaded = true;
      }
      fillChoices();
    },
  };
}
