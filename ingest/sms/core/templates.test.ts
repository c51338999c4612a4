import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sameSender } from './directory.ts';
import { parseTemplates, recognise, templatesFor } from './templates.ts';
import { normalizeText, parseLocalTime } from './text.ts';

const FILE = new URL('../../../config/sms-templates.yaml', import.meta.url);
const opts = { where: 'sms-templates.yaml', timeZone: 'Europe/Warsaw', sameSender };
const one = (extra: string) => `templates:\n  - name: t1\n    vendor: other\n    kind: TEMPERATURE_ALARM\n${extra}`;

describe('vendor SMS templates (config/sms-templates.yaml)', () => {
  it('the committed file reads, and every template recognises its own examples with the expected fields', () => {
    const templates = parseTemplates(readFileSync(FILE, 'utf8'), opts);
    expect(templates.map((t) => t.vendor)).toEqual(expect.arrayContaining(['efento', 'blulog']));
    for (const t of templates) expect(t.examples.length, t.name).toBeGreaterThan(0);
  });

  it('an Efento and a Blulog alarm yield value, threshold, direction and the device time (Europe/Warsaw)', () => {
    const templates = parseTemplates(readFileSync(FILE, 'utf8'), opts);
    const ordered = templatesFor(templates, '+48600100200', [], sameSender);
    expect(recognise(ordered, 'Efento: ALARM Chłodnia 1 (282C02A1B2C3) temperatura 9,1°C powyżej progu 8,0°C 2025-06-15 12:30', 'Europe/Warsaw'))
      .toMatchObject({ kind: 'TEMPERATURE_ALARM', serial: '282c02a1b2c3', value: 9.1, threshold: 8, unit: '°C', direction: 'HIGH', timeMs: Date.UTC(2025, 5, 15, 10, 30) });
    expect(recognise(ordered, 'BLULOG ALARM: Lodówka apteka T1 9,4°C > max 8,0°C 15.06.2025 12:30', 'Europe/Warsaw'))
      .toMatchObject({ kind: 'TEMPERATURE_ALARM', sensor: 'lodowka apteka t1', value: 9.4, threshold: 8, direction: 'HIGH' });
    expect(recognise(ordered, 'Dzień dobry, proszę o kontakt', 'Europe/Warsaw')).toBeUndefined();
  });

  it('tries the templates a sensor names first, then those of its sender, then of its vendor', () => {
    const templates = parseTemplates(readFileSync(FILE, 'utf8'), opts);
    const blulogFirst = templatesFor(templates, '+48600100300', [{ template: null, vendor: 'blulog' }], sameSender);
    expect(blulogFirst[0]!.vendor).toBe('blulog');
    const named = templatesFor(templates, '+48600100300', [{ template: 'efento-low-battery', vendor: 'blulog' }], sameSender);
    expect(named[0]!.name).toBe('efento-low-battery');
  });

  it('refuses a template whose example it does not recognise, naming the template and the field', () => {
    const bad = one(`    pattern: '^alarm (?<value>\\d+)c$'\n    examples:\n      - text: 'ALARM 12C'\n        expect: { value: 13 }\n`);
    expect(() => parseTemplates(bad, opts)).toThrow(/template t1, example 1: value is 12, the example expects 13/);
    const none = one(`    pattern: '^alarm (?<value>\\d+)c$'\n    examples:\n      - text: 'hello'\n        expect: {}\n`);
    expect(() => parseTemplates(none, opts)).toThrow(/not recognised by any template \(normalised: "hello"\)/);
  });

  it('refuses unknown fields, unknown group names, bad regular expressions and templates without examples', () => {
    expect(() => parseTemplates(one(`    pattern: 'x'\n    examples: []\n`), opts)).toThrow(/examples: Array must contain at least 1/);
    expect(() => parseTemplates(one(`    pattern: '(?<temp>x)'\n    examples: [{ text: x, expect: {} }]\n`), opts)).toThrow(/unknown field\(s\) temp/);
    expect(() => parseTemplates(one(`    pattern: '(x'\n    examples: [{ text: x, expect: {} }]\n`), opts)).toThrow(/pattern: Invalid regular expression/);
    expect(() => parseTemplates(one(`    pattern: 'x'\n    colour: red\n    examples: [{ text: x, expect: {} }]\n`), opts)).toThrow(/colour: unknown field/);
    expect(() => parseTemplates('templates:\n  - name: t1\n    vendor: acme\n', opts)).toThrow(/vendor: must be one of efento, blulog, other/);
  });

  it('normalises as devices vary the text', () => {
    expect(normalizeText('  Temperatura   PRZEKROCZYŁA 9,1 °C  (st.C)  ')).toBe('temperatura przekroczyla 9.1 c (c)');
    expect(normalizeText('Zażółć gęślą jaźń')).toBe('zazolc gesla jazn');
  });

  it('reads device times in Europe/Warsaw, summer and winter', () => {
    expect(parseLocalTime('15.06.2025 12:30', 'Europe/Warsaw')).toBe(Date.UTC(2025, 5, 15, 10, 30));
    expect(parseLocalTime('2025/01/15 12:30:15', 'Europe/Warsaw')).toBe(Date.UTC(2025, 0, 15, 11, 30, 15));
    expect(parseLocalTime('32.01.2025 12:30', 'Europe/Warsaw')).toBeNull();
  });
});
