// Exchanges: the list, declare, delete, and publish a message.

import * as api from '../api.js';
import {
  h, fill, fmt, table, field, select, busy, parseObject, parsePairs, showOk, confirmAction, badge,
} from '../ui.js';
import { exchangeLabel, vhostNames } from './bindings.js';

const TYPES = ['direct', 'fanout', 'topic', 'headers'];

// builtin: the default exchange and amq.* cannot be deleted.
const builtin = (e) => e.name === '' || e.name.startsWith('amq.');

export async function list(view, ctx) {
  const holder = h('div', { id: 'exchanges-table' });
  const filter = h('input', { id: 'exchanges-filter', type: 'search', placeholder: 'Filter by name', 'aria-label': 'Filter exchanges' });
  let exchanges = [];
  const publish = publishForm();

  const draw = () => {
    const f = filter.value.trim().toLowerCase();
    const rows = exchanges.filter((e) => !f || e.name.toLowerCase().includes(f));
    fill(holder, table({
      testid: 'exchanges',
      columns: [
        { label: 'Vhost', value: (e) => e.vhost },
        { label: 'Name', col: 'name', value: (e) => exchangeLabel(e.name) },
        { label: 'Type', col: 'type', value: (e) => e.type },
        {
          label: 'Features',
          value: (e) => [e.durable ? badge('durable', 'muted') : badge('transient', 'muted'), e.auto_delete ? badge('auto-delete', 'muted') : null, e.internal ? badge('internal', 'muted') : null],
        },
        { label: 'Arguments', value: (e) => h('code', null, fmt.json(e.arguments)) },
        {
          label: '',
          value: (e) => [
            e.internal ? null : h('button', { type: 'button', class: 'small', testid: 'exchange-publish', onclick: () => publish.choose(e) }, 'Publish'), ' ',
            builtin(e) ? null : h('button', {
              type: 'button', class: 'small danger', testid: 'exchange-delete',
              onclick: async (ev) => { if (await busy(ev.target, () => deleteExchange(e))) refresh.now(); },
            }, 'Delete'),
          ],
        },
      ],
      rows,
      rowAttrs: (e) => ({ testid: 'exchange-row', data: { vhost: e.vhost, name: e.name } }),
      empty: 'No exchanges.',
    }));
    publish.setExchanges(exchanges);
  };
  filter.addEventListener('input', draw);

  const declare = declareForm(() => refresh.now());
  view.append(h('h1', null, 'Exchanges'),
    h('div', { class: 'columns' }, declare.el, publish.el),
    h('div', { class: 'table-tools' }, filter), holder);
  declare.setVhosts(await vhostNames(ctx.signal));
  const refresh = ctx.every(5000, async () => {
    exchanges = (await api.get('/api/exchanges', { signal: ctx.signal })) || [];
    exchanges.sort((a, b) => a.vhost.localeCompare(b.vhost) || a.name.localeCompare(b.name));
    draw();
  });
}

async function deleteExchange(e) {
  const ok = await confirmAction({
    title: `Delete exchange ${e.name}?`,
    message: 'Its bindings are removed; publishers to it get a channel error (404) afterwards.',
    expect: e.name,
    ok: 'Delete exchange',
  });
  if (!ok) return false;
  await api.del(api.path('exchanges', e.vhost, e.name));
  showOk(`Exchange ${e.name} deleted.`);
  return true;
}

function declareForm(declared) {
  const vhost = h('select', { id: 'exchange-vhost', testid: 'exchange-vhost' });
  const name = h('input', { id: 'exchange-name', testid: 'exchange-name', required: true, maxlength: 255, placeholder: 'events' });
  const type = select({ id: 'exchange-type', testid: 'exchange-type' }, TYPES, 'direct');
  const durable = h('input', { type: 'checkbox', id: 'exchange-durable', checked: true });
  const autoDelete = h('input', { type: 'checkbox', id: 'exchange-autodelete' });
  const internal = h('input', { type: 'checkbox', id: 'exchange-internal' });
  const args = h('textarea', { id: 'exchange-args', rows: 1, placeholder: '{"alternate-exchange": "unrouted"}' });
  const submit = h('button', { type: 'submit', id: 'exchange-declare', testid: 'exchange-declare', class: 'primary' }, 'Declare exchange');
  const form = h('form', { id: 'exchange-form' },
    h('div', { class: 'form-row' }, field('Vhost', vhost), field('Name', name), field('Type', type)),
    h('div', { class: 'form-row' },
      h('label', { class: 'check' }, durable, ' Durable'), h('label', { class: 'check' }, autoDelete, ' Auto-delete'), h('label', { class: 'check' }, internal, ' Internal')),
    field('Arguments (JSON, optional)', args),
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      const n = name.value.trim();
      const res = await api.requestRaw('PUT', api.path('exchanges', vhost.value, n), {
        type: type.value, durable: durable.checked, auto_delete: autoDelete.checked, internal: internal.checked, arguments: parseObject(args.value, 'Arguments'),
      });
      showOk(res.status === 201 ? `Exchange ${n} declared.` : `Exchange ${n} already exists with these settings.`);
      name.value = '';
      args.value = '';
      declared();
    });
  });
  return {
    el: h('div', { class: 'panel' }, h('h2', null, 'Declare an exchange'), form),
    setVhosts(vs) { fill(vhost, vs.map((v) => h('option', { value: v }, v))); },
  };
}

