import { describe, expect, it } from 'vitest';
import { actionsFor, applyUpdate, visibleQueue, type Alarm } from './queue.ts';

const alarm = (id: number, over: Partial<Alarm> = {}): Alarm => ({
  alarm_id: id, version: 1, object_id: 1, panel_id: 1, source: 'satel', zone: 1, category: 'intrusion', severity: 'WARNING', status: 'NEW',
  owner: null, event_count: 1, restore_count: 0, first_event_at: 1000 + id, last_event_at: 1000 + id, test: false, service: false, flood: false,
  title: `alarm ${id}`, ...over,
});
const all = { mine: false, objectId: null, category: null, showTest: false };

describe('the queue', () => {
  it('sorts by severity, then the longest waiting first', () => {
    const rows = visibleQueue([alarm(1), alarm(2, { severity: 'CRITICAL', first_event_at: 9000 }), alarm(3, { severity: 'CRITICAL', first_event_at: 5000 }), alarm(4, { severity: 'INFO', first_event_at: 1 })], all, 'op');
    expect(rows.map((a) => a.alarm_id)).toEqual([3, 2, 1, 4]);
  });

  it('shows open alarms and my resolved ones; hides test and service alarms unless asked; filters by mine, object, category', () => {
    const list = [alarm(1), alarm(2, { status: 'CLOSED' }), alarm(3, { status: 'RESOLVED', owner: 'op' }), alarm(4, { status: 'RESOLVED', owner: 'other' }),
      alarm(5, { test: true }), alarm(6, { service: true }), alarm(7, { status: 'CLAIMED', owner: 'op', object_id: 2, category: 'fire' })];
    expect(visibleQueue(list, all, 'op').map((a) => a.alarm_id)).toEqual([1, 3, 7]);
    expect(visibleQueue(list, { ...all, showTest: true }, 'op').map((a) => a.alarm_id)).toEqual([1, 3, 5, 6, 7]);
    expect(visibleQueue(list, { ...all, mine: true }, 'op').map((a) => a.alarm_id)).toEqual([3, 7]);
    expect(visibleQueue(list, { ...all, objectId: 2 }, 'op').map((a) => a.alarm_id)).toEqual([7]);
    expect(visibleQueue(list, { ...all, category: 'fire' }, 'op').map((a) => a.alarm_id)).toEqual([7]);
  });

  it('an older or repeated version never overwrites a newer one', () => {
    const m = new Map<number, Alarm>();
    expect(applyUpdate(m, alarm(1, { version: 2, status: 'CLAIMED' }))).toBe(true);
    expect(applyUpdate(m, alarm(1, { version: 1 }))).toBe(false);
    expect(applyUpdate(m, alarm(1, { version: 2 }))).toBe(false);
    expect(m.get(1)?.status).toBe('CLAIMED');
  });

  it('offers what the API would accept: claim when NEW, the owner\'s next step, take over for supervisors only', () => {
    const op = { username: 'op', role: 'OPERATOR' };
    const sup = { username: 'sup', role: 'SUPERVISOR' };
    expect(actionsFor(alarm(1), op)).toEqual(['claim']);
    expect(actionsFor(alarm(1, { status: 'CLAIMED', owner: 'op' }), op)).toEqual(['ack', 'release']);
    expect(actionsFor(alarm(1, { status: 'CLAIMED', owner: 'x' }), op)).toEqual([]);
    expect(actionsFor(alarm(1, { status: 'CLAIMED', owner: 'x' }), sup)).toEqual(['takeover']);
    expect(actionsFor(alarm(1, { status: 'ACKNOWLEDGED', owner: 'op' }), op)).toEqual(['resolve']);
    expect(actionsFor(alarm(1, { status: 'RESOLVED', owner: 'op' }), op)).toEqual(['close']);
    expect(actionsFor(alarm(1), { username: 'a', role: 'ANALYST' })).toEqual([]);
    expect(actionsFor(alarm(1), null)).toEqual([]);
  });
});
