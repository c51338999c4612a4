import type { Logger } from './logger.ts';

/**
 * At most `perMinute` lines of each kind in a minute from one source (a panel, a modem): bad input arriving
 * endlessly must not turn into endless log lines. What is held back is counted (`onSuppressed`, for a metric)
 * and said once when the minute is over, in one line per kind.
 */
export function createLogBudget(o: { perMinute: number; log: Logger; onSuppressed?: (kind: string, n: number) => void; now?: () => number }) {
  const now = o.now ?? Date.now;
  let windowStart = now();
  const used = new Map<string, number>();
  const held = new Map<string, number>();

  function roll(t: number): void {
    if (t - windowStart < 60_000) return;
    for (const [kind, n] of held) o.log.warn({ kind, suppressed: n }, 'similar log lines held back in the last minute (counted in metrics)');
    held.clear();
    used.clear();
    windowStart = t;
  }

  return {
    /** True when a line of this kind may be written now; false means it was counted instead. */
    allow(kind: string): boolean {
      roll(now());
      const n = (used.get(kind) ?? 0) + 1;
      used.set(kind, n);
      if (n <= o.perMinute) return true;
      held.set(kind, (held.get(kind) ?? 0) + 1);
      o.onSuppressed?.(kind, 1);
      return false;
    },
    /** Says what was held back so far (at stop, so nothing goes unsaid). */
    flush(): void { roll(Infinity); },
  };
}

export type LogBudget = ReturnType<typeof createLogBudget>;
