import type { SignupMode } from '../services/index.js';

/*
 * The page a multi-user bridge serves at /: sign in (and sign up when --signup allows), then the
 * user's work sessions (start, end, restore), projects by group with links into the viewer (which
 * signs in with the same cookie: no token in any address), the account (password, personal access
 * tokens, shown once) and, for admins, users, invite codes and groups. It holds no data itself.
 */

const STYLE = `<style>
body{font:15px system-ui,sans-serif;margin:2rem;max-width:64rem;color:#222}
code{background:#f3f3f3;padding:0 .3em}td,th{padding:.2em .8em;text-align:left}
section{margin:1.5rem 0}form{margin:.5rem 0}input,select,button{font:inherit;margin:.1rem .3rem .1rem 0}
.error{color:#b00}.hidden{display:none}.note{color:#555}
</style>`;

const BODY = `<body><h1>ImPartial bridge <small>VERSION</small></h1>
<p id="error" class="error" role="alert"></p>
<section id="signin" class="hidden"><h2>Sign in</h2>
<form id="signin-form"><input name="name" placeholder="user name" autocomplete="username" required>
<input name="password" type="password" placeholder="password" autocomplete="current-password" required>
<button>Sign in</button></form></section>
<section id="signup" class="hidden"><h2>Sign up</h2>
<form id="signup-form"><input name="name" placeholder="user name" autocomplete="username" required>
<input name="password" type="password" placeholder="password (10 characters or more)" autocomplete="new-password"
 required><input name="invite" placeholder="invite code" class="invite"><button>Sign up</button></form></section>
<div id="app" class="hidden">
<p>Signed in as <b id="me"></b> <button data-action="logout">Sign out</button></p>
<section><h2>Work sessions</h2><button data-action="new-session">New session</button><table id="sessions"></table>
</section>
<section><h2>Projects</h2><div id="projects"></div></section>
<section><h2>Account</h2>
<form id="password-form"><input name="current" type="password" placeholder="current password" required>
<input name="password" type="password" placeholder="new password" required><button>Change password</button></form>
<h3>Personal access tokens</h3><p class="note">For scripts, Fiji and MONAI Label clients
(<code>Authorization: Bearer TOKEN</code>); shown once.</p>
<form id="token-form"><input name="label" placeholder="what it is for" required>
<label><input type="checkbox" name="readonly"> read-only</label><button>Make a token</button></form>
<p id="new-token"></p><table id="tokens"></table></section>
<section id="admin" class="hidden"><h2>Admin</h2>
<h3>Users</h3><table id="users"></table>
<form id="user-form"><input name="name" placeholder="user name" required>
<input name="password" type="password" placeholder="password" required>
<label><input type="checkbox" name="admin"> admin</label><button>Add user</button></form>
<button data-action="invite">Make an invite code</button> <code id="invite"></code></section>
<section id="manage-groups" class="hidden"><h2>Groups you manage</h2><table id="groups"></table>
<form id="group-form"><input name="name" placeholder="group name" required><select name="level">
<option>private</option><option>read-only</option><option selected>read-annotate</option><option>read-write</option>
</select><button>Add group or set its level</button></form>
<form id="member-form"><input name="group" placeholder="group" required><input name="user" placeholder="user" required>
<label><input type="checkbox" name="owner"> owner</label><label><input type="checkbox" name="home"> home group</label>
<label><input type="checkbox" name="remove"> remove</label><button>Change membership</button></form>
</section></div>`;

