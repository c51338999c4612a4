import { inTransaction, type Pool, type PoolClient } from '../platform/index.ts';

/** Which partition of which consumer group a stored offset belongs to. */
export interface PartitionKey { groupId: string; topic: string; partition: number }

/**
 * Where a transactional consumer keeps each partition's next offset, and the transaction its effects and
 * that offset are written in together. `transact` hands `fn` the transaction and the offset stored so far
 * (-1: none), and stores `next` (never lowering it) when `fn` succeeds — all or nothing.
 */
export interface ConsumerStore<Tx> {
  stored(groupId: string, topics: readonly string[]): Promise<{ topic: string; partition: number; next: number }[]>;
  transact<R>(key: PartitionKey, next: number, fn: (tx: Tx, storedNext: number) => Promise<R>): Promise<R>;
}

/**
 * The system of record: `consumer_offsets`, locked for the transaction (two members briefly holding one
 * partition during a rebalance serialize here and the second applies nothing twice).
 */
export function pgStore(pool: Pool): ConsumerStore<PoolClient> {
  return {
    async stored(groupId, topics) {
      const { rows } = await pool.query<{ topic: string; partition: number; next_offset: number }>(
        'SELECT topic, partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = ANY($2::text[])', [groupId, topics]);
      return rows.map((r) => ({ topic: r.topic, partition: r.partition, next: r.next_offset }));
    },
    transact(key, next, fn) {
      return inTransaction(pool, async (db) => {
        const stored = await db.query<{ next_offset: number }>(
          'SELECT next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE', [key.groupId, key.topic, key.partition]);
        const result = await fn(db, stored.rows[0]?.next_offset ?? -1);
        await db.query(
          `INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
           ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = GREATEST(consumer_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()`,
          [key.groupId, key.topic, key.partition, next]);
        return result;
      });
    },
  };
}

/**
 * Offsets in memory, for a consumer whose effects are in memory too (replay's what-if): the same consumer,
 * the same exactly-once bookkeeping, no database.
 */
export function memoryStore(): ConsumerStore<undefined> {
  const offsets = new Map<string, number>();
  const id = (k: PartitionKey) => `${k.groupId}\u0000${k.topic}\u0000${k.partition}`;
  return {
    stored(groupId, topics) {
      const out: { topic: string; partition: number; next: number }[] = [];
      for (const [k, next] of offsets) {
        const [g, topic, partition] = k.split('\u0000');
        if (g === groupId && topics.includes(topic!)) out.push({ topic: topic!, partition: Number(partition), next });
      }
      return Promise.resolve(out);
    },
    async transact(key, next, fn) {
      const storedNext = offsets.get(id(key)) ?? -1;
      const result = await fn(undefined, storedNext);
      offsets.set(id(key), Math.max(storedNext, next));
      return result;
    },
  };
}
