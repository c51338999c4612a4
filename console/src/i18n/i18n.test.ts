import { describe, expect, it } from 'vitest';
import { en } from './en.ts';
import { CATALOGUES, detectLang, formatWaiting, formatters, translate } from './index.ts';
import { pl } from './pl.ts';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('message catalogues', () => {
  it('Polish and English have exactly the same keys', () => {
    expect(Object.keys(pl).sort()).toEqual(Object.keys(en).sort());
    expect(Object.keys(en).length).toBeGreaterThan(150);
  });

  it('every message fills in the same placeholders in both languages, and none is empty', () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(pl[key]), key).toEqual(placeholders(en[key]));
      expect(pl[key].trim(), key).not.toBe('');
      expect(en[key].trim(), key).not.toBe('');
    }
  });

  it('the offline banner says what the specification says', () => {
    expect(pl['offline.banner']).toBe('⚠️ Tryb offline — dane mogą być nieaktualne');
    expect(CATALOGUES.pl).toBe(pl);
  });

  it('Polish for a Polish browser or none, English for another; a saved choice wins', () => {
    expect(detectLang(['pl-PL', 'en-US'], null)).toBe('pl');
    expect(detectLang([], null)).toBe('pl');
    expect(detectLang(['en-US', 'pl'], null)).toBe('en');
    expect(detectLang(['de-DE'], null)).toBe('en');
    expect(detectLang(['pl-PL'], 'en')).toBe('en');
  });

  it('fills placeholders and keeps unknown ones visible', () => {
    expect(translate('en', 'queue.count', { n: 3 })).toBe('3 alarms');
    expect(translate('pl', 'detail.title', {})).toBe('Alarm nr {id}');
  });

  it('times in Europe/Warsaw and numbers in the user\'s locale, whatever the machine\'s zone', () => {
    const t = Date.UTC(2026, 0, 15, 12, 0, 0); // 13:00 in Warsaw (CET)
    expect(formatters('pl').time(t)).toBe('13:00:00');
    expect(formatters('en').dateTime(Date.UTC(2026, 6, 1, 22, 30))).toContain('00:30'); // CEST: next day
    expect(formatters('pl').number(12345.5)).toBe('12\u00a0345,5'); // a no-break space groups thousands
    expect(formatters('en').number(12345.5)).toBe('12,345.5');
  });

  it('"waiting for" runs as m:ss, then h:mm:ss', () => {
    expect(formatWaiting(0)).toBe('0:00');
    expect(formatWaiting(65_400)).toBe('1:05');
    expect(formatWaiting(3_725_000)).toBe('1:02:05');
    expect(formatWaiting(-5)).toBe('0:00');
  });
});
