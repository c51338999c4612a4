import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch {
    // aborted: the caller checks its own state
  }
}

/** Exponential backoff with full jitter: base·2^attempt capped at max, then a random 50–100 % of it. */
export function backoffMs(attempt: number, baseMs = 1000, maxMs = 30_000, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
