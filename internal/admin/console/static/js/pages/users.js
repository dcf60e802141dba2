// Users: list, add and delete users and their vhost permissions.

import * as api from '../api.js';
import { h, fill, table, field, busy, showOk, confirmAction, badge } from '../ui.js';

export function list(view, ctx) {
  const usersHolder = h('div', { id: 'users-table' });
  const permsHolder = h('div', { id: 'permissions-table' });
  const name = h('input', { id: 'user-name', testid: 'user-name', required: true, autocomplete: 'off' });
  const password = h('input', { id: 'user-password', testid: 'user-password', type: 'password', autocomplete: 'new-password' });
  const tags = h('input', { id: 'user-tags', testid: 'user-tags', placeholder: 'administrator, management' });
  const grant = h('input', { type: 'checkbox', id: 'user-grant', checked: true });
  const submit = h('button', { type: 'submit', id: 'user-create', testid: 'user-create', class: 'primary' }, 'Save user');
  const form = h('form', { class: 'form-row', id: 'user-form' },
    field('Name', name), field('Password', password), field('Tags', tags, 'administrator may use this console and the API'),
    h('label', { class: 'check' }, grant, ' Full permissions on /'), submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      const n = name.value.trim();
      const tagList = tags.value.split(',').map((t) => t.trim()).filter(Boolean);
      const res = await api.requestRaw('PUT', api.path('users', n), { password: password.value, tags: tagList });
      if (grant.checked) await api.put(api.path('permissions', '/', n), { configure: '.*', write: '.*', read: '.*' });
      showOk(res.status === 201 ? `User ${n} created.` : `User ${n} updated.`);
      form.reset();
      grant.checked = true;
      refresh.now();
    });
  });

  view.append(h('h1', null, 'Users'), h('div', { class: 'panel' }, h('h2', null, 'Add or change a user'), form),
    usersHolder, h('h2', null, 'Permissions'), permsHolder);

  const refresh = ctx.every(10000, async () => {
    const [users, perms] = await Promise.all([
      api.get('/api/users', { signal: ctx.signal }),
      api.get('/api/permissions', { signal: ctx.signal }).catch(() => []),
    ]);
    const me = api.currentUser();
    fill(usersHolder, table({
      testid: 'users',
      columns: [
        { label: 'Name', value: (u) => [u.name, u.name === me ? [' ', badge('you', 'muted')] : null] },
        { label: 'Tags', value: (u) => (Array.isArray(u.tags) ? u.tags : String(u.tags || '').split(',')).filter(Boolean).map((t) => badge(t, t === 'administrator' ? 'ok' : '')) },
        {
          label: '',
          value: (u) => (u.name === me ? null : h('button', {
            type: 'button', class: 'small danger', testid: 'user-delete',
            onclick: (e) => busy(e.target, async () => {
              const ok = await confirmAction({ title: `Delete user ${u.name}?`, message: 'Its connections are not closed, but it cannot log in again.', expect: u.name, ok: 'Delete user' });
              if (!ok) return;
              await api.del(api.path('users', u.name));
              showOk(`User ${u.name} deleted.`);
              refresh.now();
            }),
          }, 'Delete')),
        },
      ],
      rows: (users || []).sort((a, b) => a.name.localeCompare(b.name)),
      rowAttrs: (u) => ({ testid: 'user-row', data: { name: u.name } }),
      empty: 'No users.',
    }));
    fill(permsHolder, table({
      testid: 'permissions',
      columns: [
        { label: 'User', value: (p) => p.user },
        { label: 'Vhost', value: (p) => p.vhost },
        { label: 'Configure', value: (p) => h('code', null, p.configure) },
        { label: 'Write', value: (p) => h('code', null, p.write) },
        { label: 'Read', value: (p) => h('code', null, p.read) },
      ],
      rows: perms || [],
      empty: 'No permissions.',
    }));
  });
}
