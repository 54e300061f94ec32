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

  const VIEWS = ['tokens', 'connectors', 'activity', 'overview', 'schemas', 'org', 'events'];
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
    const title = {
      tokens: 'API tokens', connectors: 'Connectors', activity: 'Activity',
      overview: 'Directory', schemas: 'Schemas', org: 'Organization', events: 'Change events',
    }[view];
    document.title = `${title} · scimd admin`;
    if (view === 'tokens') loadTokens();
    if (view === 'activity') loadActivity(true);
    if (view === 'overview') loadOverview();
    if (view === 'schemas') loadSchemas();
    if (view === 'connectors') loadConnectors();
    if (view === 'org') loadOrg();
    if (view === 'events') loadSubscriptions();
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
    forgetConnectors();
    forgetOrg();
    forgetSubscriptions();
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

  // Where the focus goes when the dialog closes (the form it came from).
  let tokenDialogBack = null;

  /**
   * Shows a token value once. `opts`: `title` (default "Token created"),
   * `scimUrl` (a new connector's, shown above the value), `back` (the
   * element to focus afterwards), `message` (announced).
   */
  function showNewToken(created, opts = {}) {
    const dialog = $('token-dialog');
    $('token-dialog-title').textContent = opts.title || 'Token created';
    $('token-dialog-noun').textContent = opts.noun || 'token';
    $('token-dialog-name').textContent = '“' + created.name + '”';
    $('token-dialog-url').hidden = !opts.scimUrl;
    $('token-scim-url').value = opts.scimUrl || '';
    $('token-value').value = created.token;
    $('token-copy-status').textContent = '';
    tokenDialogBack = opts.back || null;
    dialog.showModal();
    $('token-value').focus();
    $('token-value').select();
    announce(opts.message || `Token “${created.name}” created.`);
  }

  /** Copies `input`'s value; `what` names it in the message ("the token"). */
  async function copyValue(input, what) {
    let ok = false;
    try {
      await navigator.clipboard.writeText(input.value);
      ok = true;
    } catch {
      input.select();
      try { ok = document.execCommand('copy'); } catch { ok = false; }
    }
    $('token-copy-status').textContent = ok
      ? `Copied ${what} to the clipboard.`
      : `Could not copy: select ${what} and copy it by hand.`;
  }

  $('token-copy').addEventListener('click', () => copyValue($('token-value'), 'the token'));
  $('token-url-copy').addEventListener('click', () => copyValue($('token-scim-url'), 'the SCIM URL'));

  $('token-dialog').addEventListener('close', () => {
    // Do not keep the secret in the page any longer than needed.
    $('token-value').value = '';
    $('token-scim-url').value = '';
    const back = tokenDialogBack ? tokenDialogBack() : $('create-name');
    tokenDialogBack = null;
    if (back) back.focus();
  });

  // --- revocation

  // {token, reload, back}: the token asked about, what to reload once it is
  // revoked, and where the focus goes back to.
  let revoking = null;

  /** Asks before revoking `t`; used by the token list and a connector's. */
  function askRevoke(t, reload, back) {
    revoking = { token: t, reload, back };
    $('revoke-name').textContent = '“' + t.name + '”';
    $('revoke-error').textContent = '';
    $('revoke-confirm').disabled = false;
    $('revoke-dialog').showModal();
    $('revoke-cancel').focus();
  }

  $('token-rows').addEventListener('click', (ev) => {
    const button = ev.target.closest('button[data-revoke]');
    if (!button) return;
    const t = tokens.find((x) => x.id === button.dataset.revoke);
    if (!t) return;
    askRevoke(t, loadTokens, () => document.querySelector(`#token-rows button[data-revoke="${CSS.escape(t.id)}"]`)
      || $('token-table').closest('.table-wrap'));
  });

  $('revoke-confirm').addEventListener('click', async () => {
    if (!revoking) return;
    const { token: t, reload } = revoking;
    $('revoke-confirm').disabled = true;
    try {
      await api('DELETE', '/api/v1/tokens/' + encodeURIComponent(t.id));
      $('revoke-dialog').close('revoked');
      announce(`Token “${t.name}” revoked.`);
      await reload();
    } catch (e) {
      if (e.status === 401) { $('revoke-dialog').close(); return; }
      if (e.status === 404) {
        $('revoke-dialog').close();
        announce(`Token “${t.name}” no longer exists.`, 'error');
        await reload();
        return;
      }
      $('revoke-error').textContent = 'Not revoked: ' + e.message;
      $('revoke-confirm').disabled = false;
    }
  });

  $('revoke-dialog').addEventListener('close', () => {
    const r = revoking;
    revoking = null;
    // Put focus back where it was: the row's button, or the table.
    const back = r && r.back();
    if (back) back.focus();
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

  // ---------------------------------------------------------------- form errors

  /** Clears what showFieldErrors wrote in `form` and in `box`. */
  function clearFormErrors(form, box) {
    for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
    for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
    if (box) box.textContent = '';
  }

  /**
   * The server's `fields` next to the inputs they name (the `.field-error`
   * with that `data-field`), any others listed in `box` under `what` ("The
   * connector was not added"); the first invalid input gets the focus.
   */
  function showFieldErrors(form, box, e, what) {
    const fields = (e.body && e.body.fields) || [];
    const elsewhere = [];
    let first = null;
    for (const f of fields) {
      const p = form.querySelector(`.field-error[data-field="${CSS.escape(f.field)}"]`);
      if (!p) { elsewhere.push(f); continue; }
      p.textContent = (p.textContent ? p.textContent + '; ' : '') + f.message;
      const input = p.closest('.field').querySelector('input, select, textarea');
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        first = first || input;
      }
    }
    box.textContent = '';
    if (!fields.length) {
      box.textContent = `${what}: ${e.message}`;
    } else if (!elsewhere.length) {
      box.textContent = `${what}: see the fields marked in red.`;
    } else {
      box.append(el('p', {}, `${what}:`), el('ul', { className: 'error-list' },
        elsewhere.map((f) => el('li', {}, el('code', {}, f.field), ': ', f.message))));
    }
    if (first) first.focus();
  }

  /** An error made in the page, shaped like the server's 400. */
  function localError(fields) {
    return new ApiError(400, { message: fields.map((f) => `${f.field}: ${f.message}`).join('; '), fields });
  }

  /** A rate limit from its two inputs: `{value}` (null: none) or `{fields}`. */
  function readRate(rate, burst) {
    const fields = [];
    if (rate.validity.badInput) fields.push({ field: 'rate_limit.per_second', message: 'must be a number' });
    if (burst.validity.badInput) fields.push({ field: 'rate_limit.burst', message: 'must be a whole number' });
    const r = rate.value.trim();
    const b = burst.value.trim();
    if (!fields.length && (r === '') !== (b === '')) {
      fields.push(r === ''
        ? { field: 'rate_limit.per_second', message: 'give it with the burst, or leave both empty for no limit' }
        : { field: 'rate_limit.burst', message: 'give it with the requests per second, or leave both empty for no limit' });
    }
    if (fields.length) return { fields };
    return { value: r === '' ? null : { per_second: Number(r), burst: Number(b) } };
  }

  /** The badge colour of an HTTP status: green, grey, amber, red. */
  function statusClass(status) {
    if (status >= 500) return 'badge-revoked';
    if (status >= 400) return 'badge-soon';
    if (status >= 300) return 'badge-expired';
    return 'badge-active';
  }

  const numFmt = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });
  const KIND_TEXT = { okta: 'Okta', entra: 'Entra ID', generic: 'Generic SCIM client' };

  // ---------------------------------------------------------------- connectors

  let connectors = [];
  let detailId = null; // the connector in the detail panel
  let connectorTokens = [];

  function connectorName(id) {
    const c = connectors.find((x) => x.id === id);
    return c ? c.name : 'connector ' + String(id).slice(0, 8);
  }

  function rateText(r) {
    return r
      ? `${numFmt.format(r.per_second)}/s, burst ${r.burst}`
      : el('span', { className: 'muted' }, 'none');
  }

  function ownershipCell(c) {
    return [c.effective_ownership,
      c.ownership ? null : el('span', { className: 'sub' }, 'the organization’s')];
  }

  function activityCells(c, now) {
    const a = c.activity;
    if (!a) return [1, 2, 3].map(() => el('td', { className: 'col-activity muted' }, '—'));
    const errors = a.requests_last_hour
      ? [`${a.errors_last_hour} of ${a.requests_last_hour}`,
        el('span', { className: 'sub' }, `${Math.round((100 * a.errors_last_hour) / a.requests_last_hour)}%`)]
      : el('span', { className: 'muted' }, 'no requests');
    const e = a.last_error;
    return [
      el('td', { className: 'col-activity nowrap' }, a.last_request_at
        ? timeEl(a.last_request_at, relative(a.last_request_at, now))
        : el('span', { className: 'muted' }, 'never')),
      el('td', { className: 'col-activity nowrap' + (a.errors_last_hour ? ' cell-errors' : '') }, errors),
      el('td', { className: 'col-activity' }, e
        ? [el('span', { className: 'badge ' + statusClass(e.status) }, String(e.status)), ' ',
          el('code', { className: 'req-path' }, `${e.method} ${e.path}`),
          el('span', { className: 'sub' }, timeEl(e.at, relative(e.at, now)))]
        : el('span', { className: 'muted' }, 'none')),
    ];
  }

  function renderConnectors() {
    const now = Date.now();
    const rows = $('connector-rows');
    rows.textContent = '';
    for (const c of connectors) {
      rows.append(el('tr', { dataset: { connectorId: c.id }, className: c.id === detailId ? 'row-selected' : '' },
        el('th', { scope: 'row', className: 'cell-name' }, c.name, el('span', { className: 'sub' }, KIND_TEXT[c.kind] || c.kind)),
        el('td', {}, el('code', {}, c.profile)),
        el('td', {}, ownershipCell(c)),
        el('td', { className: 'nowrap' }, rateText(c.rate_limit)),
        activityCells(c, now),
        el('td', { className: 'cell-actions nowrap' },
          el('button', {
            type: 'button', className: 'btn btn-small',
            'aria-label': `Manage connector ${c.name}`, dataset: { manage: c.id },
          }, 'Manage'), ' ',
          el('button', {
            type: 'button', className: 'btn btn-small btn-quiet',
            'aria-label': `Requests of connector ${c.name}`, dataset: { requests: c.id },
          }, 'Requests')),
      ));
    }
    // The activity columns come with a server that reports activity.
    $('connector-table').classList.toggle('no-activity', !connectors.some((c) => c.activity));
    $('connector-empty').hidden = connectors.length > 0;
    $('connector-count').textContent = connectors.length ? String(connectors.length) : '';
  }

  let connectorsSeq = 0;
  /** Resolves to true when the list was loaded. */
  async function loadConnectors() {
    const seq = ++connectorsSeq;
    $('connectors-error').textContent = '';
    try {
      const list = (await api('GET', '/api/v1/connectors')) || [];
      if (seq !== connectorsSeq) return false;
      connectors = list;
      $('connectors-unavailable').hidden = true;
      $('connector-wrap').hidden = false;
      $('connector-form').hidden = false;
      renderConnectors();
      if (detailId) {
        const c = connectors.find((x) => x.id === detailId);
        if (c) renderDetailHead(c); else closeDetail();
      }
      if (requestsId && !connectors.some((x) => x.id === requestsId)) closeRequests();
      return true;
    } catch (e) {
      if (seq !== connectorsSeq) return false;
      if (e.status === 404) {
        $('connectors-unavailable').hidden = false;
        $('connector-wrap').hidden = true;
        $('connector-empty').hidden = true;
        $('connector-form').hidden = true;
      } else if (e.status !== 401) {
        $('connectors-error').textContent = 'Could not load connectors: ' + e.message;
      }
      return false;
    }
  }

  $('connectors-refresh').addEventListener('click', async () => {
    if (await loadConnectors()) announce('Connectors refreshed.');
  });

  // Keep "3 minutes ago" true while the page stays open.
  setInterval(() => {
    if (signedIn && !$('view-connectors').hidden) renderConnectors();
  }, 60000);

  // --- creation

  $('connector-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = $('connector-form');
    const box = $('connector-form-error');
    clearFormErrors(form, box);
    const what = 'The connector was not added';
    const body = { name: $('connector-name').value, kind: $('connector-kind').value };
    if ($('connector-profile').value) body.profile = $('connector-profile').value;
    if ($('connector-ownership').value) body.ownership = $('connector-ownership').value;
    const rate = readRate($('connector-rate'), $('connector-burst'));
    if (rate.fields) { showFieldErrors(form, box, localError(rate.fields), what); return; }
    if (rate.value) body.rate_limit = rate.value;
    const button = $('connector-submit');
    button.disabled = true;
    try {
      const created = await api('POST', '/api/v1/connectors', body);
      form.reset();
      showNewToken({ name: created.name, token: created.token }, {
        title: 'Connector created',
        scimUrl: created.scim_url,
        back: () => $('connector-name'),
        message: `Connector “${created.name}” created.`,
      });
      await loadConnectors();
    } catch (e) {
      if (e.status === 401) return;
      showFieldErrors(form, box, e, what);
    } finally {
      button.disabled = false;
    }
  });

  // --- one connector: settings, tokens, removal

  $('connector-rows').addEventListener('click', (ev) => {
    const manage = ev.target.closest('button[data-manage]');
    if (manage) openDetail(manage.dataset.manage);
    const requests = ev.target.closest('button[data-requests]');
    if (requests) openRequests(requests.dataset.requests);
  });

  function renderDetailHead(c) {
    $('connector-detail-name').textContent = '“' + c.name + '”';
    const meta = [
      ['Kind', KIND_TEXT[c.kind] || c.kind],
      ['SCIM base URL', el('code', { className: 'id' }, c.scim_url)],
      ['Ownership', c.ownership ? c.effective_ownership : `${c.effective_ownership} (the organization’s)`],
      ['Added', timeEl(c.created_at, dateFmt.format(new Date(c.created_at)))],
      c.updated_at !== c.created_at ? ['Changed', timeEl(c.updated_at, relative(c.updated_at))] : null,
    ].filter(Boolean);
    const dl = $('connector-detail-meta');
    dl.textContent = '';
    dl.append(...meta.map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v))));
    for (const tr of $('connector-rows').children) tr.classList.toggle('row-selected', tr.dataset.connectorId === c.id);
  }

  function fillEditForm(c) {
    clearFormErrors($('connector-edit'), $('connector-edit-error'));
    $('edit-profile').value = c.profile;
    $('edit-ownership').value = c.ownership || '';
    $('edit-rate').value = c.rate_limit ? String(c.rate_limit.per_second) : '';
    $('edit-burst').value = c.rate_limit ? String(c.rate_limit.burst) : '';
  }

  function fillTransferTargets(c) {
    const select = $('transfer-to');
    select.textContent = '';
    select.append(el('option', { value: '' }, 'no connector (administrators only)'));
    for (const o of connectors) {
      if (o.id !== c.id) select.append(el('option', { value: o.id }, o.name));
    }
  }

  function openDetail(id) {
    const c = connectors.find((x) => x.id === id);
    if (!c) return;
    const other = detailId !== id;
    detailId = id;
    renderDetailHead(c);
    fillEditForm(c);
    fillTransferTargets(c);
    if (other) {
      connectorTokens = [];
      $('connector-token-rows').textContent = '';
      $('connector-token-empty').hidden = true;
      $('connector-token-count').textContent = '';
    }
    $('mint-form').reset();
    clearFormErrors($('mint-form'), $('mint-error'));
    $('connector-delete-error').textContent = '';
    $('transfer-result').textContent = '';
    $('connector-detail').hidden = false;
    $('connector-detail').scrollIntoView({ block: 'start' });
    $('connector-detail-title').focus({ preventScroll: true });
    loadConnectorTokens(id);
  }

  function closeDetail() {
    const id = detailId;
    detailId = null;
    connectorTokens = [];
    $('connector-detail').hidden = true;
    $('connector-token-rows').textContent = '';
    for (const tr of $('connector-rows').children) tr.classList.remove('row-selected');
    return id;
  }

  $('connector-detail-close').addEventListener('click', () => {
    const id = closeDetail();
    const back = id && document.querySelector(`#connector-rows button[data-manage="${CSS.escape(id)}"]`);
    if (back) back.focus();
  });

  $('connector-edit').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = $('connector-edit');
    const box = $('connector-edit-error');
    clearFormErrors(form, box);
    const what = 'Not saved';
    const rate = readRate($('edit-rate'), $('edit-burst'));
    if (rate.fields) { showFieldErrors(form, box, localError(rate.fields), what); return; }
    const id = detailId;
    const body = {
      profile: $('edit-profile').value,
      ownership: $('edit-ownership').value || null,
      rate_limit: rate.value,
    };
    const button = $('connector-save');
    button.disabled = true;
    try {
      const saved = await api('PATCH', '/api/v1/connectors/' + encodeURIComponent(id), body);
      announce(`Connector “${saved.name}” saved.`);
      await loadConnectors();
      const c = connectors.find((x) => x.id === id);
      if (c && detailId === id) fillEditForm(c);
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 404) { connectorGone(id); return; }
      showFieldErrors(form, box, e, what);
    } finally {
      button.disabled = false;
    }
  });

  /** The connector was deleted elsewhere: say so and show what is left. */
  function connectorGone(id) {
    announce(`Connector “${connectorName(id)}” no longer exists.`, 'error');
    if (detailId === id) closeDetail();
    if (requestsId === id) closeRequests();
    loadConnectors();
  }

  // --- its tokens

  function renderConnectorTokens() {
    const now = Date.now();
    const rows = $('connector-token-rows');
    rows.textContent = '';
    const sorted = [...connectorTokens].sort((a, b) => b.created_at.localeCompare(a.created_at));
    for (const t of sorted) {
      const st = tokenStatus(t, now);
      const live = st.key === 'active' || st.key === 'soon';
      rows.append(el('tr', { className: live ? '' : 'row-dim', dataset: { tokenId: t.id } },
        el('th', { scope: 'row', className: 'cell-name' }, t.name, el('code', { className: 'sub' }, t.id.slice(0, 8))),
        el('td', {}, scopeChips(t.scopes)),
        el('td', { className: 'nowrap' }, timeEl(t.created_at, dateFmt.format(new Date(t.created_at)))),
        el('td', { className: 'nowrap' }, t.last_used_at
          ? timeEl(t.last_used_at, relative(t.last_used_at, now))
          : el('span', { className: 'muted' }, 'never')),
        el('td', { className: 'nowrap' }, el('span', { className: 'badge badge-' + st.key }, st.text)),
        el('td', { className: 'cell-actions nowrap' }, live
          ? [el('button', {
            type: 'button', className: 'btn btn-small',
            'aria-label': `Rotate token ${t.name} (${t.id.slice(0, 8)})`, dataset: { rotate: t.id },
          }, 'Rotate'), ' ',
          el('button', {
            type: 'button', className: 'btn btn-small btn-danger-quiet',
            'aria-label': `Revoke token ${t.name} (${t.id.slice(0, 8)})`, dataset: { revoke: t.id },
          }, 'Revoke')]
          : null),
      ));
    }
    $('connector-token-empty').hidden = connectorTokens.length > 0;
    const active = connectorTokens.filter((t) => ['active', 'soon'].includes(tokenStatus(t, now).key)).length;
    $('connector-token-count').textContent = connectorTokens.length ? `${active} active of ${connectorTokens.length}` : '';
  }

  async function loadConnectorTokens(id) {
    try {
      const list = (await api('GET', `/api/v1/connectors/${encodeURIComponent(id)}/tokens`)) || [];
      if (detailId !== id) return;
      connectorTokens = list;
      renderConnectorTokens();
    } catch (e) {
      if (e.status === 401 || detailId !== id) return;
      if (e.status === 404) { connectorGone(id); return; }
      $('mint-error').textContent = 'Could not load its tokens: ' + e.message;
    }
  }

  const reloadConnectorTokens = () => (detailId ? loadConnectorTokens(detailId) : undefined);
  const tokenButton = (kind, id) => () => document.querySelector(`#connector-token-rows button[data-${kind}="${CSS.escape(id)}"]`)
    || $('connector-token-table').closest('.table-wrap');

  $('connector-token-rows').addEventListener('click', (ev) => {
    const revoke = ev.target.closest('button[data-revoke]');
    const rotate = ev.target.closest('button[data-rotate]');
    const id = (revoke || rotate)?.dataset[revoke ? 'revoke' : 'rotate'];
    const t = id && connectorTokens.find((x) => x.id === id);
    if (!t) return;
    if (revoke) askRevoke(t, reloadConnectorTokens, tokenButton('revoke', t.id));
    else askRotate(t);
  });

  $('mint-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = $('mint-form');
    const box = $('mint-error');
    clearFormErrors(form, box);
    const id = detailId;
    const name = $('mint-name').value;
    const button = $('mint-submit');
    button.disabled = true;
    try {
      const created = await api('POST', `/api/v1/connectors/${encodeURIComponent(id)}/tokens`, name ? { name } : {});
      form.reset();
      showNewToken(created, { back: () => $('mint-name') });
      await loadConnectorTokens(id);
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 404) { connectorGone(id); return; }
      showFieldErrors(form, box, e, 'No token was minted');
    } finally {
      button.disabled = false;
    }
  });

  // --- rotation

  let rotating = null;

  function askRotate(t) {
    rotating = t;
    $('rotate-name').textContent = '“' + t.name + '”';
    $('rotate-error').textContent = '';
    $('rotate-confirm').disabled = false;
    $('rotate-dialog').showModal();
    $('rotate-cancel').focus();
  }

  $('rotate-confirm').addEventListener('click', async () => {
    if (!rotating) return;
    const t = rotating;
    $('rotate-confirm').disabled = true;
    try {
      const rotated = await api('POST', `/api/v1/tokens/${encodeURIComponent(t.id)}/rotate`,
        { grace_seconds: Number($('rotate-grace').value) });
      $('rotate-dialog').close('rotated');
      showNewToken(rotated, {
        title: 'Token rotated',
        back: tokenButton('rotate', t.id),
        message: `Token “${t.name}” rotated.`,
      });
      await reloadConnectorTokens();
    } catch (e) {
      if (e.status === 401) { $('rotate-dialog').close(); return; }
      $('rotate-error').textContent = 'Not rotated: ' + e.message;
      $('rotate-confirm').disabled = false;
    }
  });

  $('rotate-dialog').addEventListener('close', () => {
    const t = rotating;
    rotating = null;
    // After a rotation the value's dialog has the focus, and gives it back.
    if (t && $('rotate-dialog').returnValue !== 'rotated') tokenButton('rotate', t.id)().focus();
  });

  // --- transfer and removal

  $('transfer-submit').addEventListener('click', async () => {
    const id = detailId;
    const to = $('transfer-to').value || null;
    const target = to ? `connector “${connectorName(to)}”` : 'no connector';
    $('connector-delete-error').textContent = '';
    $('transfer-result').textContent = '';
    const button = $('transfer-submit');
    button.disabled = true;
    try {
      const done = await api('POST', '/api/v1/ownership/transfer', { from: id, to });
      const n = done && typeof done.transferred === 'number' ? done.transferred : 0;
      $('transfer-result').textContent = `${n} ${n === 1 ? 'resource' : 'resources'} moved to ${target}.`;
      announce(`${n} ${n === 1 ? 'resource' : 'resources'} moved to ${target}.`);
    } catch (e) {
      if (e.status === 401) return;
      $('connector-delete-error').textContent = 'Nothing was moved: ' + e.message;
    } finally {
      button.disabled = false;
    }
  });

  $('connector-delete').addEventListener('click', async () => {
    const id = detailId;
    const name = connectorName(id);
    if (!window.confirm(`Delete connector “${name}”?\n\nIts tokens stop working from the next request on.`)) return;
    $('connector-delete-error').textContent = '';
    $('transfer-result').textContent = '';
    const button = $('connector-delete');
    button.disabled = true;
    try {
      await api('DELETE', '/api/v1/connectors/' + encodeURIComponent(id));
      announce(`Connector “${name}” deleted.`);
      closeDetail();
      if (requestsId === id) closeRequests();
      await loadConnectors();
      $('connector-wrap').focus();
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 404) { connectorGone(id); return; }
      // 409: it still owns resources; the server says how to move them.
      $('connector-delete-error').textContent = `Connector “${name}” was not deleted: ${e.message}`;
    } finally {
      button.disabled = false;
    }
  });

  // ---------------------------------------------------------------- request log

  let requestsId = null; // the connector whose requests are shown
  let requestsCursor = null;
  let requestsList = [];
  let requestsSeq = 0;

  /** "2026-05-04T10:30" (a datetime-local value, local time) as RFC 3339 UTC. */
  function localToIso(value) {
    if (!value) return null;
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d.toISOString();
  }

  function requestsQuery(id, cursor) {
    const q = new URLSearchParams();
    const status = $('req-status').value;
    const method = $('req-method').value;
    const resource = $('req-resource').value.trim();
    const since = localToIso($('req-since').value);
    const until = localToIso($('req-until').value);
    if (status) q.set('status', status);
    if (method) q.set('method', method);
    if (resource) q.set('resource_id', resource);
    if (since) q.set('since', since);
    if (until) q.set('until', until);
    q.set('limit', '50');
    if (cursor) q.set('cursor', cursor);
    return `/api/v1/connectors/${encodeURIComponent(id)}/requests?${q.toString()}`;
  }

  function pathText(r) {
    return r.query ? `${r.path}?${String(r.query).replace(/^\?/, '')}` : r.path;
  }

  function renderRequests(list, append) {
    const rows = $('requests-rows');
    if (!append) rows.textContent = '';
    const now = Date.now();
    for (const r of list) {
      rows.append(el('tr', { className: 'row-click', dataset: { requestId: r.id } },
        el('td', { className: 'nowrap' }, timeEl(r.at, relative(r.at, now))),
        el('td', { className: 'cell-request' },
          el('button', { type: 'button', className: 'link-button', dataset: { show: r.id }, 'aria-controls': 'request-detail' },
            el('span', { className: 'req-method' }, r.method), ' ', el('span', { className: 'req-path' }, pathText(r)))),
        el('td', {}, el('span', { className: 'badge ' + statusClass(r.status) }, String(r.status))),
        el('td', { className: 'nowrap' }, typeof r.duration_ms === 'number' ? `${numFmt.format(r.duration_ms)} ms` : ''),
        el('td', {}, r.resource_id ? el('code', { className: 'id', title: r.resource_id }, r.resource_id.slice(0, 8)) : ''),
      ));
    }
    $('requests-empty').hidden = rows.children.length > 0;
  }

  async function loadRequests(reset) {
    const seq = ++requestsSeq;
    const id = requestsId;
    if (!id) return;
    const form = $('requests-filter');
    clearFormErrors(form, $('requests-error'));
    try {
      const page = await api('GET', requestsQuery(id, reset ? null : requestsCursor));
      if (seq !== requestsSeq) return;
      $('requests-unavailable').hidden = true;
      $('requests-body').hidden = false;
      const list = (page && page.requests) || [];
      if (reset) {
        requestsList = [];
        $('request-detail').hidden = true;
      }
      requestsList.push(...list);
      renderRequests(list, !reset);
      requestsCursor = (page && page.next_cursor) || null;
      $('requests-more').hidden = !requestsCursor;
    } catch (e) {
      if (seq !== requestsSeq) return;
      $('requests-more').hidden = true;
      if (e.status === 404 && e.message === 'no such connector') {
        connectorGone(id);
      } else if (e.status === 404) {
        // An older server: no request log yet.
        $('requests-unavailable').hidden = false;
        $('requests-body').hidden = true;
      } else if (e.status === 400) {
        showFieldErrors(form, $('requests-error'), e, 'Could not load requests');
      } else if (e.status !== 401) {
        $('requests-error').textContent = 'Could not load requests: ' + e.message;
      }
    }
  }

  function openRequests(id) {
    const c = connectors.find((x) => x.id === id);
    if (!c) return;
    if (requestsId !== id) {
      $('requests-filter').reset();
      $('requests-rows').textContent = '';
      $('requests-empty').hidden = true;
      $('requests-more').hidden = true;
    }
    requestsId = id;
    $('requests-name').textContent = '“' + c.name + '”';
    $('connector-requests').hidden = false;
    $('connector-requests').scrollIntoView({ block: 'start' });
    $('requests-title').focus({ preventScroll: true });
    loadRequests(true);
  }

  function closeRequests() {
    const id = requestsId;
    requestsId = null;
    requestsList = [];
    ++requestsSeq;
    $('connector-requests').hidden = true;
    $('requests-rows').textContent = '';
    $('request-detail').hidden = true;
    return id;
  }

  $('requests-close').addEventListener('click', () => {
    const id = closeRequests();
    const back = id && document.querySelector(`#connector-rows button[data-requests="${CSS.escape(id)}"]`);
    if (back) back.focus();
  });

  $('requests-filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    loadRequests(true);
  });
  $('requests-filter').addEventListener('reset', () => setTimeout(() => loadRequests(true), 0));
  $('requests-more').addEventListener('click', () => loadRequests(false));

  /** A logged body: pretty-printed when it is JSON, as it is otherwise. */
  function bodyText(text) {
    if (text === null || text === undefined || text === '') return { text: 'No body.', empty: true };
    try {
      return { text: JSON.stringify(JSON.parse(text), null, 2), json: true };
    } catch {
      return { text: String(text) };
    }
  }

  function showBody(pre, text) {
    const b = bodyText(text);
    pre.textContent = b.text;
    pre.classList.toggle('code-empty', Boolean(b.empty));
    pre.dataset.format = b.json ? 'json' : b.empty ? 'none' : 'text';
  }

  function showRequest(r) {
    $('request-detail').hidden = false;
    $('request-detail-title').textContent = `${r.method} ${pathText(r)} → ${r.status}`;
    const meta = [
      ['When', timeEl(r.at, dateTimeFmt.format(new Date(r.at)))],
      r.route ? ['Route', el('code', {}, r.route)] : null,
      typeof r.duration_ms === 'number' ? ['Duration', `${numFmt.format(r.duration_ms)} ms`] : null,
      r.request_id ? ['Request id', el('code', {}, r.request_id)] : null,
      r.resource_id ? ['Resource', el('code', {}, r.resource_id)] : null,
    ].filter(Boolean);
    const dl = $('request-detail-meta');
    dl.textContent = '';
    dl.append(...meta.map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v))));
    $('request-detail-truncated').hidden = !r.truncated;
    showBody($('request-body'), r.request_body);
    showBody($('response-body'), r.response_body);
    for (const tr of $('requests-rows').children) tr.classList.toggle('row-selected', tr.dataset.requestId === r.id);
    $('request-detail').scrollIntoView({ block: 'nearest' });
  }

  // A click anywhere on a row shows it; the button in it is the keyboard's way.
  $('requests-rows').addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-request-id]');
    const r = tr && requestsList.find((x) => x.id === tr.dataset.requestId);
    if (r) showRequest(r);
  });

  function forgetConnectors() {
    connectors = [];
    closeDetail();
    closeRequests();
    $('connector-rows').textContent = '';
    $('connector-form').reset();
    clearFormErrors($('connector-form'), $('connector-form-error'));
  }

  // ---------------------------------------------------------------- organization

  let org = null;

  function fillOrgForm(o) {
    $('org-name').textContent = o.name ? '· ' + o.name : '';
    $('org-ownership').value = o.ownership;
    $('org-delete').value = o.delete;
    $('org-retention').value = String(o.retention_days);
  }

  async function loadOrg() {
    try {
      org = await api('GET', '/api/v1/org');
      $('org-unavailable').hidden = true;
      $('org-form').hidden = false;
      $('deleted-card').hidden = false;
      clearFormErrors($('org-form'), $('org-error'));
      fillOrgForm(org);
    } catch (e) {
      if (e.status === 404) {
        $('org-unavailable').hidden = false;
        $('org-form').hidden = true;
        $('deleted-card').hidden = true;
      } else if (e.status !== 401) {
        $('org-error').textContent = 'Could not load the organization: ' + e.message;
      }
      return;
    }
    // Deleted resources name the connector that set their externalId.
    if (!connectors.length) await loadConnectors();
    await loadDeleted(true);
  }

  $('org-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = $('org-form');
    const box = $('org-error');
    clearFormErrors(form, box);
    const what = 'Not saved';
    const days = $('org-retention');
    if (days.validity.badInput || days.value.trim() === '') {
      showFieldErrors(form, box, localError([{ field: 'retention_days', message: 'must be a whole number of days from 1 to 3650' }]), what);
      return;
    }
    const body = {};
    if (!org || $('org-ownership').value !== org.ownership) body.ownership = $('org-ownership').value;
    if (!org || $('org-delete').value !== org.delete) body.delete = $('org-delete').value;
    if (!org || Number(days.value) !== org.retention_days) body.retention_days = Number(days.value);
    if (!Object.keys(body).length) {
      announce('Nothing to save: the policies are as shown.');
      return;
    }
    const button = $('org-submit');
    button.disabled = true;
    try {
      org = await api('PATCH', '/api/v1/org', body);
      fillOrgForm(org);
      announce('Policies saved.');
    } catch (e) {
      if (e.status === 401) return;
      showFieldErrors(form, box, e, what);
    } finally {
      button.disabled = false;
    }
  });

  // --- deleted resources

  let deleted = [];
  let deletedCursor = null;
  let deletedSeq = 0;

  function deletedLabel(d) {
    return `${d.resource_type} ${d.display || d.id}`;
  }

  function renderDeleted(list, append) {
    const rows = $('deleted-rows');
    if (!append) rows.textContent = '';
    const now = Date.now();
    for (const d of list) {
      const groups = Array.isArray(d.member_of) ? d.member_of.length : 0;
      rows.append(el('tr', { dataset: { deletedId: d.id } },
        el('th', { scope: 'row' },
          el('span', { className: 'rtype' }, d.resource_type),
          d.display ? el('span', { className: 'rname' }, d.display) : null,
          el('code', { className: 'id sub', title: d.id }, d.id)),
        el('td', {}, d.external_id
          ? [el('code', {}, d.external_id),
            d.external_id_connector ? el('span', { className: 'sub' }, 'from ', connectorName(d.external_id_connector)) : null]
          : el('span', { className: 'muted' }, 'none')),
        el('td', { className: 'nowrap' }, timeEl(d.deleted_at, relative(d.deleted_at, now))),
        el('td', {}, creatorName(d.deleted_by)),
        el('td', {}, groups ? String(groups) : el('span', { className: 'muted' }, 'none')),
        el('td', { className: 'cell-actions nowrap' },
          el('button', {
            type: 'button', className: 'btn btn-small',
            'aria-label': `Restore ${deletedLabel(d)}`, dataset: { restore: d.id },
          }, 'Restore'), ' ',
          el('button', {
            type: 'button', className: 'btn btn-small btn-danger-quiet',
            'aria-label': `Purge ${deletedLabel(d)}`, dataset: { purge: d.id },
          }, 'Purge')),
      ));
    }
    $('deleted-empty').hidden = rows.children.length > 0;
    $('deleted-count').textContent = rows.children.length
      ? `${rows.children.length}${deletedCursor ? '+' : ''}` : '';
  }

  async function loadDeleted(reset) {
    const seq = ++deletedSeq;
    $('deleted-error').textContent = '';
    const q = new URLSearchParams();
    if ($('deleted-type').value) q.set('resource_type', $('deleted-type').value);
    q.set('limit', '50');
    if (!reset && deletedCursor) q.set('cursor', deletedCursor);
    try {
      const page = await api('GET', '/api/v1/deleted?' + q.toString());
      if (seq !== deletedSeq) return false;
      $('deleted-unavailable').hidden = true;
      $('deleted-wrap').hidden = false;
      const list = (page && page.resources) || [];
      deleted = reset ? list : deleted.concat(list);
      deletedCursor = (page && page.next_cursor) || null;
      renderDeleted(list, !reset);
      $('deleted-more').hidden = !deletedCursor;
      return true;
    } catch (e) {
      if (seq !== deletedSeq) return false;
      $('deleted-more').hidden = true;
      if (e.status === 404) {
        $('deleted-unavailable').hidden = false;
        $('deleted-wrap').hidden = true;
        $('deleted-empty').hidden = true;
      } else if (e.status !== 401) {
        $('deleted-error').textContent = 'Could not load deleted resources: ' + e.message;
      }
      return false;
    }
  }

  $('deleted-refresh').addEventListener('click', async () => {
    if (await loadDeleted(true)) announce('Deleted resources refreshed.');
  });
  $('deleted-type').addEventListener('change', () => loadDeleted(true));
  $('deleted-filter').addEventListener('submit', (ev) => { ev.preventDefault(); loadDeleted(true); });
  $('deleted-more').addEventListener('click', () => loadDeleted(false));

  $('deleted-rows').addEventListener('click', async (ev) => {
    const button = ev.target.closest('button[data-restore], button[data-purge]');
    if (!button) return;
    const purge = 'purge' in button.dataset;
    const id = purge ? button.dataset.purge : button.dataset.restore;
    const d = deleted.find((x) => x.id === id);
    if (!d) return;
    const label = deletedLabel(d);
    if (purge && !window.confirm(`Purge ${label}?\n\nIt is removed for good and cannot be restored.`)) return;
    $('deleted-error').textContent = '';
    button.disabled = true;
    try {
      if (purge) await api('DELETE', '/api/v1/deleted/' + encodeURIComponent(id));
      else await api('POST', `/api/v1/deleted/${encodeURIComponent(id)}/restore`);
      announce(purge ? `${label} purged.` : `${label} restored.`);
      await loadDeleted(true);
      $('deleted-wrap').focus();
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 404) {
        announce(`${label} is no longer in the deleted list.`, 'error');
        await loadDeleted(true);
        return;
      }
      // 409: another resource took one of its unique values meanwhile.
      $('deleted-error').textContent = `${label} was not ${purge ? 'purged' : 'restored'}: ${e.message}`;
      button.disabled = false;
    }
  });

  function forgetOrg() {
    org = null;
    deleted = [];
    deletedCursor = null;
    $('deleted-rows').textContent = '';
    $('org-form').reset();
    clearFormErrors($('org-form'), $('org-error'));
  }


  // ---------------------------------------------------------------- change events

  let subs = [];
  let lettersOf = null; // the subscription whose dead letters are shown
  let letters = [];
  let subsSeq = 0;

  function subLabel(s) {
    return '“' + s.name + '”';
  }

  function subState(s) {
    if (s.paused) return el('span', { className: 'badge badge-expired' }, 'paused');
    if (s.delivery.failing_since) return el('span', { className: 'badge badge-revoked' }, 'failing');
    return el('span', { className: 'badge badge-active' }, 'active');
  }

  function renderSubs() {
    const now = Date.now();
    const rows = $('sub-rows');
    rows.textContent = '';
    for (const s of subs) {
      const d = s.delivery;
      const failure = d.last_error && d.failing_since
        ? [d.last_status ? el('span', { className: 'badge ' + statusClass(d.last_status) }, String(d.last_status)) : null, ' ',
          el('span', {}, d.last_error),
          d.next_attempt_at ? el('span', { className: 'sub' }, 'next try ', timeEl(d.next_attempt_at, relative(d.next_attempt_at, now))) : null]
        : el('span', { className: 'muted' }, 'none');
      rows.append(el('tr', { dataset: { subId: s.id } },
        el('th', { scope: 'row', className: 'cell-name' }, s.name,
          el('span', { className: 'sub' }, el('code', {}, s.url || s.format))),
        el('td', {}, subState(s)),
        el('td', { className: 'nowrap' + (d.lag ? ' cell-errors' : '') }, numFmt.format(d.lag)),
        el('td', { className: 'nowrap' }, numFmt.format(d.delivered)),
        el('td', { className: 'nowrap' }, d.last_success_at
          ? timeEl(d.last_success_at, relative(d.last_success_at, now))
          : el('span', { className: 'muted' }, 'never')),
        el('td', {}, failure),
        el('td', { className: 'nowrap' }, d.dead_letters
          ? el('button', { type: 'button', className: 'btn btn-small btn-quiet', dataset: { letters: s.id },
            'aria-label': `Dead letters of ${subLabel(s)}` }, numFmt.format(d.dead_letters))
          : el('span', { className: 'muted' }, '0')),
        el('td', { className: 'cell-actions nowrap' },
          el('button', { type: 'button', className: 'btn btn-small', dataset: { pause: s.id },
            'aria-label': `${s.paused ? 'Resume' : 'Pause'} ${subLabel(s)}` }, s.paused ? 'Resume' : 'Pause'), ' ',
          el('button', { type: 'button', className: 'btn btn-small btn-quiet', dataset: { replay: s.id },
            'aria-label': `Replay ${subLabel(s)}` }, 'Replay'), ' ',
          el('button', { type: 'button', className: 'btn btn-small btn-quiet', dataset: { rotate: s.id },
            'aria-label': `New secret for ${subLabel(s)}` }, 'New secret'), ' ',
          el('button', { type: 'button', className: 'btn btn-small btn-danger-quiet', dataset: { remove: s.id },
            'aria-label': `Delete ${subLabel(s)}` }, 'Delete')),
      ));
    }
    $('sub-empty').hidden = subs.length > 0;
    $('sub-count').textContent = subs.length ? String(subs.length) : '';
  }

  /** Resolves to true when the list was loaded. */
  async function loadSubscriptions() {
    const seq = ++subsSeq;
    $('subs-error').textContent = '';
    try {
      const list = (await api('GET', '/api/v1/subscriptions')) || [];
      if (seq !== subsSeq) return false;
      subs = list;
      $('subs-unavailable').hidden = true;
      $('sub-wrap').hidden = false;
      $('sub-form').hidden = false;
      renderSubs();
      if (lettersOf && !subs.some((s) => s.id === lettersOf)) closeLetters();
      return true;
    } catch (e) {
      if (seq !== subsSeq) return false;
      if (e.status === 404) {
        $('subs-unavailable').hidden = false;
        $('sub-wrap').hidden = true;
        $('sub-empty').hidden = true;
        $('sub-form').hidden = true;
      } else if (e.status !== 401) {
        $('subs-error').textContent = 'Could not load subscriptions: ' + e.message;
      }
      return false;
    }
  }

  $('subs-refresh').addEventListener('click', async () => {
    if (await loadSubscriptions()) announce('Subscriptions refreshed.');
  });

  // Lag and failures change by themselves: keep them current while shown.
  setInterval(() => {
    if (signedIn && !$('view-events').hidden) loadSubscriptions();
  }, 15000);

  $('sub-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = $('sub-form');
    const box = $('sub-form-error');
    clearFormErrors(form, box);
    const body = { format: 'webhook', url: $('sub-url').value.trim() };
    if ($('sub-name').value.trim()) body.name = $('sub-name').value.trim();
    const events = [...document.querySelectorAll('#sub-events input:checked')].map((c) => c.value);
    if (events.length) body.events = events;
    const types = $('sub-types').value.split(',').map((t) => t.trim()).filter(Boolean);
    if (types.length) body.resource_types = types;
    const button = $('sub-submit');
    button.disabled = true;
    try {
      const created = await api('POST', '/api/v1/subscriptions', body);
      form.reset();
      showNewToken({ name: created.name, token: created.secret }, {
        title: 'Subscription created',
        noun: 'signing secret of',
        back: () => $('sub-url'),
        message: `Subscription “${created.name}” created.`,
      });
      await loadSubscriptions();
    } catch (e) {
      if (e.status === 401) return;
      showFieldErrors(form, box, e, 'The subscription was not added');
    } finally {
      button.disabled = false;
    }
  });

  $('sub-rows').addEventListener('click', async (ev) => {
    const button = ev.target.closest('button[data-pause], button[data-replay], button[data-rotate], button[data-remove], button[data-letters]');
    if (!button) return;
    const id = button.dataset.pause || button.dataset.replay || button.dataset.rotate
      || button.dataset.remove || button.dataset.letters;
    const s = subs.find((x) => x.id === id);
    if (!s) return;
    const path = '/api/v1/subscriptions/' + encodeURIComponent(id);
    $('subs-error').textContent = '';
    if ('letters' in button.dataset) { openLetters(s); return; }
    let done;
    try {
      if ('pause' in button.dataset) {
        await api('PATCH', path, { paused: !s.paused });
        done = `${subLabel(s)} ${s.paused ? 'resumed' : 'paused'}.`;
      } else if ('replay' in button.dataset) {
        const from = window.prompt(`Replay ${subLabel(s)} from which event number?\n\nIts position is ${s.position}; everything from that number on is delivered again.`, String(Math.max(1, s.position)));
        if (from === null) return;
        await api('POST', path + '/replay', { from_sequence: Number(from) });
        done = `${subLabel(s)} replays from event ${from}.`;
      } else if ('rotate' in button.dataset) {
        if (!window.confirm(`Give ${subLabel(s)} a new signing secret?\n\nThe old one keeps signing beside it for 24 hours.`)) return;
        const created = await api('POST', path + '/rotate-secret');
        showNewToken({ name: created.name, token: created.secret }, {
          title: 'New signing secret', noun: 'signing secret of', back: () => $('sub-wrap'),
          message: `New secret for ${subLabel(s)}.`,
        });
      } else {
        if (!window.confirm(`Delete subscription ${subLabel(s)}?\n\nNothing more is delivered to it.`)) return;
        await api('DELETE', path);
        done = `Subscription ${subLabel(s)} deleted.`;
      }
      if (done) announce(done);
      await loadSubscriptions();
    } catch (e) {
      if (e.status === 401) return;
      $('subs-error').textContent = `${subLabel(s)}: ${e.message}`;
      if (e.status === 404) await loadSubscriptions();
    }
  });

  function renderLetters() {
    const rows = $('letter-rows');
    rows.textContent = '';
    const now = Date.now();
    for (const l of letters) {
      rows.append(el('tr', {},
        el('th', { scope: 'row' }, '#' + l.seq),
        el('td', { className: 'nowrap' }, timeEl(l.parked_at, relative(l.parked_at, now))),
        el('td', {}, String(l.attempts)),
        el('td', {}, l.last_status ? el('span', { className: 'badge ' + statusClass(l.last_status) }, String(l.last_status)) : null,
          ' ', l.last_error || ''),
        el('td', { className: 'cell-actions' }, el('button', {
          type: 'button', className: 'btn btn-small', dataset: { from: String(l.seq) },
          'aria-label': `Replay from event ${l.seq}`,
        }, 'Replay from here')),
      ));
    }
    $('letters-empty').hidden = letters.length > 0;
  }

  async function openLetters(s) {
    lettersOf = s.id;
    $('letters-title').textContent = `Dead letters of ${subLabel(s)}`;
    $('letters-error').textContent = '';
    $('letters-card').hidden = false;
    try {
      letters = (await api('GET', `/api/v1/subscriptions/${encodeURIComponent(s.id)}/dead-letters`)) || [];
      renderLetters();
    } catch (e) {
      if (e.status !== 401) $('letters-error').textContent = 'Could not load dead letters: ' + e.message;
    }
    $('letters-card').scrollIntoView({ block: 'start' });
    $('letters-title').focus({ preventScroll: true });
  }

  function closeLetters() {
    lettersOf = null;
    letters = [];
    $('letter-rows').textContent = '';
    $('letters-card').hidden = true;
  }

  $('letters-close').addEventListener('click', () => { closeLetters(); $('sub-wrap').focus(); });

  $('letter-rows').addEventListener('click', async (ev) => {
    const button = ev.target.closest('button[data-from]');
    if (!button || !lettersOf) return;
    const id = lettersOf;
    try {
      await api('POST', `/api/v1/subscriptions/${encodeURIComponent(id)}/replay`, { from_sequence: Number(button.dataset.from) });
      announce(`Replaying from event ${button.dataset.from}.`);
      closeLetters();
      await loadSubscriptions();
    } catch (e) {
      if (e.status !== 401) $('letters-error').textContent = 'Not replayed: ' + e.message;
    }
  });

  function forgetSubscriptions() {
    subs = [];
    closeLetters();
    $('sub-rows').textContent = '';
    $('sub-form').reset();
    clearFormErrors($('sub-form'), $('sub-form-error'));
  }

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
