import { readFileSync } from 'node:fs';
import type { CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../console/src/i18n/en.ts';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import { consolePage, launchBrowser, logIn, type TestBrowser } from '../helpers/browser.ts';
import { deadPort } from '../helpers/commands.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createUser, insertAlarm, type TestUser } from '../helpers/gateway.ts';

const labels = { user: en['login.username'], password: en['login.password'], submit: en['login.submit'] };

/**
 * Signing in at a shared desk, in Chromium with an English browser: a passkey on Chromium's virtual
 * platform authenticator (WebAuthn over CDP: resident keys, user verification), the quick-unlock PIN of a
 * locked screen (by hand and after the idle time), and the admin and report screens — against the real gateway.
 */
describe('console sign-in, lock, admin and reports in Chromium', () => {
  let env: TestEnv;
  let b: TestBrowser;
  let base: string;
  let objectId: number;
  let panelId: number;
  const gateways: RoleProcess[] = [];
  const u: Record<'op' | 'admin', TestUser> = {} as never;

  const gateway = async (extra: Record<string, string> = {}) => {
    const port = await deadPort();
    const g = startRole('gateway', { ...env.vars, GATEWAY_PORT: String(port), ...extra });
    gateways.push(g);
    await g.waitForLog(msgIs('gateway listening (console at /, API docs at /docs)'));
    return `http://localhost:${port}`;
  };
  const live = (p: Page) => p.getByRole('status', { name: `status: ${en['status.live']}` }).waitFor({ timeout: 30_000 });
  const audit = async (action: string) => (await env.pool.query<{ username: string; details: Record<string, unknown> }>('SELECT username, details FROM audit_log WHERE action = $1 ORDER BY id', [action])).rows;

  beforeAll(async () => {
    env = await createTestEnv({ FEATURE_REALTIME_ENABLED: 'true', FEATURE_PUSH_ENABLED: 'false', FEATURE_ARM_DISARM_ENABLED: 'false', CONSOLE_IDLE_LOCK_S: '0' });
    u.op = await createUser(env.pool, 'op.desk', 'OPERATOR');
    u.admin = await createUser(env.pool, 'admin.desk', 'ADMIN');
    objectId = (await env.pool.query<{ id: number }>("INSERT INTO objects (code, name) VALUES ('DESK-1', 'Apteka') RETURNING id")).rows[0]!.id;
    await insertAlarm(env.pool, objectId, { severity: 'CRITICAL', firstEventAt: new Date(Date.now() - 3_600_000) });
    panelId = (await env.pool.query<{ id: number }>("INSERT INTO panels (object_id, name, host, port) VALUES ($1, 'Apteka panel', '127.0.0.1', 1) RETURNING id", [objectId])).rows[0]!.id;
    base = await gateway();
    b = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await Promise.all(gateways.map((g) => g.stop()));
    await env?.cleanup();
  });

  it('a passkey registered on this device logs in without a password (Chromium\'s virtual platform authenticator)', async () => {
    const { page, context } = await consolePage(b, base, 'en-US');
    const cdp: CDPSession = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    expect(await page.getByRole('heading', { name: en['login.title'] }).isVisible()).toBe(true); // English for an English browser
    await logIn(page, u.op, labels);
    await live(page);
    await page.getByRole('link', { name: en['nav.security'] }).click();
    await page.getByRole('button', { name: en['security.addPasskey'] }).click();
    await page.getByRole('status').getByText(en['security.passkeyAdded']).waitFor();
    await page.getByRole('list', { name: en['security.passkeys'] }).getByRole('listitem').waitFor();
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.isResidentCredential).toBe(true);
    expect((await env.pool.query('SELECT credential_id FROM webauthn_credentials')).rows).toEqual([{ credential_id: credentials[0]!.credentialId.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') }]);

    await page.getByRole('button', { name: en['nav.logout'] }).click();
    await page.getByRole('button', { name: en['login.passkey'] }).click();
    await live(page);
    expect(await page.locator('.who').textContent()).toBe('op.desk (OPERATOR)');
    const logins = await audit('auth.login');
    expect(logins[logins.length - 1]).toMatchObject({ username: 'op.desk', details: { method: 'passkey' } });
    expect((await env.pool.query<{ last_used_at: Date | null }>('SELECT last_used_at FROM webauthn_credentials')).rows[0]!.last_used_at).not.toBeNull();
    await context.close();
  });

  it('a locked screen opens with the PIN (a wrong one is counted), and the console locks by itself after the idle time', async () => {
    const idleBase = await gateway({ CONSOLE_IDLE_LOCK_S: '2' });
    const { page, context } = await consolePage(b, idleBase, 'en-US');
    await logIn(page, u.op, labels);
    await live(page);
    await page.getByRole('link', { name: en['nav.security'] }).click();
    const pinForm = page.locator('form.inline-form');
    await pinForm.getByLabel(en['lock.pin']).fill('2468');
    await pinForm.getByLabel(en['security.currentPassword']).fill(u.op.password);
    await pinForm.getByRole('button', { name: en['security.setPin'] }).click();
    await page.getByRole('status').getByText(en['security.pinSet']).waitFor();
    // No input for the idle time: the screen locks; the queue stays live underneath.
    const lock = page.getByRole('dialog', { name: en['lock.title'] });
    await lock.waitFor({ timeout: 10_000 });
    await lock.getByLabel(en['lock.pin']).fill('1111');
    await lock.getByRole('button', { name: en['lock.unlock'] }).click();
    await lock.getByRole('alert').getByText('wrong PIN (4 tries left)').waitFor();
    await lock.getByLabel(en['lock.pin']).fill('2468');
    await lock.getByRole('button', { name: en['lock.unlock'] }).click();
    await lock.waitFor({ state: 'detached' });
    expect((await audit('auth.unlock')).length).toBe(1);
    expect((await audit('auth.unlock_failed')).map((a) => a.details.reason)).toEqual(['wrong']);
    await context.close();
  });

  it('admin screens: an account is created and assigned an object; an object gets its contacts', async () => {
    const { page, context } = await consolePage(b, base, 'en-US');
    await logIn(page, u.admin, labels);
    await live(page);
    await page.getByRole('link', { name: en['nav.admin'] }).click();
    await page.getByRole('link', { name: en['admin.users'] }).click();
    await page.getByRole('button', { name: en['admin.add'] }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('username').fill('fw.kasia');
    await dialog.getByLabel('role').selectOption('FIELD_WORKER');
    await dialog.getByLabel('password').fill('a-long-password-2');
    await dialog.getByRole('button', { name: en['admin.save'] }).click();
    const table = page.getByRole('table', { name: en['admin.users'] });
    await table.getByRole('cell', { name: 'fw.kasia', exact: true }).first().waitFor();
    const id = (await env.pool.query<{ id: number }>("SELECT id FROM users WHERE username = 'fw.kasia'")).rows[0]!.id;
    await table.getByRole('button', { name: `${en['admin.edit']} users ${id}` }).click();
    await dialog.getByLabel(en['admin.assign']).fill(String(objectId));
    await dialog.getByRole('button', { name: en['admin.save'] }).click();
    await table.getByRole('row').filter({ hasText: 'fw.kasia' }).getByRole('cell', { name: String(objectId), exact: true }).waitFor();
    expect((await env.pool.query('SELECT object_id::int FROM user_objects WHERE user_id = $1', [id])).rows).toEqual([{ object_id: objectId }]);

    await page.getByRole('link', { name: en['admin.objects'] }).click();
    await page.getByRole('button', { name: `${en['admin.edit']} objects ${objectId}` }).click();
    await dialog.getByLabel('contacts').fill('Maria Wiśniewska, +48 601 000 111');
    await dialog.getByRole('button', { name: en['admin.save'] }).click();
    await dialog.waitFor({ state: 'detached' }); // closed once saved
    await page.getByRole('table', { name: en['admin.objects'] }).getByRole('cell', { name: 'DESK-1', exact: true }).waitFor();
    expect((await env.pool.query('SELECT contacts FROM objects WHERE id = $1', [objectId])).rows).toEqual([{ contacts: 'Maria Wiśniewska, +48 601 000 111' }]);
    expect((await audit('user.assign')).map((a) => a.username)).toEqual(['admin.desk']);
    await context.close();
  });

  it('a flood alarm is one row that says what it absorbed; filters narrow the queue (mine, object, category, test)', async () => {
    const other = (await env.pool.query<{ id: number }>("INSERT INTO objects (code, name) VALUES ('DESK-2', 'Piekarnia') RETURNING id")).rows[0]!.id;
    const flood = await insertAlarm(env.pool, other, { severity: 'CRITICAL' });
    await env.pool.query("UPDATE alarms SET flood = true, event_count = 14, category = 'flood', title = 'Alarm flood' WHERE id = $1", [flood]);
    const testAlarm = await insertAlarm(env.pool, other, { test: true });
    const { page, context } = await consolePage(b, base, 'en-US');
    await logIn(page, u.op, labels);
    await live(page);
    const rowOf = (id: number) => page.locator(`[role=row][data-alarm="${id}"]`);
    await rowOf(flood).getByText('flood: 14 events absorbed').waitFor();
    const count = () => page.locator('[role=rowgroup].body [role=row]').count();
    const all = await count();
    expect(all).toBeGreaterThanOrEqual(2);
    await page.getByLabel(en['queue.object']).selectOption({ label: 'Piekarnia' });
    expect(await count()).toBe(1);
    await page.getByLabel(en['queue.category']).selectOption('flood');
    expect(await count()).toBe(1);
    await page.getByLabel(en['queue.mine']).check();
    expect(await count()).toBe(0);
    await page.getByLabel(en['queue.mine']).uncheck();
    await page.getByLabel(en['queue.category']).selectOption('');
    expect(await rowOf(testAlarm).count()).toBe(0); // test alarms hidden by default
    await page.getByLabel(en['queue.showTest']).check(); // asks the stream for them too
    await rowOf(testAlarm).waitFor();
    await context.close();
  });

  it('a panel command refused by the API is shown with the reason (arm/disarm switched off here), and audited', async () => {
    const id = await insertAlarm(env.pool, objectId, { severity: 'CRITICAL', panelId });
    const { page, context } = await consolePage(b, base, 'en-US');
    await logIn(page, u.admin, labels);
    await live(page);
    await page.locator(`[role=row][data-alarm="${id}"]`).getByRole('button', { name: `${en['action.details']} #${id}` }).click();
    await page.getByRole('button', { name: en['action.panel'] }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(en['cmd.action']).selectOption('arm');
    await dialog.getByRole('button', { name: en['cmd.send'] }).click();
    const shown = page.getByRole('status').getByText(/^Arm refused: /);
    await shown.waitFor();
    expect(await shown.textContent()).toContain('FEATURE_ARM_DISARM_ENABLED');
    const { rows } = await env.pool.query("SELECT details->>'why' AS why FROM audit_log WHERE action = 'command.refused'");
    expect(rows).toEqual([{ why: 'disabled' }]);
    await context.close();
  });

  it('reports: pick one and a range, see the table and the chart, download CSV and PDF', async () => {
    const { page, context } = await consolePage(b, base, 'en-US');
    await logIn(page, u.admin, labels);
    await live(page);
    await page.getByRole('link', { name: en['nav.reports'] }).click();
    await page.getByRole('combobox', { name: new RegExp(`^${en['reports.kind']}\\b`) }).selectOption('alarms');
    await page.getByRole('button', { name: en['reports.show'] }).click();
    const table = page.getByRole('table', { name: en['reports.alarms'] });
    await table.getByRole('cell', { name: 'DESK-1', exact: false }).first().waitFor();
    // One bar per row of the table: Apteka (DESK-1) and Piekarnia (DESK-2).
    expect(await table.locator('tbody tr').count()).toBe(2);
    expect(await page.getByRole('img', { name: en['reports.chart'] }).locator('rect').count()).toBe(2);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: en['reports.csv'] }).click()]);
    expect(csv.suggestedFilename()).toBe('alarms.csv');
    expect(readFileSync(await csv.path(), 'utf8').split('\n')[0]).toMatch(/^key,count,/);
    const [pdf] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: en['reports.pdf'] }).click()]);
    expect(readFileSync(await pdf.path()).subarray(0, 5).toString()).toBe('%PDF-');
    await context.close();
  });
});
