import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pl } from '../../console/src/i18n/pl.ts';
import { createLogger } from '../../platform/index.ts';
import { createSimulator, type Simulator } from '../../simulator/index.ts';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import { consolePage, launchBrowser, logIn, type TestBrowser } from '../helpers/browser.ts';
import { createVhost, deadPort, startRoles, storeUserCode, testSecrets } from '../helpers/commands.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createUser, type TestUser } from '../helpers/gateway.ts';
import { api, createPanel, login, waitUntil } from '../helpers/system.ts';

const CODE = '7281';
const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;
const fill = (s: string, vars: Record<string, string | number>) => s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k]));
const creds = (x: TestUser) => ({ username: x.username, password: x.password });
const labels = { user: pl['login.username'], password: pl['login.password'], submit: pl['login.submit'] };

/**
 * The operator console as built (console/dist) and served by `stam gateway`, in Debian's Chromium, against
 * real processes — alarm processor, outbox relay, command processor, Satel driver, gateway — and the panel
 * simulator over TCP. The browser's language is Polish: every label comes from the Polish catalogue.
 */
describe('operator console in Chromium against the real gateway and simulator', () => {
  let env: TestEnv;
  let vhost: Awaited<ReturnType<typeof createVhost>>;
  let sim: Simulator;
  let roles: Awaited<ReturnType<typeof startRoles>>;
  let gateway: RoleProcess;
  const extra: RoleProcess[] = [];
  let b: TestBrowser;
  let base: string;
  let panelId: number;
  let objectId: number;
  const u: Record<'op1' | 'op2' | 'sup' | 'admin', TestUser> = {} as never;
  let op1: Awaited<ReturnType<typeof consolePage>>;
  const secrets = testSecrets();

  const alarmId = async (zone: number) => {
    await waitUntil(`alarm of zone ${zone}`, async () => (await env.pool.query('SELECT 1 FROM alarms WHERE panel_id = $1 AND zone = $2', [panelId, zone])).rowCount === 1, 30_000);
    return (await env.pool.query<{ id: number }>('SELECT id FROM alarms WHERE panel_id = $1 AND zone = $2', [panelId, zone])).rows[0]!.id;
  };
  const makeAlarm = async (zone: number) => {
    expect((await fetch(`${sim.controlUrl}/panels/1/zones/${zone}/alarm`, { method: 'POST' })).status).toBe(200);
    return alarmId(zone);
  };
  const row = (page: Page, id: number) => page.locator(`[role=row][data-alarm="${id}"]`);
  const dbAlarm = async (id: number) => (await env.pool.query<{ status: string; owner: string | null }>(
    'SELECT a.status, u.username AS owner FROM alarms a LEFT JOIN users u ON u.id = a.claimed_by WHERE a.id = $1', [id])).rows[0]!;
  const startGateway = async (port: number) => {
    const g = startRole('gateway', { ...env.vars, GATEWAY_PORT: String(port) });
    await g.waitForLog(msgIs('gateway listening (console at /, API docs at /docs)'));
    extra.push(g);
    return g;
  };

  beforeAll(async () => {
    vhost = await createVhost();
    const port = await deadPort();
    base = `http://localhost:${port}`;
    env = await createTestEnv({
      GATEWAY_PORT: String(port), RABBITMQ_URL: vhost.url, FEATURE_ARM_DISARM_ENABLED: 'true', FEATURE_REALTIME_ENABLED: 'true', FEATURE_PUSH_ENABLED: 'false',
      FEATURE_HA_ENABLED: 'false', FEATURE_SMS_ENABLED: 'false', SECRETS_KEYS: secrets.keys, SATEL_POLL_INTERVAL_MS: '200', SATEL_ANSWER_TIMEOUT_MS: '1000',
      SATEL_PANEL_REFRESH_MS: '1000', SATEL_DRIVER_ID: 'console-driver', COMMANDS_SWEEP_INTERVAL_S: '1', CONSOLE_IDLE_LOCK_S: '0',
    });
    env.vars.COMMAND_RESULTS_GROUP = `${env.id}-command-results`;
    sim = createSimulator({ panels: 1, basePort: 0, controlPort: 0, userCode: CODE, exitDelayMs: 0, log: createLogger('sim', 'silent') });
    await sim.start();
    ({ panelId, objectId } = await createPanel(env.pool, sim.ports[0]!, 'KONSOLA'));
    await storeUserCode(env.pool, panelId, secrets.box.encrypt(CODE));
    await env.pool.query(`UPDATE objects SET name = 'Bank Spółdzielczy, oddział 3', address = 'ul. Długa 5, 00-001 Warszawa', latitude = 52.2297, longitude = 21.0122,
      contacts = 'Anna Nowak, +48 600 100 200, kierownik', notes = 'Klucze w sejfie przy wejściu' WHERE id = $1`, [objectId]);
    await env.pool.query(`INSERT INTO zones (panel_id, number, name) VALUES ($1, 3, 'Skarbiec')`, [panelId]);
    for (const [k, name, role] of [['op1', 'op.anna', 'OPERATOR'], ['op2', 'op.piotr', 'OPERATOR'], ['sup', 'sup.ewa', 'SUPERVISOR'], ['admin', 'admin.jan', 'ADMIN']] as const) {
      u[k] = await createUser(env.pool, name, role);
    }
    const processor = startRole('alarm-processor', env.vars);
    extra.push(processor);
    roles = await startRoles(env.vars);
    gateway = roles.gateway;
    await processor.waitForLog(msgIs('alarm processor consuming'));
    await waitUntil('driver polls the simulated panel', async () =>
      (await (await fetch(`${sim.controlUrl}/panels`)).json() as { connected: boolean }[]).every((p) => p.connected), 30_000);
    const admin = await login(base, creds(u.admin));
    expect((await api(base, '/api/recorders', { token: admin, body: { object_id: objectId, name: 'DVR wejście', host: '10.1.2.3', port: 8000, login: 'dvr-op', password: 'dvr-secret-1' } })).status).toBe(201);
    b = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await b?.close();
    await Promise.all([...(roles?.all() ?? []), ...extra].map((r) => r.stop()));
    await sim?.stop();
    await env?.cleanup();
    await vhost?.remove();
  });

  it('logs in: the login form leaves the screen, the queue is live, in Polish for a Polish browser', async () => {
    op1 = await consolePage(b, base);
    await logIn(op1.page, u.op1, labels);
    await op1.page.getByRole('status', { name: `status: ${pl['status.live']}` }).waitFor();
    expect(await op1.page.locator('html').getAttribute('lang')).toBe('pl');
    expect(await op1.page.locator('form.login').count()).toBe(0);
    expect(await op1.page.getByLabel(labels.password, { exact: true }).count()).toBe(0);
    expect(await op1.page.getByRole('heading', { name: pl['queue.title'] }).isVisible()).toBe(true);
    expect(await op1.page.getByRole('link', { name: pl['nav.queue'] }).isVisible()).toBe(true);
    expect(await op1.page.getByRole('alert').count()).toBe(0); // no offline banner
  });

  it('an alarm made on the simulator appears with its sound (repeated until claimed) and a running timer', async () => {
    const id = await makeAlarm(3);
    const r = row(op1.page, id);
    await r.waitFor();
    expect(await r.getAttribute('aria-label')).toBe(fill(pl['row.label'], { id, title: 'Zone 3 alarm', object: 'Bank Spółdzielczy, oddział 3' }));
    expect(await r.locator('.sev').textContent()).toBe(pl['severity.CRITICAL']);
    // The zone's name comes from the panel's configuration (one GET per panel), a moment after the row.
    await waitUntil('zone name from the panel', async () => (await r.locator('.zone').textContent()) === '3 — Skarbiec', 10_000);
    await waitUntil('the CRITICAL tones', async () => (await op1.tones()).filter((f) => f === 880).length >= 2, 5_000, 50);
    expect((await op1.tones()).slice(0, 4)).toEqual([880, 660, 880, 660]);
    const first = await r.locator('.waiting').textContent();
    await waitUntil('the timer runs', async () => (await r.locator('.waiting').textContent()) !== first, 5_000, 100);
    expect(await r.locator('.waiting').textContent()).toMatch(/^0:0\d$/);
    await waitUntil('the sound repeats while it waits unclaimed', async () => (await op1.tones()).length >= 8, 12_000, 100);
  });

  it('claim (keyboard), acknowledge, resolve with a code and a required note, close: every step in the database', async () => {
    const id = await alarmId(3);
    const r = row(op1.page, id);
    await op1.page.keyboard.press('n'); // the next alarm to handle
    expect(await r.getAttribute('aria-selected')).toBe('true');
    await op1.page.keyboard.press('c');
    await waitUntil('claimed', async () => (await r.getAttribute('data-status')) === 'CLAIMED');
    expect(await r.textContent()).toContain(`${pl['alarmStatus.CLAIMED']} (op.anna)`);
    const toneCount = (await op1.tones()).length;
    await r.getByRole('button', { name: pl['action.ack'], exact: true }).click();
    const dialog = op1.page.getByRole('dialog');
    await dialog.getByLabel(pl['action.note']).fill('Dzwonię do kierownika');
    await dialog.getByRole('button', { name: pl['action.ack'], exact: true }).click();
    await waitUntil('acknowledged', async () => (await r.getAttribute('data-status')) === 'ACKNOWLEDGED');
    await r.getByRole('button', { name: pl['action.resolve'], exact: true }).click();
    await dialog.getByLabel(pl['action.resolution']).selectOption('FALSE_ALARM');
    await dialog.getByRole('button', { name: pl['action.resolve'], exact: true }).click();
    expect(await dialog.isVisible()).toBe(true); // the note is required: the form does not go
    await dialog.getByLabel(pl['action.noteRequired']).fill('Pracownik otworzył skarbiec bez rozbrojenia');
    await dialog.getByRole('button', { name: pl['action.resolve'], exact: true }).click();
    await waitUntil('resolved', async () => (await r.getAttribute('data-status')) === 'RESOLVED');
    await r.getByRole('button', { name: pl['action.close'], exact: true }).click();
    await dialog.getByRole('button', { name: pl['action.close'], exact: true }).click();
    await waitUntil('gone from the queue', async () => (await r.count()) === 0);
    const { rows } = await env.pool.query<{ action: string; note: string | null }>('SELECT action, note FROM alarm_actions WHERE alarm_id = $1 ORDER BY id', [id]);
    expect(rows).toEqual([
      { action: 'claim', note: null }, { action: 'ack', note: 'Dzwonię do kierownika' },
      { action: 'resolve', note: 'Pracownik otworzył skarbiec bez rozbrojenia' }, { action: 'close', note: null },
    ]);
    expect((await env.pool.query('SELECT resolution_code FROM alarms WHERE id = $1', [id])).rows[0]).toEqual({ resolution_code: 'FALSE_ALARM' });
    await new Promise((res) => setTimeout(res, 5500));
    expect((await op1.tones()).length).toBe(toneCount); // claimed: the repeat stopped
  });

  it('two operators race for one alarm: one wins, the other is told who', async () => {
    const op2 = await consolePage(b, base);
    await logIn(op2.page, u.op2, labels);
    await op2.page.getByRole('status', { name: `status: ${pl['status.live']}` }).waitFor();
    const id = await makeAlarm(5);
    await Promise.all([row(op1.page, id).waitFor(), row(op2.page, id).waitFor()]);
    const claim = (p: Page) => row(p, id).getByRole('button', { name: pl['action.claim'], exact: true }).click();
    await Promise.all([claim(op1.page), claim(op2.page)]);
    await waitUntil('claimed', async () => (await dbAlarm(id)).status === 'CLAIMED');
    const winner = (await dbAlarm(id)).owner!;
    const loser = winner === u.op1.username ? op2.page : op1.page;
    await loser.getByText(fill(pl['action.conflict'], { id, owner: winner })).waitFor({ timeout: 10_000 });
    await waitUntil('both screens show the winner', async () =>
      (await row(op1.page, id).textContent())!.includes(`(${winner})`) && (await row(op2.page, id).textContent())!.includes(`(${winner})`));
    expect((await env.pool.query("SELECT count(*)::int AS n FROM alarm_actions WHERE alarm_id = $1 AND action = 'claim'", [id])).rows[0]).toEqual({ n: 1 });
    await op2.context.close();
  });

  it('sounds are muted per user: a muted desk stays silent for a new CRITICAL alarm, and the choice is kept for that user', async () => {
    const p = op1.page;
    await p.getByRole('button', { name: pl['nav.mute'] }).click();
    expect(await p.getByRole('button', { name: pl['nav.unmute'] }).getAttribute('aria-pressed')).toBe('true');
    const before = (await op1.tones()).length;
    const id = await makeAlarm(8);
    await row(p, id).waitFor();
    await new Promise((res) => setTimeout(res, 1000));
    expect((await op1.tones()).length).toBe(before);
    expect(await p.evaluate(() => localStorage.getItem('stam.mute.op.anna'))).toBe('1');
    await p.getByRole('button', { name: pl['nav.unmute'] }).click();
    await p.getByRole('button', { name: pl['nav.mute'] }).waitFor();
  });

  it('alarm detail: object, contacts, notes, map placeholder, live panel state, events, history, the timed reveal of the recorder login', async () => {
    const id = await alarmId(5);
    await row(op1.page, id).getByRole('button', { name: `${pl['action.details']} #${id}` }).click();
    const p = op1.page;
    await p.getByRole('heading', { name: new RegExp(`^${fill(pl['detail.title'], { id })}`) }).waitFor();
    for (const text of ['ul. Długa 5, 00-001 Warszawa', 'Anna Nowak, +48 600 100 200, kierownik', 'Klucze w sejfie przy wejściu', fill(pl['detail.mapOffline'], { lat: '52.22970', lon: '21.01220' })]) {
      await p.getByText(text).waitFor();
    }
    await p.getByText(fill(pl['detail.link'], { link: 'up' })).waitFor();
    await p.getByRole('cell', { name: 'ZONE_ALARM' }).first().waitFor();
    await p.getByRole('cell', { name: 'claim', exact: true }).waitFor();
    await p.getByRole('button', { name: `${pl['detail.reveal']} (DVR wejście)` }).click();
    await p.getByRole('dialog').getByLabel(pl['detail.revealReason']).fill('weryfikacja alarmu w skarbcu');
    await p.getByRole('dialog').getByRole('button', { name: pl['detail.reveal'] }).click();
    await p.getByText(/Login dvr-op, hasło dvr-secret-1 \(hasło zapisane w rejestratorze — działa, dopóki nie zostanie tam zmienione\) — ukryte za \d+ s/).waitFor();
    const audit = await env.pool.query<{ username: string; details: { reason: string } }>("SELECT username, details FROM audit_log WHERE action = 'secret.reveal'");
    expect(audit.rows.map((r) => [r.username, r.details.reason])).toEqual([['op.anna', 'weryfikacja alarmu w skarbcu']]);
    await p.screenshot({ path: `${SHOTS}alarm-detail.png` });
    await p.keyboard.press('Escape');
    await p.getByRole('heading', { name: pl['queue.title'] }).waitFor();
  });

  it('a supervisor arms a partition in the command dialog and sees the result; the panel state updates in place; service mode with an end time', async () => {
    const sup = await consolePage(b, base);
    await logIn(sup.page, u.sup, labels);
    const id = await alarmId(5);
    await row(sup.page, id).getByRole('button', { name: `${pl['action.details']} #${id}` }).click();
    const p = sup.page;
    await p.getByText(pl['detail.disarmed']).waitFor();
    // Take over the operator's alarm: the note is required.
    const before = (await dbAlarm(id)).owner;
    expect(before).not.toBe('sup.ewa');
    await p.getByRole('group', { name: pl['col.actions'] }).getByRole('button', { name: pl['action.takeover'], exact: true }).click();
    await p.getByRole('dialog').getByLabel(pl['action.noteRequired']).fill('operator na przerwie');
    await p.getByRole('dialog').getByRole('button', { name: pl['action.takeover'], exact: true }).click();
    await waitUntil('taken over', async () => (await dbAlarm(id)).owner === 'sup.ewa');
    const took = await env.pool.query<{ note: string }>("SELECT note FROM alarm_actions WHERE alarm_id = $1 AND action = 'takeover'", [id]);
    expect(took.rows).toEqual([{ note: 'operator na przerwie' }]);
    await p.getByRole('button', { name: pl['action.panel'] }).click();
    const dialog = p.getByRole('dialog');
    await dialog.getByLabel(pl['cmd.action']).selectOption('arm');
    await dialog.getByLabel(pl['cmd.reason']).fill('obiekt zamknięty po alarmie');
    await dialog.getByRole('button', { name: pl['cmd.send'] }).click();
    await p.getByText(fill(pl['cmd.result'], { panel: panelId, action: pl['cmd.arm'], status: 'SUCCEEDED' }), { exact: false }).waitFor({ timeout: 30_000 });
    expect(sim.panel(1).snapshot().partitionStates.armed).toEqual([1]);
    await p.getByText(fill(pl['detail.armed'], { list: '1' })).waitFor({ timeout: 10_000 });
    const { rows } = await env.pool.query<{ status: string; reason: string }>('SELECT status, reason FROM commands WHERE panel_id = $1', [panelId]);
    expect(rows).toEqual([{ status: 'SUCCEEDED', reason: 'obiekt zamknięty po alarmie' }]);

    await p.getByRole('button', { name: fill(pl['detail.switchOn'], { mode: pl['detail.serviceMode'] }) }).click();
    await dialog.getByLabel(pl['detail.reason']).fill('przegląd techniczny');
    await dialog.getByRole('button', { name: pl['action.confirm'] }).click();
    await p.getByRole('button', { name: fill(pl['detail.switchOff'], { mode: pl['detail.serviceMode'] }) }).waitFor();
    const o = await env.pool.query<{ service_mode_active: boolean; hours: number }>('SELECT service_mode_active, round(extract(epoch from service_mode_until - now()) / 3600)::int AS hours FROM objects WHERE id = $1', [objectId]);
    expect(o.rows[0]).toEqual({ service_mode_active: true, hours: 2 });
    await p.getByRole('button', { name: fill(pl['detail.switchOff'], { mode: pl['detail.serviceMode'] }) }).click();
    await p.getByRole('button', { name: fill(pl['detail.switchOn'], { mode: pl['detail.serviceMode'] }) }).waitFor();
    await sup.context.close();
  });

  it('gateway stopped: banner, read-only, a reload still shows the cached queue; an intent recorded offline is arbitrated after the restart', async () => {
    const p = op1.page;
    const [free, taken] = [await makeAlarm(6), await makeAlarm(7)];
    await Promise.all([row(p, free).waitFor(), row(p, taken).waitFor()]);
    await p.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await waitUntil('the service worker controls the page', () => p.evaluate(() => navigator.serviceWorker.controller !== null), 10_000);
    await new Promise((res) => setTimeout(res, 1200)); // the queue is written to IndexedDB at most once a second
    // The open alarms' details are read ahead into IndexedDB too (one at a time).
    const cached = (id: number) => p.evaluate((key) => new Promise<boolean>((resolve) => {
      const req = indexedDB.open('stam-console');
      req.onsuccess = () => { const get = req.result.transaction('kv').objectStore('kv').get(key); get.onsuccess = () => resolve(get.result !== undefined); get.onerror = () => resolve(false); };
      req.onerror = () => resolve(false);
    }), `detail:${id}`);
    await waitUntil('details read ahead', async () => await cached(free) && await cached(taken), 20_000, 200);
    await p.screenshot({ path: `${SHOTS}queue.png` });

    await gateway.stop();
    await p.getByRole('alert').getByText(pl['offline.banner']).waitFor({ timeout: 15_000 });
    expect(await row(p, free).getByRole('button', { name: pl['action.claim'], exact: true }).isDisabled()).toBe(true);
    await p.reload();
    await p.getByRole('alert').getByText('⚠️ Tryb offline — dane mogą być nieaktualne').waitFor();
    await row(p, free).waitFor();
    await row(p, taken).waitFor();
    expect(await row(p, free).getByRole('button', { name: pl['action.claim'], exact: true }).isDisabled()).toBe(true);
    // A detail never opened on this desk still opens offline, from the cache.
    await row(p, taken).getByRole('button', { name: `${pl['action.details']} #${taken}` }).click();
    await p.getByText(pl['detail.cached']).waitFor();
    await p.getByRole('heading', { name: `${fill(pl['detail.title'], { id: taken })}: Zone 7 alarm` }).waitFor();
    await p.getByText('Anna Nowak, +48 600 100 200, kierownik').waitFor();
    await p.keyboard.press('Escape');
    for (const id of [free, taken]) await row(p, id).getByRole('button', { name: pl['action.intent'] }).click();
    await row(p, taken).getByText(pl['row.intent']).waitFor();
    await p.screenshot({ path: `${SHOTS}offline.png` });

    // Meanwhile another operator, on another gateway of the centre, takes one of them.
    const otherPort = await deadPort();
    await startGateway(otherPort);
    const otherBase = `http://127.0.0.1:${otherPort}`;
    const t2 = await login(otherBase, creds(u.op2));
    expect((await api(otherBase, `/api/alarms/${taken}/claim`, { token: t2, body: { version: 1 } })).status).toBe(200);

    gateway = await startGateway(Number(new URL(base).port));
    await p.getByRole('status', { name: `status: ${pl['status.live']}` }).waitFor({ timeout: 45_000 });
    const outcomes = p.getByRole('region', { name: pl['intent.title'] });
    await outcomes.getByText(fill(pl['intent.claimed'], { id: free })).waitFor({ timeout: 15_000 });
    await outcomes.getByText(fill(pl['intent.refused'], { id: taken, reason: fill(pl['intent.reason.taken'], { owner: 'op.piotr' }) })).waitFor();
    expect(await dbAlarm(free)).toEqual({ status: 'CLAIMED', owner: 'op.anna' });
    expect(await dbAlarm(taken)).toEqual({ status: 'CLAIMED', owner: 'op.piotr' });
    expect(await p.getByRole('alert').count()).toBe(0);
    await waitUntil('the claimed alarm shows its owner', async () => (await row(p, free).textContent())!.includes('(op.anna)'));
    expect(await row(p, free).getByRole('button', { name: pl['action.ack'], exact: true }).isDisabled()).toBe(false);
  });

  it('"My devices" lists the phones registered for push and removes one through the API', async () => {
    const token = await login(base, creds(u.op1));
    for (const [t, platform] of [['console-phone-token-0001-abcdef', 'android'], ['console-phone-token-0002-uvwxyz', 'ios']]) {
      expect((await api(base, '/api/devices', { token, body: { token: t, platform, app_version: '1.2.3' } })).status).toBe(201);
    }
    const p = op1.page;
    await p.getByRole('link', { name: pl['nav.security'] }).click();
    const table = p.getByRole('table', { name: pl['security.phones'] });
    await table.getByRole('row').nth(1).waitFor();
    // Newest first: platform, app version, the token's last characters only, state.
    const cells = async () => Promise.all((await table.getByRole('row').all()).map(async (r) => {
      const c = await r.getByRole('cell').allTextContents();
      return [c[1], c[2], c[3], c[6]];
    }));
    expect(await cells()).toEqual([['ios', '1.2.3', '…uvwxyz', 'active'], ['android', '1.2.3', '…abcdef', 'active']]);
    let asked = '';
    p.once('dialog', (d) => { asked = d.message(); void d.accept(); });
    await table.getByRole('button', { name: `${pl['security.remove']} android …abcdef` }).click();
    await p.getByRole('status').getByText(pl['security.removed']).waitFor();
    expect(asked).toBe(pl['security.removeConfirm']);
    await waitUntil('removed from the list', async () => (await table.getByRole('row').count()) === 1);
    const { rows } = await env.pool.query<{ platform: string }>('SELECT platform FROM user_devices WHERE user_id = $1', [u.op1.id]);
    expect(rows).toEqual([{ platform: 'ios' }]);
    await p.getByRole('link', { name: pl['nav.queue'] }).click();
    await p.getByRole('heading', { name: pl['queue.title'] }).waitFor();
  });

  it('switches to English: every label from the English catalogue, kept across a reload', async () => {
    const p = op1.page;
    await p.getByLabel(pl['nav.language']).selectOption('en');
    await p.getByRole('heading', { name: 'Open alarms' }).waitFor();
    expect(await p.locator('html').getAttribute('lang')).toBe('en');
    await p.reload();
    await p.getByRole('link', { name: 'Alarm queue' }).waitFor();
    await p.getByLabel('Language').selectOption('pl');
    await p.getByRole('heading', { name: pl['queue.title'] }).waitFor();
  });
});