const SCRIPT = `
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const show = (id, on) => $(id).classList.toggle('hidden', !on);
async function call(method, path, body) {
  const init = { method, headers: body ? { 'Content-Type': 'application/json' } : {} };
  if (body) init.body = JSON.stringify(body);
  const r = await fetch(path, init);
  const text = await r.text();
  const data = text ? JSON.parse(text) : {};
  const message = data.error?.message ?? method + ' ' + path + ': ' + r.status;
  if (!r.ok) throw Object.assign(new Error(message), { status: r.status });
  return data;
}
const fields = (form) => Object.fromEntries(new FormData(form));
const checked = (form, name) => String(form.elements[name].checked);
const row = (cells) => '<tr>' + cells.map((c) => '<td>' + c + '</td>').join('') + '</tr>';
const button = (action, id, label) =>
  '<button data-action="' + action + '" data-id="' + esc(id) + '">' + label + '</button>';

async function load() {
  $('error').textContent = '';
  let me;
  try {
    me = await call('GET', '/api/me');
  } catch (e) {
    if (e.status !== 401) throw e;
    show('app', false); show('signin', true); show('signup', SIGNUP !== 'closed');
    for (const el of document.querySelectorAll('.invite')) el.classList.toggle('hidden', SIGNUP !== 'invite');
    return;
  }
  show('signin', false); show('signup', false); show('app', true); show('admin', me.user.admin);
  const owned = me.groups.filter((g) => g.owner);
  show('manage-groups', me.user.admin || owned.length > 0);
  const listed = me.user.admin ? await call('GET', '/api/admin/groups') : owned;
  $('groups').innerHTML = listed.map((g) => row([esc(g.name), esc(g.level)])).join('');
  $('me').textContent = me.user.name + (me.user.admin ? ' (admin)' : '');
  const sessions = await call('GET', '/session');
  $('sessions').innerHTML = '<tr><th>session</th><th>started</th><th>status</th><th>images</th><th></th></tr>' +
    Object.entries(sessions).map(([id, s]) => row([esc(id), esc(s.created_at.slice(0, 16).replace('T', ' ')),
      esc(s.status), esc(s.images.join(', ')), s.status === 'running' ? button('end', id, 'End') :
      button('restore', id, 'Restore')])).join('');
  const groups = Object.fromEntries(me.groups.map((g) => [g.id, g.name + ' (' + g.level + ')']));
  const projects = await call('GET', '/api/projects');
  const byGroup = new Map();
  for (const p of projects) {
    const key = p.group ? groups[p.group] ?? 'group ' + p.group : 'not shared';
    byGroup.set(key, [...(byGroup.get(key) ?? []), p]);
  }
  const parts = [];
  for (const [group, list] of byGroup) {
    parts.push('<h3>' + esc(group) + '</h3>');
    for (const p of list) {
      const d = await call('GET', '/api/projects/' + p.id);
      const images = d.images.map((i) => '<a href="/viewer/?image=' + i.id + '">' + esc(i.name) + '</a>').join(', ');
      parts.push('<p><b>' + esc(p.name) + '</b> ' + (images || '<span class="note">no images</span>') + '</p>');
    }
  }
  $('projects').innerHTML = parts.join('') || '<p class="note">No projects yet: start a work session.</p>';
  const tokens = await call('GET', '/api/me/tokens');
  $('tokens').innerHTML = tokens.map((t) => row([esc(t.label), esc(t.access), esc(t.created.slice(0, 10)),
    button('revoke', t.id, 'Revoke')])).join('');
  if (me.user.admin) {
    const users = await call('GET', '/api/admin/users');
    $('users').innerHTML = users.map((u) => row([esc(u.name), u.admin ? 'admin' : '', u.disabled ? 'disabled' : '',
      button(u.disabled ? 'enable' : 'disable', u.name, u.disabled ? 'Enable' : 'Disable')])).join('');
  }
}

const actions = {
  logout: () => call('POST', '/api/logout'),
  'new-session': () => call('POST', '/session'),
  end: (id) => call('DELETE', '/session?session_id=' + encodeURIComponent(id)),
  restore: (id) => call('POST', '/session/restore?session_id=' + encodeURIComponent(id)),
  revoke: (id) => call('DELETE', '/api/me/tokens/' + encodeURIComponent(id)),
  disable: (name) => call('POST', '/api/admin/users/state', { name, action: 'disable' }),
  enable: (name) => call('POST', '/api/admin/users/state', { name, action: 'enable' }),
  invite: async () => { $('invite').textContent = (await call('POST', '/api/admin/invites')).invite; },
};
const forms = {
  'signin-form': (f) => call('POST', '/api/login', fields(f)),
  'signup-form': async (f) => {
    const v = fields(f);
    await call('POST', '/api/signup', v);
    await call('POST', '/api/login', { name: v.name, password: v.password });
  },
  'password-form': (f) => call('POST', '/api/me/password', fields(f)),
  'token-form': async (f) => {
    const made = await call('POST', '/api/me/tokens', { label: f.elements.label.value,
      access: f.elements.readonly.checked ? 'read' : 'write' });
    $('new-token').innerHTML =
      'Your new token (copy it now, it is not shown again): <code>' + esc(made.token) + '</code>';
  },
  'user-form': (f) => call('POST', '/api/admin/users', { ...fields(f), admin: checked(f, 'admin') }),
  'group-form': (f) => call('POST', '/api/admin/groups', fields(f)),
  'member-form': (f) => call('POST', '/api/admin/members', { group: f.elements.group.value, user: f.elements.user.value,
    owner: checked(f, 'owner'), home: checked(f, 'home'), remove: checked(f, 'remove') }),
};
const fail = (e) => { $('error').textContent = e.message; };
document.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-action]');
  if (b) actions[b.dataset.action](b.dataset.id).then(load).catch(fail);
});
document.addEventListener('submit', (e) => {
  e.preventDefault();
  const run = forms[e.target.id];
  if (run) run(e.target).then(() => { if (e.target.id !== 'token-form') e.target.reset(); }).then(load).catch(fail);
});
load().catch(fail);
`;

/** The page, for this bridge's version and sign-up mode. */
export function accountPage(version: string, signup: SignupMode): string {
  const script = `const SIGNUP = ${JSON.stringify(signup)};${SCRIPT}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ImPartial bridge</title>
${STYLE}</head>
${BODY.replace('VERSION', version)}
<script type="module">${script}</script></body></html>
`;
}
