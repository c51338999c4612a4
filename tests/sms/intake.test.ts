import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRole, type RoleProcess } from '../../load-tests/index.ts';
import type { ModemSimulator } from '../../simulator/index.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { call, createUser, loginInject, startGateway, type GatewayUnderTest } from '../helpers/gateway.ts';
import { addSensor, modemReady, smsEvents, startModem, startSmsIngest, tailSms, type SmsTail } from '../helpers/sms.ts';
import { waitUntil } from '../helpers/system.ts';

interface AlarmDetail { id: number; object_id: number; object_code: string; title: string; severity: string; category: string; event_count: number; restore_count: number; events: { kind: string; restore: boolean; payload: Record<string, unknown> }[] }

/**
 * SMS intake end to end: the modem simulator on a real pty, `stam sms-ingest` (real serialport) and
 * `stam alarm-processor` as child processes, the real broker and PostgreSQL, the gateway's alarm API.
 */
describe('SMS intake: modem → broker → alarms', () => {
  let env: TestEnv;
  let modem: ModemSimulator;
  let ingest: RoleProcess;
  let processor: RoleProcess;
  let gw: GatewayUnderTest;
  let token: string;
  let tail: SmsTail;
  const objects: Record<string, number> = {};

  const alarmsOf = async (objectId: number) =>
    (await env.pool.query<{ id: number; category: string; title: string; restore_count: number; severity: string }>(
      'SELECT id, category, title, restore_count, severity FROM alarms WHERE object_id = $1 ORDER BY id', [objectId])).rows;
  const detail = async (id: number) => (await call<AlarmDetail>(gw.app, token, 'GET', `/api/alarms/${id}`)).body;
  const storeEmpty = () => waitUntil('the SIM store drained', () => modem.store.used === 0 && ingest.lines.length > 0, 20_000);

  beforeAll(async () => {
    env = await createTestEnv({ FEATURE_SMS_ENABLED: 'true', SMS_MULTIPART_TIMEOUT_S: '4' });
    objects.efento = await addSensor(env.pool, { ref: '282C02A1B2C3', sender: '+48600100200', name: 'Chłodnia 1', vendor: 'efento' });
    objects.blulog = await addSensor(env.pool, { ref: '1234567', sender: '+48600100300', name: 'Lodówka apteka T1', vendor: 'blulog' });
    objects.polish = await addSensor(env.pool, { ref: 'PL-1', sender: '+48600100400', name: 'Magazyn', vendor: 'other' });
    modem = await startModem(env);
    tail = await tailSms(env);
    ingest = startSmsIngest(env, modem, { SMS_MULTIPART_TIMEOUT_S: '4' });
    processor = startRole('alarm-processor', env.vars);
    gw = await startGateway(env);
    await createUser(env.pool, 'op-sms', 'OPERATOR');
    token = (await loginInject(gw.app, { username: 'op-sms', password: 'correct horse battery staple' })).access_token;
    await modemReady(ingest);
    await processor.waitForLog((l) => l.msg === 'alarm processor consuming');
  });

  afterAll(async () => {
    await ingest?.stop();
    await processor?.stop();
    await gw?.close();
    await tail?.stop();
    await modem?.stop();
    await env?.cleanup();
  });

  it('a Polish UCS2 message in three parts, delivered out of order and twice, appears once with its exact text', async () => {
    const text = 'Uwaga: w magazynie głównym temperatura przekroczyła dopuszczalny próg. Proszę sprawdzić chłodnię, drzwi i zasilanie agregatu — zgłoszenie nr 17, żółta strefa, ąęśćźżółń.';
    const d = modem.deliver({ from: '+48600100400', text, encoding: 'ucs2', order: 'shuffle', copies: 2 });
    expect(d).toMatchObject({ parts: 3, encoding: 'ucs2' });
    await waitUntil('the message recorded', async () => (await smsEvents(env.pool)).some((e) => e.payload.raw_text === text), 30_000);
    await storeEmpty();
    await new Promise((r) => setTimeout(r, 1500)); // a second copy would be produced and recorded by now
    const rows = (await smsEvents(env.pool)).filter((e) => e.payload.raw_text === text);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'UNCLASSIFIED', sensor_ref: 'PL-1', object_id: objects.polish });
    expect(rows[0]!.payload).toMatchObject({ sender: '+48600100400', partial: false });
    const [alarm] = await alarmsOf(objects.polish!);
    expect((await detail(alarm!.id)).events.map((e) => e.payload.raw_text)).toEqual([text]);
  });

  it('an Efento example yields a temperature alarm with value and threshold, and its restore restores it', async () => {
    modem.deliver({ from: '+48600100200', text: 'Efento: ALARM Chłodnia 1 (282C02A1B2C3) temperatura 9,1°C powyżej progu 8,0°C 2025-06-15 12:30' });
    await waitUntil('the temperature alarm', async () => (await alarmsOf(objects.efento!)).length === 1, 30_000);
    modem.deliver({ from: '+48600100200', text: 'Efento: Koniec alarmu Chłodnia 1: temperatura 7,6°C' });
    await waitUntil('its restore', async () => (await alarmsOf(objects.efento!))[0]?.restore_count === 1, 30_000);
    const [a] = await alarmsOf(objects.efento!);
    expect(a).toMatchObject({ category: 'temperature', severity: 'CRITICAL', title: 'Temperature alarm 282C02A1B2C3' });
    const d = await detail(a!.id);
    const alarmEvent = d.events.find((e) => !e.restore)!;
    expect(alarmEvent.payload).toMatchObject({ kind: 'TEMPERATURE_ALARM', value: 9.1, threshold: 8, unit: '°C', direction: 'HIGH', sender: '+48600100200', template: 'efento-temperature-alarm' });
    expect(d.events.find((e) => e.restore)!.payload).toMatchObject({ kind: 'TEMPERATURE_RESTORE', value: 7.6 });
    expect(await alarmsOf(objects.efento!)).toHaveLength(1);
  });

  it('a Blulog example yields a temperature alarm with value and threshold, bundled per sensor, and its restore restores it', async () => {
    modem.deliver({ from: '+48600100300', text: 'BLULOG ALARM: Lodówka apteka T1 9,4°C > max 8,0°C 15.06.2025 12:30' });
    modem.deliver({ from: '+48600100300', text: 'BLULOG ALARM: Lodówka apteka T1 9,9°C > max 8,0°C 15.06.2025 12:40' });
    await waitUntil('both readings on one alarm', async () => {
      const [a] = await alarmsOf(objects.blulog!);
      return a !== undefined && (await detail(a.id)).event_count === 2;
    }, 30_000);
    modem.deliver({ from: '+48600100300', text: 'BLULOG KONIEC ALARMU: Lodówka apteka T1 6,8°C 15.06.2025 13:10' });
    await waitUntil('its restore', async () => (await alarmsOf(objects.blulog!))[0]?.restore_count === 1, 30_000);
    const alarms = await alarmsOf(objects.blulog!);
    expect(alarms).toHaveLength(1);
    const d = await detail(alarms[0]!.id);
    expect(d.events.filter((e) => !e.restore).map((e) => [e.payload.value, e.payload.threshold, e.payload.sensor_time])).toEqual(
      expect.arrayContaining([[9.4, 8, Date.UTC(2025, 5, 15, 10, 30)], [9.9, 8, Date.UTC(2025, 5, 15, 10, 40)]]));
  });

  it('an unrecognised SMS from an unknown sender opens the "unrecognised SMS" alarm on the unknown-senders object, its text in full', async () => {
    const text = 'Dzień dobry, proszę o kontakt w sprawie czujnika.\nPozdrawiam  ';
    modem.deliver({ from: '+48511222333', text });
    const gateway = (await env.pool.query<{ id: number }>("SELECT id FROM objects WHERE code = 'SMS-UNKNOWN'")).rows[0]!.id;
    await waitUntil('the unrecognised SMS alarm', async () => (await alarmsOf(gateway)).some((a) => a.category === 'unclassified-sms'), 30_000);
    const a = (await alarmsOf(gateway)).find((x) => x.category === 'unclassified-sms')!;
    expect(a).toMatchObject({ severity: 'WARNING', title: 'Unrecognised SMS (unknown:+48511222333)' });
    const d = await detail(a.id);
    expect(d.object_code).toBe('SMS-UNKNOWN');
    expect(d.events[0]!.payload).toMatchObject({ kind: 'UNCLASSIFIED', sender: '+48511222333', raw_text: text });
  });

  it('a long SMS whose middle part never arrives is emitted after the timeout as what arrived, flagged partial', async () => {
    const text = `Efento: raport dobowy. ${'Czujnik w normie. '.repeat(20)}Koniec raportu.`;
    const d = modem.deliver({ from: '+48600100200', text, encoding: 'gsm7', drop: [2] });
    expect(d.parts).toBe(3);
    const isIt = (e: { partial: boolean; sender: string; raw_text: string }) => e.partial && e.sender === '+48600100200' && e.raw_text.startsWith('Efento: raport dobowy.');
    await tail.waitFor('the partial message', (items) => items.some(isIt), 30_000);
    expect(tail.items.filter((x) => x.partial && !isIt(x))).toEqual([]);
    const e = tail.items.find(isIt)!;
    expect(e.kind).toBe('UNCLASSIFIED');
    expect(text.startsWith(e.raw_text.slice(0, 100))).toBe(true);
    expect(e.raw_text.length).toBeLessThan(text.length);
    expect(text.endsWith(e.raw_text.slice(-20))).toBe(true);
    await storeEmpty();
  });
});
