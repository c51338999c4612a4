import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bundleKey, classify as classifyWith, floodBundleKey, isFlood, joinsAlarm, maxSeverity, nextStatus, validateRules, type ClassifiableEvent } from './index.ts';

const rules = validateRules(parse(readFileSync(new URL('../config/alarm-rules.yaml', import.meta.url), 'utf8')));
const classify = (e: ClassifiableEvent) => classifyWith(e, rules);

describe('classification', () => {
  it('a zone violation opens a WARNING zone-violation alarm titled with the zone', () => {
    expect(classify({ source: 'satel', kind: 'ZONE_VIOLATION', objectNumber: 7 })).toEqual({
      effect: 'open', category: 'zone-violation', severity: 'WARNING', title: 'Zone 7 violated',
    });
  });
  it('a zone alarm is CRITICAL and its restore is attached, not opened', () => {
    expect(classify({ source: 'satel', kind: 'ZONE_ALARM', objectNumber: 1 }).severity).toBe('CRITICAL');
    expect(classify({ source: 'satel', kind: 'ZONE_ALARM_RESTORE', objectNumber: 1 }).effect).toBe('restore');
  });
  it('panel log records are classified by class and restore flag', () => {
    expect(classify({ source: 'satel', kind: 'LOG_RECORD', objectNumber: 3, logClass: 0, logRestore: false }).effect).toBe('open');
    expect(classify({ source: 'satel', kind: 'LOG_RECORD', objectNumber: 3, logClass: 0, logRestore: true }).effect).toBe('restore');
    expect(classify({ source: 'satel', kind: 'LOG_RECORD', objectNumber: 3, logClass: 2 }).effect).toBe('state');
  });
  it('panel log records with a known event code get that code\'s category, before the class-wide rule', () => {
    const log = (logCode: number, logRestore = false, logClass = 0): ClassifiableEvent => ({ source: 'satel', kind: 'LOG_RECORD', objectNumber: 4, logClass, logCode, logRestore });
    expect(classify(log(110))).toEqual({ effect: 'open', category: 'fire', severity: 'CRITICAL', title: 'Fire alarm (panel log), zone 4' });
    expect(classify(log(111, true))).toMatchObject({ effect: 'restore', category: 'fire' });
    expect(classify(log(121, false, 2))).toMatchObject({ effect: 'open', category: 'duress', severity: 'CRITICAL' });
    expect(classify(log(122))).toMatchObject({ effect: 'open', category: 'panic' });
    expect(classify(log(151))).toMatchObject({ category: 'gas', severity: 'CRITICAL' });
    expect(classify(log(154))).toMatchObject({ category: 'technical', severity: 'WARNING' });
    expect(classify(log(145, false, 1))).toMatchObject({ category: 'tamper' });
    // A code no code rule names falls through to its class.
    expect(classify(log(131))).toMatchObject({ effect: 'open', category: 'intrusion' });
    expect(classify({ source: 'satel', kind: 'LOG_RECORD', objectNumber: 4, logClass: 0, logRestore: false })).toMatchObject({ category: 'intrusion' });
  });
  it('an event no rule knows still opens a visible WARNING alarm', () => {
    const c = classify({ source: 'satel', kind: 'SOMETHING_NEW', objectNumber: 2 });
    expect(c).toMatchObject({ effect: 'open', severity: 'WARNING', category: 'unknown' });
  });
});

describe('bundling', () => {
  const zone = { source: 'satel' as const, kind: 'ZONE_VIOLATION', objectNumber: 4 };
  it('a restore shares the bundle key of the alarm it restores', () => {
    const open = bundleKey(1, zone, classify(zone));
    const restore = { ...zone, kind: 'ZONE_RESTORE' };
    expect(bundleKey(1, restore, classify(restore))).toBe(open);
  });
  it('joins an open alarm within the window, not after it, and never a resolved one', () => {
    expect(joinsAlarm({ status: 'NEW', lastEventAtMs: 1000 }, 1000 + 600_000, 600_000)).toBe(true);
    expect(joinsAlarm({ status: 'CLAIMED', lastEventAtMs: 1000 }, 1001 + 600_000, 600_000)).toBe(false);
    expect(joinsAlarm({ status: 'RESOLVED', lastEventAtMs: 1000 }, 1001, 600_000)).toBe(false);
    expect(joinsAlarm(undefined, 1001, 600_000)).toBe(false);
  });
});

describe('lifecycle', () => {
  it('follows NEW → CLAIMED → ACKNOWLEDGED → RESOLVED → CLOSED and CLAIMED → NEW on release', () => {
    expect(nextStatus('claim', 'NEW')).toBe('CLAIMED');
    expect(nextStatus('release', 'CLAIMED')).toBe('NEW');
    expect(nextStatus('ack', 'CLAIMED')).toBe('ACKNOWLEDGED');
    expect(nextStatus('resolve', 'ACKNOWLEDGED')).toBe('RESOLVED');
    expect(nextStatus('close', 'RESOLVED')).toBe('CLOSED');
    expect(nextStatus('claim', 'CLAIMED')).toBeUndefined();
    expect(nextStatus('close', 'NEW')).toBeUndefined();
  });
});

describe('rules file', () => {
  it('is valid, and a bad rule is rejected naming the rule and field', () => {
    expect(rules.length).toBeGreaterThan(20);
    expect(() => validateRules([{ source: 'satel', kind: 'X', effect: 'open', category: 'c', severity: 'LOUD', title: 't' }])).toThrow(/rule 1: severity/);
    const base = { source: 'satel', kind: 'LOG_RECORD', effect: 'open', category: 'c', severity: 'INFO', title: 't' };
    expect(() => validateRules([base, { ...base, log_codes: [117, 110] }])).toThrow(/rule 2: log_codes/);
    expect(() => validateRules([{ ...base, log_codes: [1024, 1024] }])).toThrow(/rule 1: log_codes/);
    expect(() => validateRules([{ ...base, log_codes: 110 }])).toThrow(/rule 1: log_codes/);
    expect(() => validateRules([{ source: 'mars', kind: 'X' }])).toThrow(/rule 1: source/);
    expect(() => validateRules({})).toThrow(/list/);
  });
});

describe('floods', () => {
  const policy = { threshold: 10, windowMs: 600_000 };
  it('the eleventh alarm on an object within ten minutes is a flood, not the tenth', () => {
    const nine = Array.from({ length: 9 }, (_, i) => i * 1000);
    expect(isFlood(nine, 10_000, policy)).toBe(false);
    expect(isFlood([...nine, 9_500], 10_000, policy)).toBe(true);
  });
  it('alarms older than the window do not count', () => {
    const old = Array.from({ length: 10 }, (_, i) => i);
    expect(isFlood(old, 600_000 + 10, policy)).toBe(false);
  });
  it('a flood alarm has one key per object and keeps the worst severity', () => {
    expect(floodBundleKey(7)).toBe('7|flood');
    expect(maxSeverity('WARNING', 'CRITICAL')).toBe('CRITICAL');
    expect(maxSeverity('INFO', 'WARNING')).toBe('WARNING');
  });
});
