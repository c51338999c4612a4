import { StamError, type Logger, type Pool, type Redis } from '../../../platform/index.ts';
import type { LogCursor } from './log-reader.ts';

/**
 * The event-log cursor of each panel: the newest record the broker acknowledged. Written only after the
 * ack — Redis at once (`panel:{id}:cursor`), PostgreSQL (`panel_cursors`) coalesced every `flushMs` — and
 * read Redis first, PostgreSQL when Redis lost it. Both writes carry the lease fencing number and refuse
 * an older one, so a driver that lost its lease cannot move a newer driver's cursor back. Either store
 * may lag: the records after a lagging cursor are read again, and their dedup keys make that harmless.
 */
export interface CursorStore {
  load(panelId: number): Promise<LogCursor | undefined>;
  /**
   * Resolves once written to Redis (writes of all panels are batched for a few ms; PostgreSQL follows);
   * rejects with E_SATEL_LEASE when a newer driver (higher fencing) has written this panel's cursor.
   */
  save(panelId: number, cursor: LogCursor, fencing: number): Promise<void>;
  /** Writes the coalesced cursors to PostgreSQL now. */
  flush(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

const SAVE_LUA = `
local f = tonumber(redis.call('HGET', KEYS[1], 'fencing') or '-1')
if tonumber(ARGV[3]) < f then return 0 end
redis.call('HSET', KEYS[1], 'index', ARGV[1], 'key', ARGV[2], 'fencing', ARGV[3], 'at', ARGV[4])
return 1`;

type CursorRedis = Redis & { satelSaveCursor(key: string, index: string, rkey: string, fencing: string, at: string): Promise<number> };
type CursorPipeline = { satelSaveCursor(key: string, index: string, rkey: string, fencing: string, at: string): void; exec(): Promise<[Error | null, unknown][] | null> };
interface Queued { cursor: LogCursor; fencing: number; at: number; waiters: { resolve: () => void; reject: (e: Error) => void }[] }

const cursorKey = (panelId: number): string => `panel:${panelId}:cursor`;

export function createCursorStore(opts: { redis: Redis; pool: Pool; log: Logger; flushMs?: number; redisFlushMs?: number }): CursorStore {
  const { pool, log } = opts;
  const redis = opts.redis as CursorRedis;
  if (typeof redis.satelSaveCursor !== 'function') redis.defineCommand('satelSaveCursor', { numberOfKeys: 1, lua: SAVE_LUA });
  const dirty = new Map<number, { cursor: LogCursor; fencing: number; at: number }>();
  /** Redis writes of all panels go out together (one pipeline) every redisFlushMs; the latest per panel wins. */
  let queued = new Map<number, Queued>();
  let redisTimer: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  async function writeRedis(): Promise<void> {
    redisTimer = undefined;
    const batch = queued;
    queued = new Map();
    if (batch.size === 0) return;
    const entries = [...batch];
    let results: [Error | null, unknown][] | null = null;
    try {
      const p = redis.pipeline() as unknown as CursorPipeline;
      for (const [id, q] of entries) p.satelSaveCursor(cursorKey(id), String(q.cursor.index), q.cursor.key ?? '', String(q.fencing), String(q.at));
      results = await p.exec();
    } catch (err) {
      // Redis away: PostgreSQL still gets the cursors; reading resumes from there at worst.
      log.warn({ err: (err as Error).message, panels: entries.length }, 'cursors not written to Redis');
    }
    entries.forEach(([id, q], i) => {
      const [err, ok] = results?.[i] ?? [null, 1];
      if (err === null && Number(ok) === 0) {
        const e = new StamError('E_SATEL_LEASE', `panel ${id}: a driver with a newer lease (fencing above ${q.fencing}) owns the cursor`);
        for (const w of q.waiters) w.reject(e);
        return;
      }
      if (err) log.warn({ panel: id, err: err.message }, 'cursor not written to Redis');
      dirty.set(id, { cursor: q.cursor, fencing: q.fencing, at: q.at });
      for (const w of q.waiters) w.resolve();
    });
  }

  async function fromRedis(panelId: number): Promise<{ cursor: LogCursor; fencing: number } | undefined> {
    const h = await redis.hgetall(cursorKey(panelId));
    if (h.index === undefined) return undefined;
    return { cursor: { index: Number(h.index), key: h.key ? h.key : null }, fencing: Number(h.fencing ?? 0) };
  }

  async function fromPg(panelId: number): Promise<{ cursor: LogCursor; fencing: number } | undefined> {
    const { rows } = await pool.query<{ last_log_index: number | null; log_cursor_key: string | null; log_cursor_fencing: number }>(
      'SELECT last_log_index, log_cursor_key, log_cursor_fencing FROM panel_cursors WHERE panel_id = $1', [panelId]);
    const r = rows[0];
    if (!r || r.last_log_index === null) return undefined;
    return { cursor: { index: r.last_log_index, key: r.log_cursor_key }, fencing: r.log_cursor_fencing };
  }

  async function writePg(): Promise<void> {
    if (dirty.size === 0) return;
    const batch = [...dirty.entries()];
    dirty.clear();
    try {
      await pool.query(
        `INSERT INTO panel_cursors (panel_id, last_log_index, log_cursor_key, log_cursor_fencing, log_cursor_at)
         SELECT t.id, t.idx, t.key, t.fencing, to_timestamp(t.at / 1000.0)
           FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bigint[], $5::float8[]) AS t(id, idx, key, fencing, at)
           JOIN panels p ON p.id = t.id
         ON CONFLICT (panel_id) DO UPDATE SET last_log_index = EXCLUDED.last_log_index, log_cursor_key = EXCLUDED.log_cursor_key,
                log_cursor_fencing = EXCLUDED.log_cursor_fencing, log_cursor_at = EXCLUDED.log_cursor_at, updated_at = now()
          WHERE panel_cursors.log_cursor_fencing <= EXCLUDED.log_cursor_fencing`,
        [batch.map(([id]) => id), batch.map(([, d]) => d.cursor.index), batch.map(([, d]) => d.cursor.key), batch.map(([, d]) => d.fencing), batch.map(([, d]) => d.at)],
      );
    } catch (err) {
      // Keep them for the next flush unless a newer write for the panel arrived meanwhile.
      for (const [id, d] of batch) if (!dirty.has(id)) dirty.set(id, d);
      log.warn({ err: (err as Error).message, panels: batch.length }, 'could not write event-log cursors to PostgreSQL; retrying');
    }
  }

  const flush = (): Promise<void> => (flushing = flushing.then(writePg));

  return {
    async load(panelId) {
      const [r, p] = await Promise.all([
        fromRedis(panelId).catch((err: Error) => { log.warn({ panel: panelId, err: err.message }, 'cursor not readable from Redis; using PostgreSQL'); return undefined; }),
        fromPg(panelId),
      ]);
      if (r && p) return p.fencing > r.fencing ? p.cursor : r.cursor;
      return (r ?? p)?.cursor;
    },
    save(panelId, cursor, fencing) {
      return new Promise<void>((resolve, reject) => {
        const prev = queued.get(panelId);
        queued.set(panelId, { cursor, fencing, at: Date.now(), waiters: [...(prev?.waiters ?? []), { resolve, reject }] });
        redisTimer ??= setTimeout(() => void writeRedis(), opts.redisFlushMs ?? 50);
      });
    },
    flush,
    start() {
      timer = setInterval(() => void flush(), opts.flushMs ?? 1_000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      clearTimeout(redisTimer);
      await writeRedis();
      await flush();
    },
  };
}
