export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failures: number;
  /** How long it stays open before one trial call is let through. */
  openMs: number;
  /** Deadline of one call; a call that takes longer counts as a failure. */
  timeoutMs: number;
  now?: () => number;
  onChange?: (state: BreakerState) => void;
}

/**
 * A circuit breaker around a flaky dependency: after `failures` failures in a row it opens and `call`
 * goes straight to the fallback; after `openMs` one trial call is let through (half-open), whose success
 * closes it again and whose failure re-opens it for another `openMs`.
 */
export function createBreaker(opts: BreakerOptions) {
  const now = opts.now ?? Date.now;
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let trial = false;

  const set = (s: BreakerState) => { if (s !== state) { state = s; opts.onChange?.(s); } };

  function withTimeout<T>(p: Promise<T>): Promise<T> {
    let t: NodeJS.Timeout | undefined;
    return Promise.race([p, new Promise<never>((_, reject) => { t = setTimeout(() => reject(new Error(`timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs); })])
      .finally(() => clearTimeout(t));
  }

  return {
    get state(): BreakerState {
      if (state === 'open' && now() - openedAt >= opts.openMs) return 'half-open';
      return state;
    },
    /** Runs `primary` unless the breaker is open; the fallback gets the reason. */
    async call<T>(primary: () => Promise<T>, fallback: (reason: Error) => Promise<T>): Promise<T> {
      if (state === 'open') {
        if (now() - openedAt < opts.openMs || trial) return fallback(new Error('circuit open'));
        trial = true;
        set('half-open');
      }
      try {
        const out = await withTimeout(primary());
        failures = 0;
        trial = false;
        set('closed');
        return out;
      } catch (err) {
        failures++;
        trial = false;
        if (state === 'half-open' || failures >= opts.failures) {
          openedAt = now();
          set('open');
        }
        return fallback(err as Error);
      }
    },
  };
}

export type Breaker = ReturnType<typeof createBreaker>;
