import { StamError, counter, gauge, panelStateKey, type Logger, type Pool, type Redis } from '../platform/index.ts';
import { createBreaker, type BreakerState } from './breaker.ts';

const m = {
  reads: counter('stam_gateway_panel_state_reads_total', 'panel state reads', ['source']),
  breaker: gauge('stam_gateway_panel_state_breaker_open', '1 while the Redis live-state circuit breaker is open'),
};

export interface PanelLiveState {
  panel_id: number;
  state: unknown;
  link: string | null;
  last_seen: string | null;
  /** True when this is not the live cache: the last state stored in PostgreSQL. */
  stale: boolean;
  source: 'redis' | 'postgres' | 'none';
}

const PERSIST_EVERY_MS = 10_000;

/**
 * Panel live state from Redis (`panel:{id}:state`, written by the driver: `state` JSON, `link`,
 * `last_seen` ms). Three failures in a row (or reads slower than the deadline) open a circuit breaker for
 * 30 s, during which the last state stored in PostgreSQL (`panel_state`) is served with `stale: true`.
 * Successful reads are copied to PostgreSQL (at most every 10 s per panel) so that fallback stays recent.
 */
export function createLiveState(opts: { redis: Redis; pool: Pool; log: Logger; failures: number; openMs: number; timeoutMs: number }) {
  const { redis, pool, log } = opts;
  const persistedAt = new Map<number, number>();
  const breaker = createBreaker({
    failures: opts.failures, openMs: opts.openMs, timeoutMs: opts.timeoutMs,
    onChange: (s: BreakerState) => {
      m.breaker.set(s === 'closed' ? 0 : 1);
      log.warn({ breaker: s }, s === 'open' ? 'Redis live state failing: serving PostgreSQL panel_state (stale)' : `live-state breaker ${s}`);
    },
  });

  async function fromPostgres(id: number): Promise<PanelLiveState> {
    let rows: { state: { state?: unknown; link?: string | null; last_seen?: number | null }; updated_at: Date }[];
    try {
      ({ rows } = await pool.query('SELECT state, updated_at FROM panel_state WHERE panel_id = $1', [id]));
    } catch (err) {
      throw new StamError('E_UNAVAILABLE', 'panel state unavailable: neither Redis nor PostgreSQL answered', { cause: err });
    }
    m.reads.inc({ source: 'postgres' });
    const r = rows[0];
    if (!r) return { panel_id: id, state: null, link: null, last_seen: null, stale: true, source: 'none' };
    const seen = r.state.last_seen ?? r.updated_at.getTime();
    return { panel_id: id, state: r.state.state ?? r.state, link: r.state.link ?? null, last_seen: new Date(seen).toISOString(), stale: true, source: 'postgres' };
  }

  async function persist(id: number, state: unknown, link: string | null, lastSeen: number | null): Promise<void> {
    if (Date.now() - (persistedAt.get(id) ?? 0) < PERSIST_EVERY_MS) return;
    persistedAt.set(id, Date.now());
    await pool.query(
      `INSERT INTO panel_state (panel_id, state, updated_at) VALUES ($1, $2, COALESCE(to_timestamp($3 / 1000.0), now()))
       ON CONFLICT (panel_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at WHERE panel_state.updated_at <= EXCLUDED.updated_at`,
      [id, { state, link, last_seen: lastSeen }, lastSeen]).catch((err: Error) => log.warn({ err: err.message, panel: id }, 'could not store panel state'));
  }

  async function fromRedis(id: number): Promise<PanelLiveState> {
    const h = await redis.hgetall(panelStateKey(id));
    if (!h.state) return fromPostgres(id); // never seen live (or expired): the stored copy, marked stale
    m.reads.inc({ source: 'redis' });
    const state = JSON.parse(h.state) as unknown;
    const lastSeen = h.last_seen ? Number(h.last_seen) : null;
    void persist(id, state, h.link ?? null, lastSeen);
    return { panel_id: id, state, link: h.link ?? null, last_seen: lastSeen === null ? null : new Date(lastSeen).toISOString(), stale: false, source: 'redis' };
  }

  return {
    get breakerState(): BreakerState { return breaker.state; },
    get(id: number): Promise<PanelLiveState> {
      return breaker.call(() => fromRedis(id), () => fromPostgres(id));
    },
  };
}

export type LiveState = ReturnType<typeof createLiveState>;
