import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateRules, type NormalizedEvent } from '../../domain/index.ts';
import { createWhatIf } from './what-if.ts';

const rules = validateRules(parse(readFileSync(new URL('../../config/alarm-rules.yaml', import.meta.url), 'utf8')));
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 1, 8);
const policy = { rules, bundlingWindowMs: 10 * MIN, flood: { threshold: 3, windowMs: 10 * MIN } };
const routes = { panels: new Map([[7, { objectId: 70, test: false, service: false }]]), sensors: new Map() };

let n = 0;
const ev = (kind: string, zone: number, at: number, more: Partial<NormalizedEvent> = {}): NormalizedEvent => ({
  eventId: `e${++n}`, dedupKey: `k${n}`, source: 'satel', kind, objectNumber: zone, panelId: 7, sensorRef: null, panelTimeMs: null,
  observedAtMs: at, fencing: 1, trace: null, payload: {}, ...more,
});

describe('what-if in memory', () => {
  it('counts alarms per category and object as the processor would open them', () => {
    const w = createWhatIf(policy, routes);
    w.apply([ev('ZONE_VIOLATION', 1, T0), ev('ZONE_VIOLATION', 1, T0 + MIN), ev('ZONE_ALARM', 2, T0 + 2 * MIN)]);
    w.apply([ev('ZONE_VIOLATION', 1, T0 + 30 * MIN)]);
    expect(w.tally).toMatchObject({ events: 4, recorded: 4, alarms: 3, byCategory: { 'zone-violation': 2, intrusion: 1 }, byObject: { 70: 3 } });
  });

  it('a record read twice, in the same chunk or a later one, is one event', () => {
    const w = createWhatIf(policy, routes);
    const a = ev('ZONE_ALARM', 1, T0);
    w.apply([a, { ...a }]);
    w.apply([{ ...a, eventId: 'other' }]);
    expect(w.tally).toMatchObject({ events: 3, recorded: 1, duplicates: 2, alarms: 1 });
  });

  it('an event of a driver that lost its lease is stale until the holder\'s copy arrives', () => {
    const w = createWhatIf(policy, routes);
    w.apply([ev('ZONE_ALARM', 1, T0, { fencing: 5 })]);
    const late = ev('ZONE_ALARM', 2, T0 + 1000, { fencing: 4 });
    w.apply([late]);
    expect(w.tally).toMatchObject({ stale: 1, alarms: 1 });
    w.apply([{ ...late, fencing: 6 }]);
    expect(w.tally).toMatchObject({ stale: 1, recorded: 3, alarms: 2 });
  });

  it('a flood alarm absorbs the object\'s alarms past the threshold; events of unknown panels open nothing', () => {
    const w = createWhatIf(policy, routes);
    w.apply([1, 2, 3, 4, 5].map((z) => ev('ZONE_ALARM', z, T0 + z * 1000)));
    w.apply([ev('ZONE_ALARM', 1, T0, { panelId: 99 })]);
    expect(w.tally).toMatchObject({ alarms: 4, floods: 1, flooded: 2, unrouted: 1 });
  });

  it('forgets state older than the windows without changing what later events do', () => {
    const w = createWhatIf(policy, routes);
    for (let h = 0; h < 48; h++) w.apply([ev('ZONE_VIOLATION', 1, T0 + h * 60 * MIN), ev('ZONE_VIOLATION', 1, T0 + h * 60 * MIN + MIN)]);
    expect(w.tally).toMatchObject({ events: 96, alarms: 48, floods: 0 });
  });
});
