import { panelStateChannel, type Logger, type Redis } from '../../../platform/index.ts';

/**
 * Live-state writes of all panels (`panel:{id}:state` hash fields), merged per key and sent as one Redis
 * pipeline every `flushMs`: with 500 panels changing every second that is a few pipelines instead of
 * hundreds of round trips, and two changes of one panel within the window cost one HSET. A write saved
 * with `announce` is announced on the panel-state channel (after the HSET, in the same pipeline), so the
 * gateway pushes the panel's state to operators at once.
 */
export function createLiveWriter(redis: Redis, log: Logger, flushMs = 50) {
  let queued = new Map<string, { fields: Record<string, string>; announce: number | undefined; waiters: (() => void)[] }>();
  let timer: NodeJS.Timeout | undefined;
  const channel = panelStateChannel(redis);

  async function flush(): Promise<void> {
    timer = undefined;
    const batch = queued;
    queued = new Map();
    if (batch.size === 0) return;
    const p = redis.pipeline();
    for (const [key, q] of batch) {
      p.hset(key, q.fields);
      if (q.announce !== undefined) p.publish(channel, String(q.announce));
    }
    try {
      const results = (await p.exec()) ?? [];
      const failed = results.filter(([err]) => err).length;
      if (failed > 0) log.warn({ failed }, 'live state not written to Redis');
    } catch (err) {
      log.warn({ err: (err as Error).message, panels: batch.size }, 'live state not written to Redis');
    }
    for (const q of batch.values()) for (const w of q.waiters) w();
  }

  return {
    /** Resolves once written (or given up on: live state is best effort). `announce`: the panel id to announce. */
    save(key: string, fields: Record<string, string>, announce?: number): Promise<void> {
      return new Promise((resolve) => {
        const q = queued.get(key);
        if (q) {
          Object.assign(q.fields, fields);
          q.announce ??= announce;
          q.waiters.push(resolve);
        } else {
          queued.set(key, { fields: { ...fields }, announce, waiters: [resolve] });
        }
        timer ??= setTimeout(() => void flush(), flushMs);
      });
    },
    async close(): Promise<void> {
      clearTimeout(timer);
      await flush();
    },
  };
}
