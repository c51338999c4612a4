import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { msgIs, startRole, type RoleProcess } from '../../load-tests/index.ts';
import type { ModemSimulator } from '../../simulator/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { modemReady, smsEvents, startModem, startSmsIngest } from '../helpers/sms.ts';
import { waitUntil } from '../helpers/system.ts';

/**
 * The modem misbehaving, over a real pty, through the broker into PostgreSQL: garbage on the line, resets in
 * the middle of an answer and between answers, a store full before the driver starts, and the device
 * vanishing (a USB modem unplugged) past the supervision time — every message exactly once, nothing left on
 * the SIM, the outage an alarm and its end a restore.
 */
describe('SMS intake: modem faults lose nothing', () => {
  let env: TestEnv;
  let processor: RoleProcess;
  const running: { stop(): Promise<unknown> }[] = [];

  const opsPort = async (r: RoleProcess) => (await r.waitForLog(msgIs('ops endpoints listening (/healthz /readyz /metrics)'))).port as number;
  const metric = async (port: number, name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith(name)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  };
  const onceEach = async (texts: string[]) => {
    const rows = await smsEvents(env.pool);
    return texts.map((t) => rows.filter((r) => r.payload.raw_text === t).length);
  };
  async function rig(extra: Record<string, string> = {}, modemOpts: Parameters<typeof startModem>[1] = {}, before?: (m: ModemSimulator) => void) {
    const modem = await startModem(env, modemOpts);
    running.push(modem);
    before?.(modem);
    const ingest = startSmsIngest(env, modem, extra);
    running.unshift(ingest);
    return { modem, ingest, ops: await opsPort(ingest) };
  }

  beforeAll(async () => {
    env = await createTestEnv({ FEATURE_SMS_ENABLED: 'true' });
    processor = startRole('alarm-processor', env.vars);
    await processor.waitForLog((l) => l.msg === 'alarm processor consuming');
  });
  afterEach(async () => { for (const r of running.splice(0)) await r.stop(); });
  afterAll(async () => {
    await processor?.stop();
    await env?.cleanup();
  });

  it('garbage on the line and modem resets (mid-answer and between answers) lose and double nothing', async () => {
    const { modem, ingest, ops } = await rig();
    await modemReady(ingest);
    const texts = Array.from({ length: 30 }, (_, i) => `Efento: ALARM Czujnik ${i} (AABBCC0000${String(i).padStart(2, '0')}) temperatura 9,${i % 10}°C powyżej progu 8,0°C`);
    for (let i = 0; i < texts.length; i++) {
      if (i % 3 === 0) modem.modem.garbageNow();
      if (i % 5 === 0) modem.modem.garbageInto(2);
      if (i === 10) modem.modem.reset(800, true);
      if (i === 20) modem.modem.reset(500, false);
      modem.deliver({ from: '+48600100200', text: texts[i]! });
      await new Promise((r) => setTimeout(r, 120));
    }
    await waitUntil('every message recorded', async () => (await onceEach(texts)).every((n) => n >= 1), 60_000, 250);
    await waitUntil('the SIM store drained', () => modem.store.used === 0, 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await onceEach(texts)).toEqual(texts.map(() => 1));
    expect(modem.status.stats.resets).toBe(2);
    expect(await metric(ops, 'stam_sms_garbage_lines_total')).toBeGreaterThan(10);
    expect(await metric(ops, 'stam_sms_modem_resets_total')).toBeGreaterThanOrEqual(1);
    expect(await metric(ops, 'stam_sms_modem_inits_total{outcome="ok"}')).toBeGreaterThanOrEqual(2);
    expect(await metric(ops, 'stam_sms_signal_rssi')).toBe(21); // AT+CSQ of the simulated modem
    expect(await metric(ops, 'stam_sms_storage_total')).toBe(50); // AT+CPMS?
  });

  it('a store that filled up before the driver started is drained, and what the network held lands and is read too (slots from 0)', async () => {
    const texts = Array.from({ length: 12 }, (_, i) => `BLULOG: Niski poziom baterii rejestratora 99${i}`);
    const { modem, ingest, ops } = await rig({ SMS_SILENCE_ALERT_S: '2' }, { capacity: 8, firstIndex: 0 }, (m) => { for (const t of texts) m.deliver({ from: '+48600100300', text: t }); });
    expect(modem.stored()[0]!.index).toBe(0);
    expect(modem.store.queued).toBe(4);
    await modemReady(ingest);
    await waitUntil('all twelve recorded', async () => (await onceEach(texts)).every((n) => n >= 1), 60_000, 250);
    await waitUntil('store and network empty', () => modem.store.used === 0 && modem.store.queued === 0, 30_000);
    expect(await onceEach(texts)).toEqual(texts.map(() => 1));
    // No SMS for SMS_SILENCE_ALERT_S: the silence metric an alert rule uses; the next SMS clears it.
    await waitUntil('silence reported', async () => (await metric(ops, 'stam_sms_silent')) === 1, 15_000, 250);
    modem.deliver({ from: '+48600100300', text: 'BLULOG: Niski poziom baterii rejestratora 42' });
    await waitUntil('silence over', async () => (await metric(ops, 'stam_sms_silent')) === 0, 15_000, 100);
  });

  it('the device vanishing past the supervision time is a modem-down alarm, restored when it is back; readiness follows; nothing is lost', async () => {
    const { modem, ingest, ops } = await rig({ SMS_SUPERVISION_S: '2' });
    await modemReady(ingest);
    await waitUntil('ready', async () => (await fetch(`http://127.0.0.1:${ops}/readyz`)).status === 200, 10_000);
    const before = ['Efento: Koniec alarmu Chłodnia 9: temperatura 7,0°C', 'Efento: Koniec alarmu Chłodnia 8: temperatura 7,1°C'];
    for (const t of before) modem.deliver({ from: '+48600100200', text: t });
    await waitUntil('the first two recorded', async () => (await onceEach(before)).every((n) => n === 1), 30_000, 250);
    await modem.vanish(6_000);
    const during = ['Efento: Koniec alarmu Chłodnia 7: temperatura 7,2°C', 'Efento: Koniec alarmu Chłodnia 6: temperatura 7,3°C', 'x'];
    for (const t of during) modem.deliver({ from: '+48600100200', text: t });
    await ingest.waitForLog((l) => l.msg === 'modem port lost', 15_000);
    const readyz = await fetch(`http://127.0.0.1:${ops}/readyz`);
    expect(readyz.status).toBe(503);
    expect(((await readyz.json()) as { failures: Record<string, string> }).failures.modem).toMatch(/modem (opening|waiting|initialising)/);

    const gateway = (await env.pool.query<{ id: number }>("SELECT id FROM objects WHERE code = 'SMS-GATEWAY'")).rows[0]!.id;
    const modemAlarm = async () => (await env.pool.query<{ severity: string; title: string; restore_count: number }>(
      "SELECT severity, title, restore_count FROM alarms WHERE object_id = $1 AND category = 'modem-link'", [gateway])).rows;
    await waitUntil('the modem-down alarm', async () => (await modemAlarm()).length === 1, 20_000, 250);
    expect((await modemAlarm())[0]).toMatchObject({ severity: 'CRITICAL', title: 'GSM modem down', restore_count: 0 });

    await waitUntil('the modem back and read', async () => (await onceEach([...before, ...during])).every((n) => n === 1), 40_000, 250);
    await waitUntil('the outage restored', async () => (await modemAlarm())[0]?.restore_count === 1, 20_000, 250);
    expect(await modemAlarm()).toHaveLength(1);
    expect((await fetch(`http://127.0.0.1:${ops}/readyz`)).status).toBe(200);
    expect(await metric(ops, 'stam_sms_port_opens_total{outcome="ok"}')).toBeGreaterThanOrEqual(2);
    await waitUntil('the SIM store drained', () => modem.store.used === 0, 20_000);
  });
});