function publishForm() {
  const exchange = h('select', { id: 'publish-exchange', testid: 'publish-exchange' });
  const rk = h('input', { id: 'publish-rk', testid: 'publish-rk', placeholder: 'routing key' });
  const body = h('textarea', { id: 'publish-payload', testid: 'publish-payload', rows: 4, placeholder: 'message body' });
  const enc = select({ id: 'publish-encoding' }, [['string', 'Text'], ['base64', 'Base64']], 'string');
  const mode = select({ id: 'publish-delivery-mode', testid: 'publish-delivery-mode' }, [['2', 'Persistent (2)'], ['1', 'Transient (1)']], '2');
  const ctype = h('input', { id: 'publish-content-type', placeholder: 'text/plain' });
  const headers = h('textarea', { id: 'publish-headers', testid: 'publish-headers', rows: 2, placeholder: 'key=value per line, or a JSON object' });
  const submit = h('button', { type: 'submit', id: 'publish-submit', testid: 'publish-submit', class: 'primary' }, 'Publish');
  const result = h('div', { id: 'publish-result', testid: 'publish-result' });
  let list = [];
  let listKey = '';
  const form = h('form', { id: 'publish-form' },
    h('div', { class: 'form-row' }, field('Exchange', exchange), field('Routing key', rk)),
    field('Payload', body),
    h('div', { class: 'form-row' }, field('Encoding', enc), field('Delivery mode', mode), field('Content type', ctype)),
    field('Headers', headers),
    h('div', { class: 'actions' }, result, submit));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      const x = list[Number(exchange.value)];
      if (!x) throw new Error('Choose an exchange.');
      const props = { delivery_mode: Number(mode.value) };
      if (ctype.value.trim()) props.content_type = ctype.value.trim();
      const hs = parsePairs(headers.value, 'Headers');
      if (Object.keys(hs).length) props.headers = hs;
      fill(result);
      const res = await api.post(api.path('exchanges', x.vhost, api.exchangeSeg(x.name), 'publish'),
        { routing_key: rk.value, payload: body.value, payload_encoding: enc.value, properties: props });
      const where = x.name === '' ? 'the default exchange' : x.name;
      if (res && res.routed) {
        fill(result, h('span', { class: 'badge ok', testid: 'publish-routed' }, 'routed'));
        showOk(`Published to ${where}: routed.`);
      } else {
        fill(result, h('span', { class: 'badge warn', testid: 'publish-unrouted' }, 'not routed'));
        showOk(`Published to ${where}, but no binding matched routing key "${rk.value}": the message was dropped.`, 'warn');
      }
    });
  });
  return {
    el: h('div', { class: 'panel' }, h('h2', null, 'Publish a message'), form),
    setExchanges(xs) {
      const next = xs.filter((x) => !x.internal);
      const key = JSON.stringify(next.map((x) => [x.vhost, x.name]));
      if (key === listKey) return; // unchanged: keep the open select as it is
      listKey = key;
      const keep = list[Number(exchange.value)];
      list = next;
      fill(exchange, list.map((x, i) => h('option', { value: String(i) }, `${x.name === '' ? '(AMQP default)' : x.name}${x.vhost === '/' ? '' : ` @ ${x.vhost}`}`)));
      if (keep) this.choose(keep, false);
    },
    choose(x, focus = true) {
      const i = list.findIndex((y) => y.vhost === x.vhost && y.name === x.name);
      if (i >= 0) exchange.value = String(i);
      if (focus) rk.focus();
    },
  };
}
