// End-to-end test of the admin page in headless Chromium. run.sh starts
// scimd and passes SCIMD_URL, AUTH_SECRET and ARTIFACT_DIR (and optionally
// ADMIN_SCREENSHOT, where the README's screenshot goes).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { chromium } from 'playwright-core';

const BASE = required('SCIMD_URL');
const SECRET = required('AUTH_SECRET');
const ARTIFACTS = process.env.ARTIFACT_DIR || tmpdir();
const SCREENSHOT = process.env.ADMIN_SCREENSHOT || join(ARTIFACTS, 'admin-page.png');
const PHONE_SCREENSHOT = join(ARTIFACTS, 'admin-page-phone.png');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_MS = 10_000;

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set (run tests/browser/run.sh)`);
  return v;
}

/** A plain HTTP call, as an identity provider would make it. */
async function http(path, token, init = {}) {
  const resp = await fetch(BASE + path, {
    ...init,
    headers: { ...(init.headers || {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    signal: AbortSignal.timeout(STEP_MS),
  });
  const text = await resp.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  return { status: resp.status, headers: resp.headers, body };
}

function isoDay(offsetDays) {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

let context;
let page;
let profileDir;
const problems = []; // console errors, page errors, CSP violations

before(async () => {
  profileDir = mkdtempSync(join(ARTIFACTS, 'chromium-profile-'));
  // A persistent context on a fresh, empty profile directory of our own.
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  // Nothing but this server: any other request is a bug (and must not leave the machine).
  await context.route((url) => !url.href.startsWith(BASE + '/'), (route) => {
    problems.push(`request outside the server: ${route.request().url()}`);
    return route.abort();
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.setDefaultNavigationTimeout(15_000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // Chromium logs every non-2xx fetch; the 400s, 401s and 404s here are expected.
    // 409: deleting a connector that still owns resources.
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of (400|401|404|409)/.test(m.text())) {
      problems.push(`console error: ${m.text()}`);
    }
  });
});

after(async () => {
  await context?.close().catch(() => {});
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

describe('admin page', { timeout: 200_000 }, () => {
  let scimToken; // the value shown once in the dialog

  it('is served with its content types and a strict policy', async () => {
    const index = await http('/admin');
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type'), /^text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-store');
    const csp = index.headers.get('content-security-policy');
    assert.match(csp, /^default-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match((await http('/admin/app.js')).headers.get('content-type'), /^text\/javascript/);
    assert.match((await http('/admin/app.css')).headers.get('content-type'), /^text\/css/);
    assert.equal((await http('/admin/nope.js')).status, 404);
  });

  it('refuses a wrong secret with the server message', async () => {
    await page.goto(BASE + '/admin');
    await page.getByLabel('Secret or token').fill('not-the-secret-' + 'x'.repeat(26));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.locator('#signin-error');
    await error.waitFor({ state: 'visible' });
    const expected = (await http('/api/v1/tokens', 'wrong')).body.message;
    assert.equal(await error.textContent(), expected);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-signin.png') });
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    assert.equal(await page.locator('#view-tokens').isVisible(), false);
  });

  it('signs in with AUTH_SECRET', async () => {
    await page.getByLabel('Secret or token').fill(SECRET);
    await page.getByLabel('Secret or token').press('Enter');
    await page.locator('#view-tokens').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#signin-error').textContent(), '');
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), true);
    assert.equal(await page.getByRole('link', { name: 'API tokens' }).getAttribute('aria-current'), 'page');
  });

  it('shows validation errors next to the form', async () => {
    await page.getByRole('button', { name: 'Generate token' }).click();
    await page.locator('#create-name-error').waitFor({ state: 'visible' });
    assert.match(await page.locator('#create-name-error').textContent(), /1 to 100 characters/);
    assert.match(await page.locator('#create-scopes-error').textContent(), /at least one scope/);
    assert.equal(await page.locator('#create-name').getAttribute('aria-invalid'), 'true');
    // The first invalid field gets the focus.
    assert.equal(await page.evaluate(() => document.activeElement.id), 'create-name');
  });

  it('shows the scope hierarchy', async () => {
    const box = (name) => page.locator(`#scope-tree input[type=checkbox][value="${name}"]`);
    await box('admin:write').check();
    for (const inc of ['admin:read', 'admin:scim']) {
      assert.equal(await box(inc).isChecked(), true, inc);
      assert.equal(await box(inc).isDisabled(), true, inc);
      assert.equal(await page.locator(`#scope-${inc.replace(':', '-')}-included`).isVisible(), true);
    }
    assert.equal(await box('connect:read').isDisabled(), false);
    await page.locator('#create-form').screenshot({ path: join(ARTIFACTS, 'admin-scopes.png') });
    await box('all').check();
    for (const inc of ['admin:write', 'admin:read', 'admin:scim', 'connect:write', 'connect:read']) {
      assert.equal(await box(inc).isDisabled(), true, inc);
    }
    await box('all').uncheck();
    await box('admin:write').uncheck();
    for (const s of ['admin:read', 'admin:scim', 'connect:read', 'connect:write']) {
      assert.equal(await box(s).isChecked(), false, s);
      assert.equal(await box(s).isDisabled(), false, s);
    }
    await box('connect:write').check();
    assert.equal(await box('connect:read').isDisabled(), true);
    await box('connect:write').uncheck();
  });

  it('generates an admin:scim token and shows it once', async () => {
    await page.getByLabel('Name', { exact: true }).fill('okta-test');
    await page.locator('input[value="admin:scim"]').check();
    await page.getByRole('button', { name: 'Generate token' }).click();
    const dialog = page.getByRole('dialog', { name: 'Token created' });
    await dialog.waitFor({ state: 'visible' });
    assert.match(await dialog.textContent(), /cannot be shown again/);
    scimToken = await page.getByLabel('Token value').inputValue();
    assert.match(scimToken, /^scimd_[A-Za-z0-9]{60}$/);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-new-token.png') });
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.locator('#token-copy-status').filter({ hasText: /Copied|Could not copy/ }).waitFor();
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    // The value is dropped from the page once the dialog is closed.
    await page.waitForFunction(() => document.getElementById('token-value').value === '');
    const row = page.locator('#token-rows tr', { has: page.locator('th', { hasText: /^okta-test$/ }) });
    await row.waitFor();
    assert.match(await row.textContent(), /admin:scim/);
    assert.match(await row.locator('.badge').textContent(), /^active$/);
  });

  it('the new token works against the SCIM API', async () => {
    const r = await http('/scim/v2/Users', scimToken);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const created = await http('/scim/v2/Users', scimToken, {
      method: 'POST',
      headers: { 'Content-Type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'bjensen', name: { givenName: 'Barbara', familyName: 'Jensen' },
      }),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // "Last used" follows (the server records it at most once a minute).
    const lastUsed = page.locator('#token-rows tr', { has: page.locator('th', { hasText: /^okta-test$/ }) })
      .locator('td').nth(3);
    const deadline = Date.now() + STEP_MS;
    for (;;) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      if (/just now|minute/.test(await lastUsed.textContent())) break;
      assert.ok(Date.now() < deadline, `last used: ${await lastUsed.textContent()}`);
      await page.waitForTimeout(250);
    }
  });

  it('adds more tokens for the picture', async () => {
    // One expiring within a week, one read-only; made through the page.
    await page.getByLabel('Name', { exact: true }).fill('entra-id-staging');
    await page.locator('input[value="admin:scim"]').check();
    await page.getByLabel(/Expires/).fill(isoDay(3));
    await page.getByRole('button', { name: 'Generate token' }).click();
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByLabel('Name', { exact: true }).fill('reporting');
    await page.locator('input[value="admin:write"]').check();
    await page.getByLabel(/Expires/).fill(isoDay(200));
    await page.getByRole('button', { name: 'Generate token' }).click();
    await page.getByRole('button', { name: 'I have copied it' }).click();
    const soon = page.locator('#token-rows tr', { has: page.locator('th', { hasText: /^entra-id-staging$/ }) });
    await soon.locator('.badge', { hasText: 'expires soon' }).waitFor();
  });

  it('revokes the token after a confirmation', async () => {
    const revoke = page.getByRole('button', { name: 'Revoke token okta-test' });
    // Escape cancels: nothing is revoked.
    await revoke.click();
    const dialog = page.getByRole('dialog', { name: /Revoke token/ });
    await dialog.waitFor({ state: 'visible' });
    assert.match(await dialog.textContent(), /“okta-test”/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'revoke-cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await http('/scim/v2/Users', scimToken)).status, 200);
    // Confirm.
    await revoke.click();
    await dialog.waitFor({ state: 'visible' });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-revoke.png') });
    await dialog.getByRole('button', { name: 'Revoke token' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const row = page.locator('#token-rows tr', { has: page.locator('th', { hasText: /^okta-test$/ }) });
    await row.locator('.badge', { hasText: 'revoked' }).waitFor();
    assert.equal(await row.getByRole('button').count(), 0);
    await page.locator('#status', { hasText: 'revoked' }).waitFor();
  });

  it('the revoked token is refused', async () => {
    const r = await http('/scim/v2/Users', scimToken);
    assert.equal(r.status, 401);
  });

  it('looks right on a laptop', async () => {
    await page.mouse.move(0, 0);
    await page.evaluate(() => document.activeElement?.blur());
    // Hide the status message that fades out on its own after a few seconds.
    await page.evaluate(() => document.getElementById('status').classList.remove('status-shown'));
    await page.waitForTimeout(400);
    await page.screenshot({ path: SCREENSHOT });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the window`);
  });

  it('shows activity, or says it is not available', async () => {
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.locator('#view-activity').waitFor({ state: 'visible' });
    const audit = await http('/api/v1/audit?limit=50', SECRET);
    if (audit.status === 404) {
      await page.getByText('Activity is not available').waitFor();
    } else {
      assert.equal(audit.status, 200, JSON.stringify(audit.body));
      await page.locator('#activity-rows tr').first().waitFor();
      await page.locator('#activity-rows code', { hasText: 'token.revoke' }).first().waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'admin-activity.png') });
      // What the okta-test token did: the user it created, and nothing else.
      await page.getByLabel('Token', { exact: true }).selectOption({ label: 'okta-test (revoked)' });
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.locator('#activity-rows tr', { hasText: 'user.create' }).waitFor();
      await page.waitForFunction(() => document.querySelectorAll('#activity-rows tr').length === 1);
      // By resource type.
      await page.getByRole('button', { name: 'Clear' }).click();
      await page.getByLabel('Resource type').selectOption('Token');
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('#activity-rows tr')];
        return rows.length === 4 && rows.every((r) => r.textContent.includes('token.'));
      });
    }
  });

  it('shows the directory overview, or says it is not available', async () => {
    await page.getByRole('link', { name: 'Directory' }).click();
    await page.locator('#view-overview').waitFor({ state: 'visible' });
    const overview = await http('/api/v1/overview', SECRET);
    if (overview.status === 404) {
      await page.getByText('overview is not available').waitFor();
    } else {
      assert.equal(overview.status, 200, JSON.stringify(overview.body));
      assert.equal(overview.body.users, 1);
      await page.locator('#stat-users', { hasText: '1' }).waitFor();
      await page.locator('#overview-rows tr', { hasText: 'okta-test' }).filter({ hasText: 'user.create' }).waitFor();
    }
    await page.screenshot({ path: join(ARTIFACTS, 'admin-overview.png') });
  });

  it('declares a schema from pasted JSON, refuses a bad one precisely, and removes it', async () => {
    const urn = 'urn:ietf:params:scim:schemas:extension:BrowserTest:2.0:User';
    await page.getByRole('link', { name: 'Schemas' }).click();
    await page.locator('#view-schemas').waitFor({ state: 'visible' });
    await page.getByText('No schemas declared.').waitFor();
    // Not JSON: caught in the page, nothing sent.
    await page.locator('#schema-json').fill('{"id": ');
    await page.locator('#schema-submit').click();
    await page.locator('#schema-error').filter({ hasText: /JSON/ }).waitFor();
    // A bad definition: the server names the field.
    await page.locator('#schema-json').fill(JSON.stringify({ id: urn, attributes: [{ name: 'badge', type: 'strng' }] }));
    await page.locator('#schema-submit').click();
    await page.locator('#schema-error').filter({ hasText: 'schema.attributes[badge].type' }).waitFor();
    assert.deepEqual((await http('/api/v1/schemas', SECRET)).body, []);
    // A bare schema, wrapped with the form's "extends".
    await page.locator('#schema-json').fill(JSON.stringify({
      id: urn,
      attributes: [
        { name: 'badgeNumber', type: 'integer', uniqueness: 'server' },
        { name: 'desk', type: 'complex', subAttributes: [{ name: 'building', type: 'string' }] },
      ],
    }));
    await page.locator('#schema-submit').click();
    const card = page.locator('.schema-card', { hasText: urn });
    await card.waitFor();
    await card.locator('tr', { hasText: 'badgeNumber' }).filter({ hasText: 'server' }).waitFor();
    await card.locator('tr', { hasText: 'building' }).waitFor();
    const served = await http('/scim/v2/Schemas/' + urn, SECRET);
    assert.equal(served.status, 200, JSON.stringify(served.body));
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: `Remove schema ${urn}` }).click();
    await card.waitFor({ state: 'detached' });
    await page.getByText('No schemas declared.').waitFor();
    assert.equal((await http('/scim/v2/Schemas/' + urn, SECRET)).status, 404);
    // A resource type's body goes to its own endpoint, and is listed too.
    await page.locator('#schema-json').fill(JSON.stringify({
      resourceType: { name: 'Gadget', endpoint: '/Gadgets', schema: 'urn:example:gadget:1.0' },
      schema: { id: 'urn:example:gadget:1.0', attributes: [{ name: 'serial', type: 'string' }] },
    }));
    await page.locator('#schema-submit').click();
    const typeCard = page.locator('.schema-card', { hasText: 'resource type Gadget at /Gadgets' });
    await typeCard.waitFor();
    assert.equal((await http('/scim/v2/ResourceTypes/Gadget', SECRET)).status, 200);
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Remove resource type Gadget' }).click();
    await typeCard.waitFor({ state: 'detached' });
    assert.equal((await http('/scim/v2/ResourceTypes/Gadget', SECRET)).status, 404);
  });

  // ------------------------------------------------------------ connectors

  let connector; // the connector made through the page: {id, name, token}
  const scimJson = { 'Content-Type': 'application/scim+json' };
  const inConnectors = () => page.locator('#view-connectors');
  const connectorRow = (name) => page.locator('#connector-rows tr', { has: page.locator('th', { hasText: name }) });

  it('adds a connector, with the server’s field errors next to the fields', async () => {
    await page.getByRole('link', { name: 'Connectors' }).click();
    await inConnectors().waitFor({ state: 'visible' });
    assert.equal(await page.getByRole('link', { name: 'Connectors' }).getAttribute('aria-current'), 'page');
    await page.getByText('No connectors yet.').waitFor();
    const form = page.locator('#connector-form');
    // Half a rate limit: caught in the page.
    await form.getByLabel('Burst').fill('10');
    await form.getByRole('button', { name: 'Add connector' }).click();
    await page.locator('#connector-rate-error').filter({ hasText: 'leave both empty' }).waitFor();
    // No name and a zero rate: the server says what is wrong with each.
    await form.getByLabel('Requests per second').fill('0');
    await form.getByRole('button', { name: 'Add connector' }).click();
    await page.locator('#connector-name-error').filter({ hasText: '1 to 100 characters' }).waitFor();
    assert.match(await page.locator('#connector-rate-error').textContent(), /above 0/);
    assert.equal(await page.locator('#connector-name').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#connector-rate').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'connector-name');
    assert.deepEqual((await http('/api/v1/connectors', SECRET)).body, []);

    await form.getByLabel('Connector name').fill('okta-prod');
    await form.getByLabel('Kind').selectOption('okta');
    await form.getByLabel('Requests per second').fill('50');
    await form.getByLabel('Burst').fill('100');
    await form.getByRole('button', { name: 'Add connector' }).click();
    const dialog = page.getByRole('dialog', { name: 'Connector created' });
    await dialog.waitFor({ state: 'visible' });
    assert.match(await dialog.textContent(), /only time the token\s+“okta-prod” is shown; it cannot be shown again/);
    assert.equal(await dialog.getByLabel('SCIM base URL').inputValue(), BASE + '/scim/v2');
    const token = await dialog.getByLabel('Token value').inputValue();
    assert.match(token, /^scimd_[A-Za-z0-9]{60}$/);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-connector-created.png') });
    await dialog.getByRole('button', { name: 'Copy', exact: true }).click();
    await page.locator('#token-copy-status').filter({ hasText: /Copied the token|Could not copy/ }).waitFor();
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForFunction(() => document.getElementById('token-value').value === ''
      && document.getElementById('token-scim-url').value === '');
    // Shown once: nothing in the page or the API gives the value again.
    assert.equal(await page.evaluate((t) => document.body.textContent.includes(t)
      || [...document.querySelectorAll('input, textarea')].some((i) => i.value.includes(t)), token), false);
    const listed = (await http('/api/v1/connectors', SECRET)).body;
    assert.equal(listed.length, 1);
    assert.equal(listed[0].token, undefined);
    assert.equal(listed[0].profile, 'okta');
    connector = { id: listed[0].id, name: 'okta-prod', token };

    const row = connectorRow('okta-prod');
    await row.waitFor();
    assert.match(await row.textContent(), /Okta/);
    assert.match(await row.locator('td').nth(0).textContent(), /^okta$/);
    assert.match(await row.locator('td').nth(1).textContent(), /shared.*organization/);
    assert.match(await row.locator('td').nth(2).textContent(), /50\/s, burst 100/);
  });

  it('the connector’s token works against the SCIM API, and its requests are logged', async () => {
    const ok = await http('/scim/v2/Users', connector.token);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const bad = await http('/scim/v2/Users', connector.token, { method: 'POST', headers: scimJson, body: '{}' });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));

    const log = await http(`/api/v1/connectors/${connector.id}/requests`, SECRET);
    await page.getByRole('button', { name: 'Requests of connector okta-prod' }).click();
    const panel = page.locator('#connector-requests');
    await panel.waitFor({ state: 'visible' });
    if (log.status === 404) {
      // An older server: the panel says so instead of failing.
      await panel.getByText('request log is not available').waitFor();
      assert.equal(await page.locator('#requests-body').isVisible(), false);
    } else {
      assert.equal(log.status, 200, JSON.stringify(log.body));
      // The log may be written just after the response: look again until both are there.
      const rows = page.locator('#requests-rows tr');
      const deadline = Date.now() + STEP_MS;
      while (await rows.count() < 2) {
        assert.ok(Date.now() < deadline, `requests listed: ${await rows.count()}`);
        await page.waitForTimeout(250);
        await panel.getByRole('button', { name: 'Apply' }).click();
      }
      // Newest first: the refused POST, then the GET.
      assert.match(await rows.nth(0).textContent(), /POST\s+\/scim\/v2\/Users.*400/);
      assert.match(await rows.nth(1).textContent(), /GET\s+\/scim\/v2\/Users.*200/);
      await rows.nth(0).locator('td').nth(3).click(); // anywhere on the row
      const detail = page.locator('#request-detail');
      await detail.waitFor({ state: 'visible' });
      assert.match(await detail.locator('h3').textContent(), /POST \/scim\/v2\/Users → 400/);
      // Both bodies, side by side, pretty-printed JSON.
      const reqBody = page.locator('#request-body');
      const respBody = page.locator('#response-body');
      assert.equal(await reqBody.getAttribute('data-format'), 'json');
      assert.deepEqual(JSON.parse(await reqBody.textContent()), {});
      assert.equal(await respBody.getAttribute('data-format'), 'json');
      const error = await respBody.textContent();
      JSON.parse(error);
      assert.match(error, /"status": "?400/); // the SCIM error, indented
      assert.match(error, /\n  "/);
      const [a, b] = [await reqBody.boundingBox(), await respBody.boundingBox()];
      assert.ok(Math.abs(a.y - b.y) < 2 && b.x > a.x + a.width, 'bodies side by side');
      await page.screenshot({ path: join(ARTIFACTS, 'admin-requests.png'), fullPage: true });
      // Filters: by status class, and by method.
      await panel.getByLabel('Status').selectOption('4xx');
      await panel.getByRole('button', { name: 'Apply' }).click();
      await page.waitForFunction(() => {
        const r = [...document.querySelectorAll('#requests-rows tr')];
        return r.length === 1 && r[0].textContent.includes('400');
      });
      await panel.getByRole('button', { name: 'Clear' }).click();
      await panel.getByLabel('Method').selectOption('GET');
      await panel.getByRole('button', { name: 'Apply' }).click();
      await page.waitForFunction(() => {
        const r = [...document.querySelectorAll('#requests-rows tr')];
        return r.length === 1 && r[0].textContent.includes('GET');
      });
      await panel.getByRole('button', { name: 'Clear' }).click();
      await page.waitForFunction(() => document.querySelectorAll('#requests-rows tr').length >= 2);
    }
    // The list reports activity where the server does.
    const listed = (await http('/api/v1/connectors', SECRET)).body[0];
    await page.getByRole('button', { name: 'Refresh' }).click();
    const row = connectorRow('okta-prod');
    const lastRequestCell = row.locator('td.col-activity').first();
    if (listed.activity) {
      await lastRequestCell.waitFor({ state: 'visible' });
      const a = listed.activity;
      // The refreshed list may land a moment after the click: poll for it.
      const want = a.requests_last_hour ? new RegExp(`${a.errors_last_hour} of ${a.requests_last_hour}`) : /no requests/;
      const cell = row.locator('td.col-activity').nth(1);
      for (let i = 0; i < 50 && !want.test(await cell.textContent()); i++) await page.waitForTimeout(100);
      assert.match(await cell.textContent(), want);
      if (a.last_error) assert.match(await row.locator('td.col-activity').nth(2).textContent(), new RegExp(String(a.last_error.status)));
    } else {
      assert.equal(await lastRequestCell.isVisible(), false);
    }
    await panel.getByRole('button', { name: 'Close' }).click();
    await panel.waitFor({ state: 'hidden' });
  });

  it('changes the connector’s profile and rate limit, mints, rotates and revokes tokens', async () => {
    await page.getByRole('button', { name: 'Manage connector okta-prod' }).click();
    const detail = page.locator('#connector-detail');
    await detail.waitFor({ state: 'visible' });
    assert.match(await detail.locator('#connector-detail-meta').textContent(), new RegExp(`${BASE}/scim/v2`));
    const edit = page.locator('#connector-edit');
    assert.equal(await edit.getByLabel('Profile').inputValue(), 'okta');
    assert.equal(await edit.getByLabel('Requests per second').inputValue(), '50');
    // A burst the server refuses, next to its field.
    await edit.getByLabel('Burst').fill('2000000');
    await edit.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('#edit-burst-error').filter({ hasText: 'integer from 1 to' }).waitFor();
    assert.equal(await page.locator('#edit-burst').getAttribute('aria-invalid'), 'true');
    // Strict, owned, and no limit.
    await edit.getByLabel('Profile').selectOption('strict');
    await edit.getByLabel('Ownership').selectOption('owned');
    await edit.getByLabel('Requests per second').fill('');
    await edit.getByLabel('Burst').fill('');
    await edit.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('#status', { hasText: 'saved' }).waitFor();
    assert.equal(await page.locator('#edit-burst-error').textContent(), '');
    const saved = (await http(`/api/v1/connectors/${connector.id}`, SECRET)).body;
    assert.equal(saved.profile, 'strict');
    assert.equal(saved.ownership, 'owned');
    assert.equal(saved.rate_limit, null);
    const row = connectorRow('okta-prod');
    await row.locator('td').nth(0).filter({ hasText: /^strict$/ }).waitFor();
    assert.match(await row.locator('td').nth(2).textContent(), /none/);
    // Back to the organization's ownership, so the soft-delete test below
    // uses the organization's policy.
    await edit.getByLabel('Ownership').selectOption('');
    await edit.getByRole('button', { name: 'Save settings' }).click();
    await row.locator('td').nth(1).filter({ hasText: 'organization' }).waitFor();
    assert.equal((await http(`/api/v1/connectors/${connector.id}`, SECRET)).body.ownership, null);

    // Its first token is listed; mint another.
    const tokenRows = page.locator('#connector-token-rows tr');
    await tokenRows.first().waitFor();
    assert.equal(await tokenRows.count(), 1);
    await detail.getByLabel(/Token name/).fill('okta-prod-second');
    await detail.getByRole('button', { name: 'Mint token' }).click();
    const dialog = page.getByRole('dialog', { name: 'Token created' });
    await dialog.waitFor({ state: 'visible' });
    assert.match(await dialog.textContent(), /“okta-prod-second” is shown; it cannot be shown again/);
    assert.equal(await page.locator('#token-dialog-url').isVisible(), false);
    const second = await dialog.getByLabel('Token value').inputValue();
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForFunction(() => document.querySelectorAll('#connector-token-rows tr').length === 2);
    assert.equal((await http('/scim/v2/Users', second)).status, 200);
    const listedTokens = (await http(`/api/v1/connectors/${connector.id}/tokens`, SECRET)).body;
    assert.deepEqual(listedTokens.map((t) => t.name).sort(), ['okta-prod', 'okta-prod-second']);
    assert.ok(listedTokens.every((t) => t.connector_id === connector.id));

    // Revoke the second one, after the confirmation.
    await detail.getByRole('button', { name: /^Revoke token okta-prod-second/ }).click();
    const revoke = page.getByRole('dialog', { name: /Revoke token/ });
    await revoke.waitFor({ state: 'visible' });
    assert.match(await revoke.textContent(), /“okta-prod-second”/);
    await revoke.getByRole('button', { name: 'Revoke token' }).click();
    await revoke.waitFor({ state: 'hidden' });
    const secondRow = tokenRows.filter({ has: page.locator('th', { hasText: 'okta-prod-second' }) });
    await secondRow.locator('.badge', { hasText: 'revoked' }).waitFor();
    assert.equal(await secondRow.getByRole('button').count(), 0);
    assert.equal((await http('/scim/v2/Users', second)).status, 401);

    // Rotate the first one: a new value, shown once; the old one stops now.
    await detail.getByRole('button', { name: /^Rotate token okta-prod \(/ }).click();
    const rotate = page.getByRole('dialog', { name: /Rotate token/ });
    await rotate.waitFor({ state: 'visible' });
    await rotate.getByLabel('The old value keeps working for').selectOption('0');
    await rotate.getByRole('button', { name: 'Rotate token' }).click();
    const rotated = page.getByRole('dialog', { name: 'Token rotated' });
    await rotated.waitFor({ state: 'visible' });
    const fresh = await rotated.getByLabel('Token value').inputValue();
    assert.notEqual(fresh, connector.token);
    await rotated.getByRole('button', { name: 'I have copied it' }).click();
    await rotated.waitFor({ state: 'hidden' });
    assert.equal((await http('/scim/v2/Users', connector.token)).status, 401);
    assert.equal((await http('/scim/v2/Users', fresh)).status, 200);
    connector.token = fresh;
    await page.screenshot({ path: join(ARTIFACTS, 'admin-connector.png'), fullPage: true });
  });

  it('sets soft delete for the organization, and restores a deleted user', async () => {
    await page.getByRole('link', { name: 'Organization' }).click();
    const view = page.locator('#view-org');
    await view.waitFor({ state: 'visible' });
    const form = page.locator('#org-form');
    assert.equal(await form.getByLabel('Delete mode').inputValue(), 'hard');
    await page.getByText('Nothing deleted.').waitFor();
    // A retention the server refuses, next to its field.
    await form.getByLabel('Delete mode').selectOption('soft');
    await form.getByLabel('Retention days').fill('0');
    await form.getByRole('button', { name: 'Save policies' }).click();
    await page.locator('#org-retention-error').filter({ hasText: '1 to 3650' }).waitFor();
    assert.equal((await http('/api/v1/org', SECRET)).body.delete, 'hard');
    await form.getByLabel('Retention days').fill('14');
    await form.getByRole('button', { name: 'Save policies' }).click();
    await page.locator('#status', { hasText: 'Policies saved.' }).waitFor();
    assert.equal(await page.locator('#org-retention-error').textContent(), '');
    const o = (await http('/api/v1/org', SECRET)).body;
    assert.equal(o.delete, 'soft');
    assert.equal(o.retention_days, 14);

    // The connector creates a user and deletes it.
    const created = await http('/scim/v2/Users', connector.token, {
      method: 'POST',
      headers: scimJson,
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: 'cjensen', externalId: '00u-cjensen', name: { givenName: 'Carla', familyName: 'Jensen' },
      }),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const userId = created.body.id;
    const gone = await http('/scim/v2/Users/' + userId, connector.token, { method: 'DELETE' });
    assert.equal(gone.status, 204, JSON.stringify(gone.body));
    assert.equal((await http('/scim/v2/Users/' + userId, connector.token)).status, 404);

    await page.locator('#deleted-card').getByRole('button', { name: 'Refresh' }).click();
    const row = page.locator('#deleted-rows tr', { hasText: 'cjensen' });
    await row.waitFor();
    assert.match(await row.textContent(), new RegExp(userId));
    assert.match(await row.textContent(), /00u-cjensen.*from okta-prod/);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-org.png'), fullPage: true });
    await page.getByRole('button', { name: 'Restore User cjensen' }).click();
    await row.waitFor({ state: 'detached' });
    await page.getByText('Nothing deleted.').waitFor();
    const back = await http('/scim/v2/Users/' + userId, connector.token);
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal(back.body.userName, 'cjensen');
    connector.userId = userId;
  });

  it('purges a deleted user after a confirmation', async () => {
    const u = await http('/scim/v2/Users', SECRET, {
      method: 'POST',
      headers: scimJson,
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'djensen' }),
    });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    assert.equal((await http('/scim/v2/Users/' + u.body.id, SECRET, { method: 'DELETE' })).status, 204);
    await page.locator('#deleted-card').getByRole('button', { name: 'Refresh' }).click();
    const row = page.locator('#deleted-rows tr', { hasText: 'djensen' });
    await row.waitFor();
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Purge User djensen' }).click();
    await row.waitFor({ state: 'detached' });
    assert.equal((await http('/api/v1/deleted/' + u.body.id + '/restore', SECRET, { method: 'POST' })).status, 404);
  });

  it('deletes a connector only once what it owns is moved', async () => {
    await page.getByRole('link', { name: 'Connectors' }).click();
    await inConnectors().waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Manage connector okta-prod' }).click();
    const detail = page.locator('#connector-detail');
    await detail.waitFor({ state: 'visible' });
    // It owns the user it created: the server's 409 message is shown.
    page.once('dialog', (d) => d.accept());
    await detail.getByRole('button', { name: 'Delete connector' }).click();
    const error = page.locator('#connector-delete-error');
    await error.filter({ hasText: 'still owns' }).waitFor();
    const refused = await http(`/api/v1/connectors/${connector.id}`, SECRET, { method: 'DELETE' });
    assert.equal(refused.status, 409);
    assert.ok((await error.textContent()).includes(refused.body.message), await error.textContent());
    // Move it to no connector, then delete.
    await detail.getByLabel('Move what it owns to').selectOption('');
    await detail.getByRole('button', { name: 'Move resources' }).click();
    await page.locator('#transfer-result').filter({ hasText: '1 resource moved to no connector.' }).waitFor();
    page.once('dialog', (d) => d.accept());
    await detail.getByRole('button', { name: 'Delete connector' }).click();
    await detail.waitFor({ state: 'hidden' });
    await connectorRow('okta-prod').waitFor({ state: 'detached' });
    await page.getByText('No connectors yet.').waitFor();
    assert.equal((await http('/scim/v2/Users', connector.token)).status, 401);
    assert.equal((await http('/scim/v2/Users/' + connector.userId, SECRET)).status, 200);
  });

  /** Fails when anything but a table (which scrolls in its own box) or the nav is wider than the window. */
  async function assertFitsPhone(what) {
    const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap, .nav'))
      .slice(0, 5).map((e) => `${e.tagName}#${e.id}.${e.className} right=${Math.round(e.getBoundingClientRect().right)}`));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${what}: page is ${overflow}px wider than a phone: ${wide.join(', ')}`);
  }

  it('subscribes a webhook, parks what it cannot deliver, replays, pauses and deletes it', async () => {
    await page.getByRole('link', { name: 'Change events' }).click();
    const view = page.locator('#view-events');
    await view.waitFor({ state: 'visible' });
    await page.getByText('No subscriptions yet.').waitFor();
    const form = page.locator('#sub-form');
    // The server's refusal, next to the field: a private address not allowed.
    await form.getByLabel('Webhook URL').fill('https://10.0.0.1/hook');
    await form.getByRole('button', { name: 'Add subscription' }).click();
    await page.locator('#sub-url-error').filter({ hasText: /not public|private|allowed/ }).waitFor();
    // Port 9 on loopback (allowed by run.sh) refuses every connection.
    await form.getByLabel('Webhook URL').fill('http://127.0.0.1:9/hook');
    await form.getByLabel(/^Name/).fill('app-hooks');
    await form.getByLabel('deactivate').check();
    await form.getByLabel('create').check();
    await form.getByRole('button', { name: 'Add subscription' }).click();
    const dialog = page.getByRole('dialog', { name: 'Subscription created' });
    await dialog.waitFor({ state: 'visible' });
    assert.match(await dialog.textContent(), /signing secret of/);
    assert.match(await page.locator('#token-value').inputValue(), /^whsec_/);
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const listed = (await http('/api/v1/subscriptions', SECRET)).body;
    assert.deepEqual(listed.map((x) => [x.name, x.events]), [['app-hooks', ['create', 'deactivate']]]);

    // A change it cannot deliver: with no retry window (run.sh), it is parked at once.
    const u = await http('/scim/v2/Users', SECRET, {
      method: 'POST',
      headers: scimJson,
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ejensen' }),
    });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    const letters = page.getByRole('button', { name: 'Dead letters of “app-hooks”' });
    for (let i = 0; i < 50 && !(await letters.isVisible()); i++) {
      await page.waitForTimeout(200);
      await page.locator('#subs-refresh').click();
    }
    await letters.click();
    const card = page.locator('#letters-card');
    await card.waitFor({ state: 'visible' });
    const letter = page.locator('#letter-rows tr').first();
    await letter.waitFor();
    assert.match(await letter.textContent(), /#\d+/);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-events.png'), fullPage: true });
    await letter.getByRole('button', { name: /Replay from event/ }).click();
    await page.locator('#status', { hasText: 'Replaying from event' }).waitFor();
    await card.waitFor({ state: 'hidden' });

    // Pause and resume.
    await page.getByRole('button', { name: 'Pause “app-hooks”' }).click();
    await page.locator('#sub-rows tr', { hasText: 'app-hooks' }).locator('.badge', { hasText: 'paused' }).waitFor();
    assert.equal((await http('/api/v1/subscriptions', SECRET)).body[0].paused, true);
    await page.getByRole('button', { name: 'Resume “app-hooks”' }).click();
    await page.getByRole('button', { name: 'Pause “app-hooks”' }).waitFor();

    // Delete, after a confirmation.
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Delete “app-hooks”' }).click();
    await page.getByText('No subscriptions yet.').waitFor();
    assert.deepEqual((await http('/api/v1/subscriptions', SECRET)).body, []);
  });

  it('is usable at phone width', async () => {
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#view-tokens').waitFor({ state: 'visible' });
    await page.waitForTimeout(300);
    await page.screenshot({ path: PHONE_SCREENSHOT, fullPage: true });
    await assertFitsPhone('tokens');
    // The table scrolls inside its own box instead.
    const wrap = page.locator('#token-table').locator('xpath=..');
    assert.equal(await wrap.evaluate((w) => getComputedStyle(w).overflowX), 'auto');

    // Connectors, with one open and its request log.
    const made = await http('/api/v1/connectors', SECRET, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'entra-staging', kind: 'entra', rate_limit: { per_second: 5, burst: 20 } }),
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await page.getByRole('link', { name: 'Connectors' }).click();
    await inConnectors().waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Manage connector entra-staging' }).click();
    await page.locator('#connector-token-rows tr').first().waitFor();
    await page.getByRole('button', { name: 'Requests of connector entra-staging' }).click();
    await page.locator('#connector-requests').waitFor({ state: 'visible' });
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-connectors-phone.png'), fullPage: true });
    await assertFitsPhone('connectors');

    await page.getByRole('link', { name: 'Organization' }).click();
    await page.locator('#view-org').waitFor({ state: 'visible' });
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(ARTIFACTS, 'admin-org-phone.png'), fullPage: true });
    await assertFitsPhone('organization');

    await page.getByRole('link', { name: 'Change events' }).click();
    await page.locator('#view-events').waitFor({ state: 'visible' });
    await page.waitForTimeout(300);
    await assertFitsPhone('change events');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('signs out and forgets the credential', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#view-signin').waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await page.reload();
    await page.locator('#view-signin').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#view-tokens').isVisible(), false);
  });

  it('logged no errors and broke no policy', () => {
    assert.deepEqual(problems, []);
  });
});
