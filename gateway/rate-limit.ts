import type { Redis } from '../platform/index.ts';

/**
 * A fixed-window count in Redis, shared by every gateway: `take` counts one and says whether it is within
 * `max` for the current window. The count and its expiry are set in one MULTI, so parallel requests are
 * counted exactly (a burst of 40 gets no more than 40 sequential ones would).
 */
export async function takeFromWindow(redis: Redis, key: (window: number) => string, windowS: number, max: number): Promise<{ allowed: boolean; count: number }> {
  const k = key(Math.floor(Date.now() / (windowS * 1000)));
  const res = await redis.multi().incr(k).expire(k, windowS * 2).exec();
  const count = Number(res?.[0]?.[1] ?? Number.POSITIVE_INFINITY);
  return { allowed: count <= max, count };
}
