import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogBudget } from './log-budget.ts';
import { createLogger } from './logger.ts';

describe('log budget', () => {
  it('lets perMinute lines of a kind through, counts the rest, and says how many once the minute is over', () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('t', 'info', new Writable({ write(c: Buffer, _e, done) { lines.push(JSON.parse(c.toString()) as Record<string, unknown>); done(); } }));
    let t = 0;
    const counted: Record<string, number> = {};
    const budget = createLogBudget({ perMinute: 3, log, now: () => t, onSuppressed: (k, n) => { counted[k] = (counted[k] ?? 0) + n; } });
    const allowed = Array.from({ length: 1000 }, () => budget.allow('frame rejected')).filter(Boolean).length;
    expect(allowed).toBe(3);
    expect(budget.allow('poll failed')).toBe(true); // another kind has its own budget
    expect(counted).toEqual({ 'frame rejected': 997 });
    expect(lines).toEqual([]);
    t = 60_000;
    expect(budget.allow('frame rejected')).toBe(true);
    expect(lines).toEqual([expect.objectContaining({ kind: 'frame rejected', suppressed: 997 })]);
  });
});
