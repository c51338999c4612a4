import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSensorDirectory, sameSender, type SensorEntry } from './directory.ts';
import { efentoAlertEvent } from './efento.ts';
import { eventIdOf, interpretSms, modemEvent, smsDedupKey, undecodableSms } from './interpret.ts';
import { parseTemplates } from './templates.ts';

const templates = parseTemplates(readFileSync(new URL('../../../config/sms-templates.yaml', import.meta.url), 'utf8'), { where: 't', timeZone: 'Europe/Warsaw', sameSender });
const sensors: SensorEntry[] = [
  { sensorRef: '282C02A1B2C3', sender: '+48600100200', name: 'Chłodnia 1', vendor: 'efento', template: null, aliases: [] },
  { sensorRef: '282C02A1B2C4', sender: '+48600100200', name: 'Mroźnia', vendor: 'efento', template: null, aliases: ['Mroźnia główna'] },
  { sensorRef: '1234567', sender: '+48600100300', name: 'Lodówka apteka T1', vendor: 'blulog', template: null, aliases: [] },
  { sensorRef: '*', sender: '*', name: 'Unknown SMS senders', vendor: 'other', template: null, aliases: [] },
];
const ctx = { templates, directory: createSensorDirectory(sensors), timeZone: 'Europe/Warsaw' };
const sms = (sender: string, text: string, over = {}) => ({ sender, text, smscTimeMs: Date.UTC(2025, 5, 15, 10, 31), partial: false, observedAtMs: 5, ...over });

