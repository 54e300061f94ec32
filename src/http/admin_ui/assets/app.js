// scimd admin page. Plain JavaScript, no framework, no build step. Talks only
// to this server's /api/v1 with the credential kept in sessionStorage.
'use strict';

(() => {
  const STORAGE_KEY = 'scimd.admin.credential';
  const SOON_MS = 7 * 24 * 60 * 60 * 1000;
  const REQUEST_TIMEOUT_MS = 15000;

  // Scope hierarchy, mirroring src/auth/scope.rs: parent -> directly included.
  const SCOPES = [
    { name: 'all', text: 'Everything, including this page and the token API', children: ['admin:write', 'connect:write'] },
    { name: 'admin:write', text: 'Includes admin:read and admin:scim', children: ['admin:read', 'admin:scim'] },
    { name: 'admin:read', text: 'Read users, groups and admin reports', children: [] },
    { name: 'admin:scim', text: 'Provision users and groups (Okta, Entra ID)', children: [] },
    { name: 'connect:write', text: 'Includes connect:read', children: ['connect:read'] },
    { name: 'connect:read', text: 'Per-user read access', children: [] },
  ];
  const SCOPE_BY_NAME = new Map(SCOPES.map((s) => [s.name, s]));
  // Display tree: top-level entries with their nested ones.
  const SCOPE_TREE = [
    ['all', [['admin:write', [['admin:read', []], ['admin:scim', []]]], ['connect:write', [['connect:read', []]]]]],
  ];

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- helpers

  /** Create an element: el('td', {className: 'x'}, child, 'text', ...). */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'className') node.className = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k in node && typeof v !== 'string') node[k] = v;
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  let statusTimer = null;
  /** Announce a message in the aria-live region (and show it briefly). */
  function announce(message, kind) {
    const box = $('status');
    box.textContent = '';
    box.className = 'status' + (kind ? ' status-' + kind : '');
    // A fresh text node makes screen readers announce repeated messages too.
    box.append(document.createTextNode(message));
    box.classList.add('status-shown');
    clearTimeout(statusTimer);
    statusTimer = setTimeout(() => box.classList.remove('status-shown'), 6000);
  }

  const relFmt = new Intl.RelativeTimeFormat('en', { numeric: 'always' });
  const dateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
  const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  /** "3 minutes ago", "in 5 days", "just now". */
  function relative(iso, now = Date.now()) {
    const diff = (new Date(iso).getTime() - now) / 1000;
    const abs = Math.abs(diff);
    if (abs < 45) return 'just now';
    const units = [
      ['year', 365 * 86400], ['month', 30 * 86400], ['week', 7 * 86400],
      ['day', 86400], ['hour', 3600], ['minute', 60],
    ];
    for (const [unit, secs] of units) {
      if (abs >= secs || unit === 'minute') {
        return relFmt.format(Math.round(diff / secs), unit);
      }
    }
    return 'just now';
  }

  /** A <time> element with a human text and the exact instant on hover. */
  function timeEl(iso, text) {
    const d = new Date(iso);
    return el('time', { datetime: iso, title: d.toISOString().replace('.000Z', 'Z') }, text);
  }

  // ---------------------------------------------------------------- API

  function credential() {
    return sessionStorage.getItem(STORAGE_KEY);
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `the server answered ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  /** Call the admin API; resolves to the parsed JSON body (or null). */
  async function api(method, path, body, secret) {
    const headers = { Accept: 'application/json', Authorization: 'Bearer ' + (secret ?? credential() ?? '') };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
    let resp;
    try {
      resp = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        signal: ctrl.signal,
      });
    } catch (e) {
      throw new ApiError(0, { message: e.name === 'AbortError' ? 'the server did not answer in time' : 'cannot reach the server' });
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    const text = await resp.text();
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
    if (!resp.ok) {
      const err = new ApiError(resp.status, data);
      // The credential stopped working mid-session (revoked, secret changed).
      if (resp.status === 401 && secret === undefined) signOut(err.message);
      throw err;
    }
    return data;
  }

  // ---------------------------------------------------------------- views

  const VIEWS = ['tokens', 'activity', 'overview', 'schemas'];
  let signedIn = false;

  function currentView() {
    const h = location.hash.replace('#', '');
    return VIEWS.includes(h) ? h : 'tokens';
  }

  function show(view) {
    $('view-signin').hidden = signedIn;
    $('nav').hidden = !signedIn;
    $('sign-out').hidden = !signedIn;
    for (const v of VIEWS) $('view-' + v).hidden = !signedIn || v !== view;
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (!signedIn) {
      document.title = 'Sign in · scimd admin';
      return;
    }
    const title = { tokens: 'API tokens', activity: 'Activity', overview: 'Directory', schemas: 'Schemas' }[view];
    document.title = `${title} · scimd admin`;
    if (view === 'tokens') loadTokens();
    if (view === 'activity') loadActivity(true);
    if (view === 'overview') loadOverview();
    if (view === 'schemas') loadSchemas();
  }

  window.addEventListener('hashchange', () => {
    show(currentView());
    if (signedIn) $('main').focus();
  });

  // ---------------------------------------------------------------- sign-in

  function signOut(message) {
    sessionStorage.removeItem(STORAGE_KEY);
    signedIn = false;
    tokens = [];
    $('token-rows').textContent = '';
    $('activity-rows').textContent = '';
    $('overview-rows').textContent = '';
    schemas = [];
    $('schema-list').textContent = '';
    $('schema-form').reset();
    clearSchemaErrors();
    $('signin-error').textContent = message || '';
    show(currentView());
    $('signin-secret').value = '';
    $('signin-secret').focus();
    if (!message) announce('Signed out.');
  }

  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const secret = $('signin-secret').value.trim();
    const error = $('signin-error');
    error.textContent = '';
    if (!secret) {
      error.textContent = 'Paste AUTH_SECRET or an API token.';
      $('signin-secret').focus();
      return;
    }
    const button = $('signin-submit');
    button.disabled = true;
    try {
      const list = await api('GET', '/api/v1/tokens', undefined, secret);
      sessionStorage.setItem(STORAGE_KEY, secret);
      $('signin-secret').value = '';
      signedIn = true;
      tokens = list || [];
      show(currentView());
      announce('Signed in.');
      $('main').focus();
    } catch (e) {
      error.textContent = e.message;
      $('signin-secret').select();
      $('signin-secret').focus();
    } finally {
      button.disabled = false;
    }
  });

  $('sign-out').addEventListener('click', () => signOut());

  // ---------------------------------------------------------------- tokens

  let tokens = [];

  function tokenStatus(t, now = Date.now()) {
    if (t.revoked_at) return { key: 'revoked', text: 'revoked' };
    // The server says so itself where it can (its clock is the one that counts).
    if (t.expired === true) return { key: 'expired', text: 'expired' };
    if (t.expires_soon === true) return { key: 'soon', text: 'expires soon' };
    if (typeof t.expired === 'boolean' && typeof t.expires_soon === 'boolean') return { key: 'active', text: 'active' };
    if (t.expires_at) {
      const left = new Date(t.expires_at).getTime() - now;
      if (left <= 0) return { key: 'expired', text: 'expired' };
      if (left <= SOON_MS) return { key: 'soon', text: 'expires soon' };
    }
    return { key: 'active', text: 'active' };
  }

  /** "token:<uuid> (okta)" -> "okta"; AUTH_SECRET and others as they are. */
  function creatorName(createdBy) {
    const m = /^token:[0-9a-fA-F-]+ \((.*)\)$/.exec(createdBy || '');
    if (m) return el('span', { title: createdBy }, m[1]);
    const t = /^token:([0-9a-fA-F-]+)$/.exec(createdBy || '');
    if (t) {
      const known = tokens.find((x) => x.id === t[1]);
      return el('span', { title: createdBy }, known ? known.name : 'token ' + t[1].slice(0, 8));
    }
    return el('span', {}, createdBy || '—');
  }

  function scopeChips(scopes) {
    return el('ul', { className: 'chips', 'aria-label': 'scopes' },
      (scopes || []).map((s) => el('li', { className: 'chip' }, s)));
  }

  function renderTokens() {
    const now = Date.now();
    const rows = $('token-rows');
    rows.textContent = '';
    const sorted = [...tokens].sort((a, b) => b.created_at.localeCompare(a.created_at));
    for (const t of sorted) {
      const st = tokenStatus(t, now);
      const live = st.key === 'active' || st.key === 'soon';
      rows.append(el('tr', { className: live ? '' : 'row-dim', dataset: { tokenId: t.id } },
        el('th', { scope: 'row', className: 'cell-name' }, t.name),
        el('td', {}, scopeChips(t.scopes)),
        el('td', { className: 'nowrap' }, timeEl(t.created_at, dateFmt.format(new Date(t.created_at)))),
        el('td', { className: 'nowrap' }, t.expires_at
          ? timeEl(t.expires_at, dateFmt.format(new Date(t.expires_at)))
          : el('span', { className: 'muted' }, 'never')),
        el('td', { className: 'nowrap' }, t.last_used_at
          ? [timeEl(t.last_used_at, relative(t.last_used_at, now)),
            t.last_used_from ? el('span', { className: 'sub' }, 'from ', t.last_used_from) : null]
          : el('span', { className: 'muted' }, 'never')),
        el('td', {}, creatorName(t.created_by)),
        el('td', { className: 'nowrap' }, el('span', { className: 'badge badge-' + st.key }, st.text)),
        el('td', { className: 'cell-actions' }, live
          ? el('button', {
            type: 'button', className: 'btn btn-small btn-danger-quiet',
            'aria-label': `Revoke token ${t.name}`, dataset: { revoke: t.id },
          }, 'Revoke')
          : null),
      ));
    }
    $('token-empty').hidden = tokens.length > 0;
    const active = tokens.filter((t) => ['active', 'soon'].includes(tokenStatus(t, now).key)).length;
    $('token-count').textContent = tokens.length ? `${active} active of ${tokens.length}` : '';
    fillActorFilter();
  }

  async function loadTokens() {
    try {
      tokens = (await api('GET', '/api/v1/tokens')) || [];
      renderTokens();
    } catch (e) {
      if (e.status !== 401) announce('Could not load tokens: ' + e.message, 'error');
    }
  }

  $('tokens-refresh').addEventListener('click', async () => {
    await loadTokens();
    announce('Tokens refreshed.');
  });

  // Keep "3 minutes ago" true while the page stays open.
  setInterval(() => {
    if (signedIn && !$('view-tokens').hidden) renderTokens();
  }, 60000);

  // --- scope picker

  function buildScopeTree() {
    const root = $('scope-tree');
    const build = (entries) => entries.map(([name, kids]) => {
      const info = SCOPE_BY_NAME.get(name);
      const id = 'scope-' + name.replace(':', '-');
      const item = el('li', { className: 'scope-item' },
        el('div', { className: 'scope-row' },
          el('input', { type: 'checkbox', id, name: 'scopes', value: name, 'aria-describedby': id + '-text' }),
          el('label', { for: id },
            el('code', {}, name),
            el('span', { className: 'included', id: id + '-included', hidden: true }, 'included')),
          el('span', { className: 'scope-text hint', id: id + '-text' }, info.text)),
        kids.length ? el('ul', {}, build(kids)) : null);
      return item;
    });
    root.append(...build(SCOPE_TREE));
    root.addEventListener('change', (ev) => {
      if (ev.target.matches('input[type=checkbox]')) {
        ev.target.dataset.own = ev.target.checked ? '1' : '';
        syncScopes();
      }
    });
  }

  /** Scopes included by a checked ancestor are shown checked and disabled. */
  function syncScopes() {
    const boxes = [...document.querySelectorAll('#scope-tree input[type=checkbox]')];
    const own = new Set(boxes.filter((b) => b.dataset.own === '1').map((b) => b.value));
    const included = new Set();
    const mark = (name) => {
      for (const c of SCOPE_BY_NAME.get(name).children) { included.add(c); mark(c); }
    };
    own.forEach(mark);
    for (const b of boxes) {
      const inc = included.has(b.value);
      b.disabled = inc;
      b.checked = inc || own.has(b.value);
      $(b.id + '-included').hidden = !inc;
      b.closest('.scope-item').classList.toggle('is-included', inc);
    }
  }

  /** The smallest list of scopes the user asked for. */
  function chosenScopes() {
    return [...document.querySelectorAll('#scope-tree input[type=checkbox]')]
      .filter((b) => b.checked && !b.disabled)
      .map((b) => b.value);
  }

  function clearFieldErrors() {
    for (const p of document.querySelectorAll('#create-form .field-error')) p.textContent = '';
    for (const i of document.querySelectorAll('#create-form [aria-invalid]')) i.removeAttribute('aria-invalid');
    $('create-error').textContent = '';
  }

  function todayUtc() {
    return new Date().toISOString().slice(0, 10);
  }

  $('create-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearFieldErrors();
    const body = { name: $('create-name').value, scopes: chosenScopes() };
    const day = $('create-expires').value;
    if (day) body.expires_at = `${day}T23:59:59Z`;
    const button = $('create-submit');
    button.disabled = true;
    try {
      const created = await api('POST', '/api/v1/tokens', body);
      showNewToken(created);
      $('create-form').reset();
      for (const b of document.querySelectorAll('#scope-tree input')) b.dataset.own = '';
      syncScopes();
      loadTokens();
    } catch (e) {
      if (e.status === 401) return;
      const fields = (e.body && e.body.fields) || [];
      const inputs = { name: 'create-name', expires_at: 'create-expires', scopes: 'scope-all' };
      let first = null;
      for (const f of fields) {
        const p = document.querySelector(`#create-form .field-error[data-field="${CSS.escape(f.field)}"]`);
        if (p) {
          p.textContent = (p.textContent ? p.textContent + '; ' : '') + f.message;
          const input = $(inputs[f.field]);
          if (input && f.field !== 'scopes') input.setAttribute('aria-invalid', 'true');
          first = first || input;
        }
      }
      $('create-error').textContent = fields.length
        ? 'The token was not created: see the fields marked in red.'
        : 'The token was not created: ' + e.message;
      if (first) first.focus();
    } finally {
      button.disabled = false;
    }
  });

  // --- the one-time token dialog

  function showNewToken(created) {
    const dialog = $('token-dialog');
    $('token-dialog-name').textContent = '“' + created.name + '”';
    $('token-value').value = created.token;
    $('token-copy-status').textContent = '';
    dialog.showModal();
    $('token-value').focus();
    $('token-value').select();
    announce(`Token “${created.name}” created.`);
  }

  $('token-copy').addEventListener('click', async () => {
    const input = $('token-value');
    let ok = false;
    try {
      await navigator.clipboard.writeText(input.value);
      ok = true;
    } catch {
      input.select();
      try { ok = document.execCommand('copy'); } catch { ok = false; }
    }
    $('token-copy-status').textContent = ok
      ? 'Copied to the clipboard.'
      : 'Could not copy: select the value and copy it by hand.';
  });

  $('token-dialog').addEventListener('close', () => {
    // Do not keep the secret in the page any longer than needed.
    $('token-value').value = '';
    $('create-name').focus();
  });

  // --- revocation

  let revoking = null;

  $('token-rows').addEventListener('click', (ev) => {
    const button = ev.target.closest('button[data-revoke]');
    if (!button) return;
    const t = tokens.find((x) => x.id === button.dataset.revoke);
    if (!t) return;
    revoking = t;
    $('revoke-name').textContent = '“' + t.name + '”';
    $('revoke-error').textContent = '';
    $('revoke-confirm').disabled = false;
    $('revoke-dialog').showModal();
    $('revoke-cancel').focus();
  });

  $('revoke-confirm').addEventListener('click', async () => {
    if (!revoking) return;
    const t = revoking;
    $('revoke-confirm').disabled = true;
    try {
      await api('DELETE', '/api/v1/tokens/' + encodeURIComponent(t.id));
      $('revoke-dialog').close('revoked');
      announce(`Token “${t.name}” revoked.`);
      await loadTokens();
    } catch (e) {
      if (e.status === 401) { $('revoke-dialog').close(); return; }
      if (e.status === 404) {
        $('revoke-dialog').close();
        announce(`Token “${t.name}” no longer exists.`, 'error');
        await loadTokens();
        return;
      }
      $('revoke-error').textContent = 'Not revoked: ' + e.message;
      $('revoke-confirm').disabled = false;
    }
  });

  $('revoke-dialog').addEventListener('close', () => {
    const t = revoking;
    revoking = null;
    // Put focus back where it was: the row's button, or the table.
    const back = t && document.querySelector(`button[data-revoke="${CSS.escape(t.id)}"]`);
    (back || $('token-table').closest('.table-wrap')).focus();
  });

  // ---------------------------------------------------------------- activity

  let activityCursor = null;

  function fillActorFilter() {
    const select = $('filter-actor');
    const keep = select.value;
    while (select.options.length > 1) select.remove(1);
    for (const t of [...tokens].sort((a, b) => a.name.localeCompare(b.name))) {
      select.append(el('option', { value: t.id }, t.name + (t.revoked_at ? ' (revoked)' : '')));
    }
    select.value = [...select.options].some((o) => o.value === keep) ? keep : '';
  }

  function activityQuery(cursor) {
    const q = new URLSearchParams();
    const actor = $('filter-actor').value;
    const type = $('filter-type').value;
    const id = $('filter-id').value.trim();
    if (actor) q.set('actor', actor);
    if (type) q.set('resource_type', type);
    if (id) q.set('resource_id', id);
    q.set('limit', '50');
    if (cursor) q.set('cursor', cursor);
    return '/api/v1/audit?' + q.toString();
  }

  /** "User 2b1c…" or, for a token this page knows, "Token okta". */
  function resourceCell(type, id) {
    const known = type === 'Token' && tokens.find((t) => t.id === id);
    return [
      el('span', { className: 'rtype' }, type || ''),
      known ? el('span', { className: 'rname' }, known.name) : null,
      id ? el('code', { className: 'id', title: id }, known ? id.slice(0, 8) : id) : null,
    ];
  }

  function renderActivity(entries, append) {
    const rows = $('activity-rows');
    if (!append) rows.textContent = '';
    const now = Date.now();
    for (const e of entries) {
      const actor = e.actor || {};
      rows.append(el('tr', {},
        el('td', { className: 'nowrap' }, timeEl(e.at, relative(e.at, now))),
        el('td', {}, actor.name || (actor.token_id ? 'token ' + actor.token_id.slice(0, 8) : 'AUTH_SECRET')),
        el('td', {}, el('code', {}, e.action)),
        el('td', {}, resourceCell(e.resource_type, e.resource_id)),
        el('td', {}, String(e.status ?? '')),
      ));
    }
    $('activity-empty').hidden = rows.children.length > 0;
  }

  let activitySeq = 0;
  async function loadActivity(reset) {
    const seq = ++activitySeq;
    if (reset) activityCursor = null;
    $('activity-error').textContent = '';
    if (!tokens.length) loadTokens();
    try {
      const page = await api('GET', activityQuery(reset ? null : activityCursor));
      if (seq !== activitySeq) return;
      $('activity-unavailable').hidden = true;
      $('activity-wrap').hidden = false;
      renderActivity((page && page.entries) || [], !reset);
      activityCursor = (page && page.next_cursor) || null;
      $('activity-more').hidden = !activityCursor;
    } catch (e) {
      if (seq !== activitySeq) return;
      $('activity-more').hidden = true;
      if (e.status === 404) {
        $('activity-unavailable').hidden = false;
        $('activity-wrap').hidden = true;
        $('activity-empty').hidden = true;
      } else if (e.status !== 401) {
        $('activity-error').textContent = 'Could not load activity: ' + e.message;
      }
    }
  }

  $('activity-filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadActivity(true);
  });
  $('activity-filter').addEventListener('reset', () => setTimeout(() => loadActivity(true), 0));
  $('activity-more').addEventListener('click', () => loadActivity(false));

  // ---------------------------------------------------------------- overview

  async function loadOverview() {
    $('overview-error').textContent = '';
    try {
      const o = await api('GET', '/api/v1/overview');
      $('overview-unavailable').hidden = true;
      $('overview-body').hidden = false;
      $('stat-users').textContent = String(o.users ?? '–');
      $('stat-groups').textContent = String(o.groups ?? '–');
      const list = o.tokens || [];
      $('stat-tokens').textContent = String(list.length);
      const rows = $('overview-rows');
      rows.textContent = '';
      const now = Date.now();
      for (const t of list) {
        const a = t.last_activity;
        rows.append(el('tr', {},
          el('th', { scope: 'row', className: 'cell-name' }, t.name),
          el('td', {}, a ? el('code', {}, a.action) : el('span', { className: 'muted' }, 'nothing yet')),
          el('td', {}, a ? resourceCell(a.resource_type, a.resource_id) : ''),
          el('td', { className: 'nowrap' }, a ? timeEl(a.at, relative(a.at, now)) : el('span', { className: 'muted' }, 'never')),
        ));
      }
      $('overview-empty').hidden = list.length > 0;
    } catch (e) {
      if (e.status === 404) {
        $('overview-unavailable').hidden = false;
        $('overview-body').hidden = true;
      } else if (e.status !== 401) {
        $('overview-error').textContent = 'Could not load the overview: ' + e.message;
      }
    }
  }

  // ---------------------------------------------------------------- schemas

  let schemas = [];

  function yesNo(v) {
    return v ? 'yes' : el('span', { className: 'muted' }, 'no');
  }

  /** Rows for attributes, each complex one followed by its sub-attributes. */
  function attributeRows(attrs, parent) {
    const rows = [];
    for (const a of attrs || []) {
      const path = parent ? parent + '.' + a.name : a.name;
      const refs = Array.isArray(a.referenceTypes) && a.referenceTypes.length ? a.referenceTypes : null;
      const values = Array.isArray(a.canonicalValues) && a.canonicalValues.length ? a.canonicalValues : null;
      rows.push(el('tr', {},
        el('th', { scope: 'row', className: parent ? 'attr-name attr-sub' : 'attr-name' },
          el('code', {}, parent ? el('span', { className: 'attr-parent' }, parent + '.') : null, a.name),
          a.description ? el('span', { className: 'sub' }, a.description) : null),
        el('td', {},
          el('code', {}, a.type || ''),
          refs ? el('span', { className: 'sub' }, 'to ', refs.join(', ')) : null,
          values ? el('span', { className: 'sub' }, 'one of ', values.join(', ')) : null),
        el('td', {}, yesNo(a.multiValued)),
        el('td', {}, yesNo(a.required)),
        el('td', {}, a.uniqueness || ''),
        el('td', {}, a.mutability || ''),
        el('td', {}, a.returned || ''),
      ));
      if (Array.isArray(a.subAttributes)) rows.push(...attributeRows(a.subAttributes, path));
    }
    return rows;
  }

  function schemaCard(s, i) {
    const def = s.schema || {};
    const titleId = `schema-${i}-title`;
    const attrs = Array.isArray(def.attributes) ? def.attributes : [];
    const meta = [
      ['Extends', s.extends],
      ['Required', yesNo(s.required)],
      def.name ? ['Name', def.name] : null,
      s.created_at ? ['Declared', timeEl(s.created_at, dateFmt.format(new Date(s.created_at)))] : null,
      s.updated_at && s.updated_at !== s.created_at
        ? ['Changed', timeEl(s.updated_at, dateFmt.format(new Date(s.updated_at)))] : null,
    ].filter(Boolean);
    return el('article', { className: 'card schema-card', 'aria-labelledby': titleId, dataset: { schemaId: s.id } },
      el('div', { className: 'card-head' },
        el('h3', { id: titleId, className: 'schema-urn' }, el('code', {}, s.id)),
        el('button', {
          type: 'button', className: 'btn btn-small btn-danger-quiet',
          'aria-label': s.typeName ? `Remove resource type ${s.typeName}` : `Remove schema ${s.id}`,
          dataset: s.typeName ? { remove: s.id, type: s.typeName } : { remove: s.id },
        }, 'Remove')),
      def.description ? el('p', { className: 'muted' }, def.description) : null,
      el('dl', { className: 'schema-meta' },
        meta.map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v)))),
      attrs.length
        ? el('div', { className: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': `Attributes of ${s.id}` },
          el('table', { className: 'table' },
            el('thead', {}, el('tr', {},
              ['Name', 'Type', 'Multi-valued', 'Required', 'Uniqueness', 'Mutability', 'Returned']
                .map((h) => el('th', { scope: 'col' }, h)))),
            el('tbody', {}, attributeRows(attrs, null))))
        : el('p', { className: 'empty' }, 'No attributes.'),
    );
  }

  function renderSchemas() {
    const list = $('schema-list');
    list.textContent = '';
    list.append(...schemas.map(schemaCard));
    $('schema-empty').hidden = schemas.length > 0;
    $('schema-count').textContent = schemas.length ? `${schemas.length} declared` : '';
  }

  /** 403 (a token without `all`) or 404: the view explains instead. */
  function schemasUnavailable(status) {
    $('schemas-unavailable').textContent = status === 404
      ? 'Schemas are not available on this server.'
      : 'Schemas are not available with this credential.';
    $('schemas-unavailable').hidden = false;
    $('schemas-body').hidden = true;
  }

  let schemasSeq = 0;
  /** Resolves to true when the list was loaded. */
  async function loadSchemas() {
    const seq = ++schemasSeq;
    $('schemas-error').textContent = '';
    try {
      const list = await api('GET', '/api/v1/schemas');
      // Declared resource types: each shown by its core schema, removed
      // through its own endpoint.
      const types = await api('GET', '/api/v1/resource-types');
      if (seq !== schemasSeq) return false;
      schemas = (list || []).concat((types || []).map((t) => ({
        id: t.schema && t.schema.id ? t.schema.id : t.name,
        extends: `resource type ${t.name} at ${t.endpoint}`,
        required: false,
        schema: t.schema,
        created_at: t.created_at,
        updated_at: t.updated_at,
        typeName: t.name,
      })));
      $('schemas-unavailable').hidden = true;
      $('schemas-body').hidden = false;
      renderSchemas();
      return true;
    } catch (e) {
      if (seq !== schemasSeq) return false;
      if (e.status === 403 || e.status === 404) schemasUnavailable(e.status);
      else if (e.status !== 401) $('schemas-error').textContent = 'Could not load schemas: ' + e.message;
      return false;
    }
  }

  $('schemas-refresh').addEventListener('click', async () => {
    if (await loadSchemas()) announce('Schemas refreshed.');
  });

  // --- removal

  $('schema-list').addEventListener('click', async (ev) => {
    const button = ev.target.closest('button[data-remove]');
    if (!button) return;
    const urn = button.dataset.remove;
    const typeName = button.dataset.type;
    const what = typeName ? `resource type ${typeName}` : `schema ${urn}`;
    if (!window.confirm(`Remove ${what}?\n\nClients stop seeing it from the next request on.`)) return;
    const path = typeName
      ? '/api/v1/resource-types/' + encodeURIComponent(typeName)
      : '/api/v1/schemas/' + encodeURIComponent(urn);
    $('schemas-error').textContent = '';
    button.disabled = true;
    try {
      try {
        await api('DELETE', path);
      } catch (e) {
        // Resources carry the extension: say so, and offer to drop the values too.
        if (e.status !== 409) throw e;
        if (!window.confirm(`${e.message}\n\nRemove it and delete those values?`)) {
          $('schemas-error').textContent = `Schema ${urn} was not removed: ${e.message}`;
          button.disabled = false;
          return;
        }
        await api('DELETE', path + '?force=true');
      }
      announce(`Schema ${urn} removed.`);
      await loadSchemas();
      $('schema-list').focus();
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 403) { schemasUnavailable(e.status); return; }
      if (e.status === 404) {
        announce(`Schema ${urn} no longer exists.`, 'error');
        await loadSchemas();
        $('schema-list').focus();
        return;
      }
      $('schemas-error').textContent = `Schema ${urn} was not removed: ${e.message}`;
      button.disabled = false;
    }
  });

  // --- declaration

  const SCHEMA_FILE_MAX = 1024 * 1024;

  function clearSchemaErrors() {
    $('schema-error').textContent = '';
    $('schema-json').removeAttribute('aria-invalid');
  }

  /** Where JSON.parse's message says the error is, as an offset into text. */
  function jsonErrorOffset(message, text) {
    const pos = /position (\d+)/.exec(message);
    if (pos) return Number(pos[1]);
    const lc = /line (\d+) column (\d+)/.exec(message);
    if (!lc) return null;
    const lines = text.split('\n').slice(0, Number(lc[1]) - 1);
    return lines.reduce((n, l) => n + l.length + 1, 0) + Number(lc[2]) - 1;
  }

  /** The POST body: the document itself, or a bare schema wrapped with the form's choices. */
  function schemaRequest(doc) {
    const wrap = { extends: $('schema-extends').value, required: $('schema-required').checked };
    return 'schema' in doc ? { ...wrap, ...doc } : { ...wrap, schema: doc };
  }

  function schemaInvalid(message, offset) {
    const input = $('schema-json');
    $('schema-error').textContent = message;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    if (offset !== null && offset !== undefined) input.setSelectionRange(offset, offset);
  }

  $('schema-file').addEventListener('change', () => {
    const file = $('schema-file').files[0];
    if (!file) return;
    clearSchemaErrors();
    if (file.size > SCHEMA_FILE_MAX) {
      $('schema-error').textContent = `${file.name} is too large for a schema document.`;
      return;
    }
    const reader = new FileReader();
    reader.addEventListener('load', () => {
      $('schema-json').value = String(reader.result);
      announce(`Read ${file.name}.`);
    });
    reader.addEventListener('error', () => {
      $('schema-error').textContent = `Could not read ${file.name}: ` + (reader.error ? reader.error.message : 'unknown error');
    });
    reader.readAsText(file);
  });

  $('schema-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearSchemaErrors();
    const text = $('schema-json').value;
    if (!text.trim()) {
      schemaInvalid('Paste a schema document or choose a file.');
      return;
    }
    let doc;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      schemaInvalid('Not valid JSON: ' + e.message, jsonErrorOffset(e.message, text));
      return;
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      schemaInvalid('The document must be a JSON object: a request body or a schema.');
      return;
    }
    const button = $('schema-submit');
    button.disabled = true;
    try {
      // A resource type's body (`resourceType` and its core `schema`) goes
      // to its own endpoint; anything else is an extension schema.
      const isType = 'resourceType' in doc;
      const created = isType
        ? await api('POST', '/api/v1/resource-types', doc)
        : await api('POST', '/api/v1/schemas', schemaRequest(doc));
      $('schema-form').reset();
      announce(isType ? `Resource type ${created.name} added.` : `Schema ${created.id} added.`);
      await loadSchemas();
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 403) { schemasUnavailable(e.status); return; }
      const fields = (e.body && e.body.fields) || [];
      const box = $('schema-error');
      if (fields.length) {
        box.append(
          el('p', {}, 'The schema was not added:'),
          el('ul', { className: 'error-list' },
            fields.map((f) => el('li', {}, el('code', {}, f.field), ': ', f.message))));
      } else {
        box.textContent = 'The schema was not added: ' + e.message;
      }
      if (e.status === 400) $('schema-json').setAttribute('aria-invalid', 'true');
    } finally {
      button.disabled = false;
    }
  });

  // ---------------------------------------------------------------- start

  buildScopeTree();
  syncScopes();
  $('create-expires').min = todayUtc();

  async function start() {
    if (credential()) {
      try {
        tokens = (await api('GET', '/api/v1/tokens', undefined, credential())) || [];
        signedIn = true;
      } catch (e) {
        sessionStorage.removeItem(STORAGE_KEY);
        $('signin-error').textContent = e.message;
      }
    }
    show(currentView());
    if (!signedIn) $('signin-secret').focus();
  }
  start();
})();
