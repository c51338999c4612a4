import { createServer } from 'node:net';
import { JSDOM } from 'jsdom';
import { panelStateChannel } from '../../platform/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { eventProducer, satelEvent, type EventProducer } from '../helpers/events.ts';
import { createUser, type TestUser } from '../helpers/gateway.ts';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import { api, createPanel, login, waitUntil } from '../helpers/system.ts';

/**
 * The operator console as served by `stam gateway` (public/index.html), run in jsdom against real
 * processes: gateway, alarm-processor and outbox-relay. Only the browser is emulated: its fetch goes to the
 * gateway over HTTP, its WebSocket is a real one, prompts are answered by the test, and the audio device
 * records what was played.
 */
describe('operator console in a browser DOM against the real gateway', () => {
  let env: TestEnv;
  let events: EventProducer;
  let sup: TestUser;
  let panelId: number;
  let port: number;
  let base: string;
  let gateway: RoleProcess;
  const procs: RoleProcess[] = [];
  let dom: JSDOM;
  const answers: string[] = [];
  const played: number[] = [];

  const doc = (): Document => dom.window.document;
  const text = (id: string): string => doc().getElementById(id)?.textContent ?? '';
  const rows = (): HTMLTableRowElement[] => [...doc().querySelectorAll<HTMLTableRowElement>('#alarms tbody tr')];
  const button = (row: HTMLTableRowElement, label: string): HTMLButtonElement | undefined =>
    [...row.querySelectorAll('button')].find((b) => b.textContent === label);

  async function startGateway(): Promise<void> {
    gateway = startRole('gateway', env.vars);
    procs.push(gateway);
    await gateway.waitForLog(msgIs('gateway listening (console at /, API docs at /docs)'));
    await waitUntil('gateway ready', async () => (await fetch(`${base}/readyz`)).status === 200, 60_000, 200);
  }

  beforeAll(async () => {
    // A fixed port, so that the console finds the gateway again after its restart.
    port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
    });
    base = `http://127.0.0.1:${port}`;
    env = await createTestEnv({ GATEWAY_PORT: String(port), FEATURE_PUSH_ENABLED: 'false', FEATURE_ARM_DISARM_ENABLED: 'false' });
    sup = await createUser(env.pool, 'sup.console', 'SUPERVISOR');
    ({ panelId } = await createPanel(env.pool, 1, 'CONSOLE'));
    await env.pool.query(`INSERT INTO zones (panel_id, number, name) VALUES ($1, 2, 'Main entrance')`, [panelId]);
    events = await eventProducer(env.kafka, env.id);
    const processor = startRole('alarm-processor', env.vars);
    const relay = startRole('outbox-relay', env.vars);
    procs.push(processor, relay);
    await startGateway();
    await processor.waitForLog(msgIs('alarm processor consuming'));
    await relay.waitForLog(msgIs('outbox relay publishing'));

    // The page exactly as the gateway serves it; jsdom runs classic scripts only, so the module script
    // is loaded as one (it has no imports).
    const html = (await (await fetch(`${base}/`)).text()).replace('<script type="module">', '<script>');
    dom = new JSDOM(html, {
      url: `${base}/`, runScripts: 'dangerously', pretendToBeVisual: true,
      beforeParse(window) {
        const w = window as unknown as Record<string, unknown>;
        w.fetch = (input: string, init?: RequestInit) => fetch(new URL(input, base), init);
        w.prompt = (_msg: string, def?: string) => answers.shift() ?? def ?? null;
        w.confirm = () => true;
        w.AudioContext = class {
          currentTime = 0;
          destination = {};
          createGain() { return { gain: { value: 0 }, connect: (d: unknown) => d }; }
          createOscillator() {
            const o = { frequency: { value: 0 }, connect: (g: unknown) => g, start: () => played.push(o.frequency.value), stop: () => undefined };
            return o;
          }
        };
      },
    });
  }, 120_000);

  afterAll(async () => {
    dom?.window.close();
    await events?.close();
    await Promise.all(procs.map((p) => p.stop()));
    await env?.cleanup();
  });

  it('logs in and goes live on the stream', async () => {
    const form = doc().getElementById('login') as HTMLFormElement;
    (form.elements.namedItem('username') as HTMLInputElement).value = sup.username;
    (form.elements.namedItem('password') as HTMLInputElement).value = sup.password;
    form.requestSubmit();
    await waitUntil('console live', () => text('status').startsWith('live'), 30_000);
    expect(text('who')).toBe('sup.console (SUPERVISOR)');
    expect((doc().getElementById('offline') as HTMLElement).hidden).toBe(true);
  });

  it('a CRITICAL alarm appears with its actions and sounds; claiming it goes through the API', async () => {
    await events.send([satelEvent(panelId, 'ZONE_ALARM', 2, Date.now())]);
    await waitUntil('alarm row', () => rows().some((r) => r.textContent?.includes('Zone 2 alarm')), 30_000);
    // The zone name arrives a moment later (one GET per panel) and re-renders the table: find the row after.
    await waitUntil('zone name from the panel', () => rows().some((r) => r.textContent?.includes('2 — Main entrance')), 10_000);
    const row = rows().find((r) => r.textContent?.includes('Zone 2 alarm'))!;
    expect(row.className).toContain('CRITICAL');
    expect(button(row, 'Claim')?.disabled).toBe(false);
    expect(button(row, 'Panel…')).toBeDefined();
    expect(played.length).toBeGreaterThan(0);

    button(row, 'Claim')!.click();
    await waitUntil('claimed on screen', () => rows().some((r) => r.textContent?.includes('CLAIMED (sup.console)')), 10_000);
    const { rows: db } = await env.pool.query<{ status: string }>("SELECT status FROM alarms WHERE panel_id = $1 AND zone = 2", [panelId]);
    expect(db).toEqual([{ status: 'CLAIMED' }]);
  });

  it('shows what the panel has armed as soon as the driver announces its new live state', async () => {
    // No driver runs here, so the panel has no live state yet and the row shows none.
    expect(rows().some((r) => r.querySelector('small.panel') !== null)).toBe(false);
    // What a Satel driver does when the panel arms partitions 1 and 2: write the live state, announce it.
    await env.redis.hset(`panel:${panelId}:state`, { state: JSON.stringify({ partitionsArmed: [1, 2] }), link: 'up', last_seen: String(Date.now()) });
    await env.redis.publish(panelStateChannel(env.redis), String(panelId));
    await waitUntil('armed partitions on screen', () => rows().some((r) => r.querySelector('small.panel')?.textContent === 'armed 1, 2'), 10_000);
  });

  it('a panel command from the alarm reaches the API, and its refusal is shown with the reason', async () => {
    const row = rows().find((r) => r.textContent?.includes('Zone 2 alarm'))!;
    answers.push('arm', '1', 'console test');
    button(row, 'Panel…')!.click();
    await waitUntil('refusal shown', () => text('toast').includes('arm refused'), 10_000);
    expect(text('toast')).toContain('FEATURE_ARM_DISARM_ENABLED');
    const { rows: audit } = await env.pool.query("SELECT details->>'why' AS why FROM audit_log WHERE action = 'command.refused'");
    expect(audit).toEqual([{ why: 'disabled' }]);
  });

  it('"My devices" lists the phones registered for push and removes one through the API', async () => {
    const token = await login(base, { username: sup.username, password: sup.password });
    for (const [t, platform] of [['console-phone-token-0001-abcdef', 'android'], ['console-phone-token-0002-uvwxyz', 'ios']]) {
      expect((await api(base, '/api/devices', { token, body: { token: t, platform, app_version: '1.2.3' } })).status).toBe(201);
    }
    (doc().getElementById('devicesBtn') as HTMLButtonElement).click();
    const deviceRows = () => [...doc().querySelectorAll<HTMLTableRowElement>('#devicesTable tbody tr')];
    await waitUntil('devices listed', () => deviceRows().length === 2, 10_000);
    expect((doc().getElementById('queue') as HTMLElement).hidden).toBe(true);
    expect(deviceRows().map((r) => [r.cells[1]!.textContent, r.cells[2]!.textContent, r.cells[3]!.textContent, r.cells[6]!.textContent]))
      .toEqual([['ios', '1.2.3', '…uvwxyz', 'active'], ['android', '1.2.3', '…abcdef', 'active']]);
    const android = deviceRows().find((r) => r.cells[1]!.textContent === 'android')!;
    android.querySelector<HTMLButtonElement>('button[data-remove]')!.click();
    await waitUntil('removed from the list', () => deviceRows().length === 1 && text('toast') === 'phone removed', 10_000);
    const { rows } = await env.pool.query<{ platform: string }>('SELECT platform FROM user_devices WHERE user_id = $1', [sup.id]);
    expect(rows).toEqual([{ platform: 'ios' }]);
    (doc().getElementById('backToQueue') as HTMLButtonElement).click();
    expect((doc().getElementById('queue') as HTMLElement).hidden).toBe(false);
    expect((doc().getElementById('devices') as HTMLElement).hidden).toBe(true);
  });

  it('offline: banner shown and actions disabled; after the gateway is back, live again with actions', async () => {
    await gateway.stop();
    await waitUntil('console offline', () => !text('status').startsWith('live'), 15_000);
    expect((doc().getElementById('offline') as HTMLElement).hidden).toBe(false);
    const row = rows().find((r) => r.textContent?.includes('Zone 2 alarm'))!;
    expect(button(row, 'Acknowledge')?.disabled).toBe(true);

    await startGateway();
    await waitUntil('console live again', () => text('status').startsWith('live'), 45_000);
    expect((doc().getElementById('offline') as HTMLElement).hidden).toBe(true);
    const again = rows().find((r) => r.textContent?.includes('Zone 2 alarm'))!;
    expect(button(again, 'Acknowledge')?.disabled).toBe(false);
  });
});