describe('from SMS to SmsEvent', () => {
  it('an Efento alarm and its restore (named only) are about the same sensor', () => {
    const alarm = interpretSms(sms('+48600100200', 'Efento: ALARM Chłodnia 1 (282C02A1B2C3) temperatura 9,1°C powyżej progu 8,0°C 2025-06-15 12:30'), ctx);
    expect(alarm).toMatchObject({ kind: 'TEMPERATURE_ALARM', sensor_id: '282C02A1B2C3', value: 9.1, threshold: 8, unit: '°C', direction: 'HIGH', template: 'efento-temperature-alarm', sensor_time: Date.UTC(2025, 5, 15, 10, 30) });
    const restore = interpretSms(sms('48600100200', 'Efento: Koniec alarmu Chłodnia 1: temperatura 7,6°C'), ctx);
    expect(restore).toMatchObject({ kind: 'TEMPERATURE_RESTORE', sensor_id: '282C02A1B2C3', value: 7.6, sensor_time: Date.UTC(2025, 5, 15, 10, 31) });
  });

  it('finds a sensor by alias, and a Blulog logger by name and by serial', () => {
    expect(interpretSms(sms('+48600100200', 'Efento: Koniec alarmu Mroźnia główna: temperatura -19°C'), ctx).sensor_id).toBe('282C02A1B2C4');
    expect(interpretSms(sms('+48600100300', 'BLULOG ALARM: Lodówka apteka T1 9,4°C > max 8,0°C'), ctx).sensor_id).toBe('1234567');
    expect(interpretSms(sms('+48600100300', 'BLULOG: Niski poziom baterii rejestratora 1234567'), ctx)).toMatchObject({ kind: 'LOW_BATTERY', sensor_id: '1234567' });
  });

  it('an SMS no template knows is UNCLASSIFIED with its exact text: on its sender\'s only sensor, else unknown', () => {
    const text = 'Dzień dobry,\nproszę o kontakt  ';
    expect(interpretSms(sms('+48600100300', text), ctx)).toMatchObject({ kind: 'UNCLASSIFIED', sensor_id: '1234567', raw_text: text, template: null });
    expect(interpretSms(sms('+48600999888', text), ctx)).toMatchObject({ kind: 'UNCLASSIFIED', sensor_id: 'unknown:+48600999888', raw_text: text });
    // A recognised alarm of a sensor nobody registered is still a temperature alarm, for the unknown-senders object.
    expect(interpretSms(sms('+48600999888', 'Efento: ALARM X (AABBCCDDEEFF) temperatura 9°C powyżej progu 8°C'), ctx))
      .toMatchObject({ kind: 'TEMPERATURE_ALARM', sensor_id: 'unknown:+48600999888:aabbccddeeff' });
  });

  it('the same message read twice is one identity; another time stamp or text is another', () => {
    const a = interpretSms(sms('+48600100200', 'x'), ctx);
    expect(interpretSms(sms('+48600100200', 'x', { observedAtMs: 99 }), ctx)).toMatchObject({ dedup_key: a.dedup_key, event_id: a.event_id });
    expect(smsDedupKey({ sender: '+48600100200', text: 'x', smscTimeMs: 1, partial: false })).not.toBe(a.dedup_key);
    expect(smsDedupKey({ sender: '+48600100200', text: 'x ', smscTimeMs: Date.UTC(2025, 5, 15, 10, 31), partial: false })).not.toBe(a.dedup_key);
    expect(eventIdOf(a.dedup_key)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('an undecodable PDU and the modem\'s own state are events too', () => {
    expect(undecodableSms('07FFEE', 'bad', 1)).toMatchObject({ kind: 'UNCLASSIFIED', raw_text: '07FFEE', sender: 'unknown' });
    expect(modemEvent('MODEM_DOWN', 1000, 'port gone', 2)).toMatchObject({ kind: 'MODEM_DOWN', sensor_id: 'modem', dedup_key: 'sms:modem:down:1000' });
    expect(modemEvent('MODEM_RESTORED', 1000, 'ok', 3).dedup_key).toBe('sms:modem:restored:1000');
  });
});

describe('Efento Cloud alert webhooks', () => {
  const dir = createSensorDirectory([{ sensorRef: '282C02A1B2C3', sender: 'efento-cloud', name: 'Chłodnia 1', vendor: 'efento', template: null, aliases: ['Test'] }]);
  const body = { createdAt: '2023-04-25 09:07:00', neutralizedAt: null, organizationName: 'Test_org', locationName: 'Test', ruleName: 'test_above', ruleCondition: 'MORE_THAN', ruleParameters: ['TEMPERATURE'], ruleType: 'MEASUREMENT_MEASUREMENT_THRESHOLD' };

  it('activation is a temperature alarm, deactivation its restore, with the body as raw text', () => {
    const raw = JSON.stringify(body);
    const on = efentoAlertEvent(body, raw, dir, 10);
    expect(on).toMatchObject({ kind: 'TEMPERATURE_ALARM', sensor_id: '282C02A1B2C3', direction: 'HIGH', raw_text: raw, sensor_time: Date.UTC(2023, 3, 25, 9, 7), sender: 'efento-cloud' });
    const off = efentoAlertEvent({ ...body, neutralizedAt: '2023-04-25 09:37:00' }, raw, dir, 11);
    expect(off).toMatchObject({ kind: 'TEMPERATURE_RESTORE', sensor_id: '282C02A1B2C3' });
    expect(off.dedup_key).not.toBe(on.dedup_key);
    expect(efentoAlertEvent(body, raw, dir, 99).dedup_key).toBe(on.dedup_key); // Efento retrying the same call
  });

  it('battery and connection rules map to their kinds; anything else is UNCLASSIFIED', () => {
    expect(efentoAlertEvent({ ...body, ruleType: 'LOW_BATTERY', ruleParameters: [] }, '{}', dir, 1).kind).toBe('LOW_BATTERY');
    expect(efentoAlertEvent({ ...body, ruleType: 'LOST_CONNECTION', ruleParameters: [], neutralizedAt: '2023-04-25 10:00:00' }, '{}', dir, 1).kind).toBe('CONNECTION_RESTORED');
    expect(efentoAlertEvent({ ...body, ruleParameters: ['HUMIDITY'] }, '{}', dir, 1).kind).toBe('UNCLASSIFIED');
    expect(efentoAlertEvent({ ...body, locationName: 'Elsewhere' }, '{}', dir, 1).sensor_id).toBe('unknown:efento-cloud:elsewhere');
  });
});
