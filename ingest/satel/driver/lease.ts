import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Redis } from '../../../platform/index.ts';

/**
 * Panel leases in Redis (FEATURE_HA_ENABLED): `lease:panel:{id}` holds the owner's token with a TTL
 * (SET NX PX); renew and release are Lua scripts that act only when the token is still ours; every
 * acquisition takes the next fencing number from `lease:panel:{id}:fencing` (INCR) in the same script,
 * and the driver stamps it on every event. A lease is trusted locally only until `validUntil` (measured
 * from before the command was sent, minus a margin), so a driver paused past the TTL stops acting
 * before another one can have taken over — and if it still slips through, its lower fencing number
 * marks what it sends as stale downstream and its cursor writes are refused.
 */
export interface Lease { panelId: number; token: string; fencing: number; validUntil: number }

// A lease still held under this driver's id by an earlier run of it (which crashed: a driver id is one process at a
// time) is taken back at once rather than after its TTL; a new fencing number fences whatever that run left in flight.
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, string.len(ARGV[3])) == ARGV[3] and held ~= ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'XX', 'PX', ARGV[2])
  return redis.call('INCR', KEYS[2])
end
return false`;
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type LeaseRedis = Redis & {
  satelLeaseAcquire(key: string, fencingKey: string, token: string, ttl: string, ownPrefix: string): Promise<number | null>;
  satelLeaseRenew(key: string, token: string, ttl: string): Promise<number>;
  satelLeaseRelease(key: string, token: string): Promise<number>;
};

const leaseKey = (panelId: number): string => `lease:panel:${panelId}`;
const fencingKey = (panelId: number): string => `lease:panel:${panelId}:fencing`;

interface LeaseManager {
  readonly ttlMs: number;
  /** Tries every panel in one round trip; returns the leases won. */
  acquire(panelIds: readonly number[]): Promise<Lease[]>;
  /** Extends the given leases in one round trip; those no longer ours are returned as lost. */
  renew(leases: readonly Lease[]): Promise<{ renewed: Lease[]; lost: Lease[] }>;
  release(lease: Lease): Promise<void>;
  /** Without HA: a fresh fencing number from the same counter, so fencing only ever grows per panel. */
  nextFencing(panelId: number): Promise<number>;
}

export function createLeaseManager(opts: { redis: Redis; driverId: string; ttlMs: number; now?: () => number }): LeaseManager {
  const redis = opts.redis as LeaseRedis;
  const now = opts.now ?? (() => performance.now());
  if (typeof redis.satelLeaseAcquire !== 'function') {
    redis.defineCommand('satelLeaseAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand('satelLeaseRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('satelLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
  }
  const ttl = String(opts.ttlMs);
  // A third of the TTL (at least 500 ms) of slack for clock rate, GC pauses and the round trip.
  const margin = Math.max(500, Math.floor(opts.ttlMs / 3));

  return {
    ttlMs: opts.ttlMs,
    async acquire(panelIds) {
      if (panelIds.length === 0) return [];
      const sentAt = now();
      const tokens = panelIds.map(() => `${opts.driverId}:${randomUUID()}`);
      const p = redis.pipeline() as unknown as { satelLeaseAcquire(...a: string[]): void; exec(): Promise<[Error | null, unknown][] | null> };
      panelIds.forEach((id, i) => p.satelLeaseAcquire(leaseKey(id), fencingKey(id), tokens[i]!, ttl, `${opts.driverId}:`));
      const results = (await p.exec()) ?? [];
      const won: Lease[] = [];
      results.forEach(([err, fencing], i) => {
        if (err || fencing === null || fencing === undefined) return;
        won.push({ panelId: panelIds[i]!, token: tokens[i]!, fencing: Number(fencing), validUntil: sentAt + opts.ttlMs - margin });
      });
      return won;
    },
    async renew(leases) {
      if (leases.length === 0) return { renewed: [], lost: [] };
      const sentAt = now();
      const p = redis.pipeline() as unknown as { satelLeaseRenew(...a: string[]): void; exec(): Promise<[Error | null, unknown][] | null> };
      for (const l of leases) p.satelLeaseRenew(leaseKey(l.panelId), l.token, ttl);
      const results = await p.exec();
      if (!results) throw new Error('lease renewal pipeline returned nothing');
      const renewed: Lease[] = [];
      const lost: Lease[] = [];
      results.forEach(([err, ok], i) => {
        const l = leases[i]!;
        if (err) throw err; // Redis trouble: the caller keeps the old deadline and retries
        if (Number(ok) === 1) {
          l.validUntil = sentAt + opts.ttlMs - margin;
          renewed.push(l);
        } else {
          lost.push(l);
        }
      });
      return { renewed, lost };
    },
    async release(lease) {
      await redis.satelLeaseRelease(leaseKey(lease.panelId), lease.token);
    },
    nextFencing: (panelId) => redis.incr(fencingKey(panelId)),
  };
}
