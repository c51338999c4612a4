import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch {
    // aborted: the caller checks its own state
  }
}

/**
 * How a backoff step is randomised, so that clients which failed together do not retry together:
 * `under` — a random 50–100 % of the step (never above the cap); `around` — the step ±25 % (its mean is
 * the step); `none` — the step itself.
 */
export type Jitter = 'under' | 'around' | 'none';

/** Exponential backoff: base·2^attempt capped at max, then jittered (by default a random 50–100 % of it). */
export function backoffMs(attempt: number, baseMs = 1000, maxMs = 30_000, random = Math.random, jitter: Jitter = 'under'): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  switch (jitter) {
    case 'under': return Math.round(step / 2 + random() * (step / 2));
    case 'around': return Math.round(step * (0.75 + random() * 0.5));
    case 'none': return step;
  }
}

/**
 * A token bucket of `perSecond` operations: each call takes a token and says whether one was there. Holds
 * at most one second's worth, so a burst after a quiet spell is served at once.
 */
export function tokenBucket(perSecond: number, now: () => number = () => performance.now()): () => boolean {
  let tokens = perSecond;
  let at = now();
  return () => {
    const t = now();
    tokens = Math.min(perSecond, tokens + ((t - at) / 1000) * perSecond);
    at = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}
